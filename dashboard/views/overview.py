"""The overview: simulation state and controls; figures, health and charts come from the JSON summary."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import TemplateView

from accounts.roles import CONTROL_SIMULATION
from chats.models import Chat
from dashboard.forms import ScaleForm
from dashboard.views.access import RoleRequiredMixin
from engine.selectors import chats_quiet_hours, settings_all
from engine.services import setting_set

QUIET_SHOWN = 20  # chats listed under quiet hours; the rest are counted
HEALTH_PARTS = (
    ("database", "Database"),
    ("redis", "Redis"),
    ("workers", "Workers"),
    ("cron", "Cron"),
    ("llm", "LLM"),
    ("telegram", "Telegram"),
)


class OverviewView(RoleRequiredMixin, TemplateView):
    """Simulation state with start/stop/scale; the page polls /api/metrics/summary for everything else."""

    template_name = "dashboard/overview.html"
    permission_required = "engine.view_turn"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        config = settings_all()
        context = super().get_context_data(**kwargs)
        context.setdefault("scale_form", ScaleForm(initial={"scale_factor": config.scale_factor}))
        context["simulation_active"] = config.simulation_active
        context["scale_factor"] = config.scale_factor
        context["can_control"] = self.user_may(CONTROL_SIMULATION)
        context["health_parts"] = HEALTH_PARTS
        quiet = chats_quiet_hours(now=timezone.now())
        titles = dict(Chat.objects.filter(pk__in=quiet).values_list("pk", "title")) if quiet else {}
        context["quiet_chats"] = sorted(((titles.get(pk, ""), pk, note) for pk, note in quiet.items()))[:QUIET_SHOWN]
        context["quiet_more"] = max(0, len(quiet) - QUIET_SHOWN)
        context["nav"] = "overview"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not self.user_may(CONTROL_SIMULATION):
            return self.handle_no_permission()
        action = request.POST.get("action")
        if action in ("start", "stop"):
            setting_set(key="simulation_active", value=action == "start")
            messages.success(request, "Simulation started." if action == "start" else "Simulation stopped.")
            return redirect("dashboard:overview")
        return self._scale(request)

    def _scale(self, request: HttpRequest) -> HttpResponse:
        form = ScaleForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(scale_form=form), status=400)
        setting_set(key="scale_factor", value=form.cleaned_data["scale_factor"])
        messages.success(request, f"Scale set to {form.cleaned_data['scale_factor']:g}.")
        return redirect("dashboard:overview")

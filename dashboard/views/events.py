"""Market events: inject one (now or scheduled) for some chats or all, see them all, cancel a scheduled one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from dashboard.forms_events import MarketEventForm
from dashboard.views.access import RoleRequiredMixin
from engine.models import MarketEvent
from engine.services.events import event_cancel, event_create

EVENTS_SHOWN = 50


class EventListView(RoleRequiredMixin, TemplateView):
    """The latest events, and (for operators) the form that injects one; ?chat=<id> preselects a chat."""

    template_name = "dashboard/events.html"
    permission_required = "engine.view_marketevent"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        may_add = self.user_may("engine.add_marketevent")
        chat = self.request.GET.get("chat", "")
        initial = {"chats": [int(chat)]} if chat.isdigit() else {}
        context.setdefault("form", MarketEventForm(initial=initial) if may_add else None)
        events = MarketEvent.objects.select_related("created_by").prefetch_related("chats")
        context["events"] = list(events[:EVENTS_SHOWN])
        context["can_change"] = self.user_may("engine.change_marketevent")
        context["nav"] = "events"
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if not self.user_may("engine.add_marketevent"):
            return self.handle_no_permission()
        form = MarketEventForm(request.POST)
        if form.is_valid():
            try:
                event = event_create(**form.event_values(), created_by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Event {event.status}: {event.text}")
                return redirect("dashboard:events")
        return self.render_to_response(self.get_context_data(form=form))


class EventCancelView(RoleRequiredMixin, View):
    """Cancel a scheduled event."""

    permission_required = "engine.change_marketevent"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        event = get_object_or_404(MarketEvent, pk=pk)
        if event_cancel(event=event):
            messages.success(request, f"Cancelled: {event.text}")
        else:
            messages.error(request, f"This event is {event.status}; only a scheduled one can be cancelled.")
        return redirect("dashboard:events")

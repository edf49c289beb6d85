"""Turns explorer: every turn newest first, filtered like the API (TurnFilter), with failure reasons up front."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.generic import DetailView, ListView

from config.forms import pretty_json
from dashboard.views.access import RoleRequiredMixin
from engine.api.views import TurnFilter
from engine.models import Turn

TURNS_PER_PAGE = 50
TIMESTAMPS = (
    ("created_at", "Created"),
    ("due_at", "Due (typing starts)"),
    ("generating_at", "Generating"),
    ("ready_at", "Ready"),
    ("send_at", "Send scheduled"),
    ("sending_at", "Sending"),
    ("finished_at", "Finished"),
    ("next_run_at", "Next job run"),
)


def style_filter_form(form: forms.Form) -> None:
    """Checkboxes for the status and kind choices, date-time pickers for the time range, shorter labels."""
    for name in ("status", "kind"):
        field: Any = form.fields[name]
        field.widget = forms.CheckboxSelectMultiple(choices=field.choices, attrs={"class": "choices"})
    for name, label in (("created_after", "Created after"), ("created_before", "Created before")):
        form.fields[name].widget.input_type = "datetime-local"
        form.fields[name].label = label
        form.fields[name].help_text = "UTC"
    has_error: Any = form.fields["has_error"].widget
    has_error.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]


class TurnListView(RoleRequiredMixin, ListView):
    """Turns newest first, 50 a page, filtered by status, kind, bot, chat, failure reason and time."""

    template_name = "dashboard/turn_list.html"
    permission_required = "engine.view_turn"
    paginate_by = TURNS_PER_PAGE
    context_object_name = "turns"
    filterset: TurnFilter

    def get_queryset(self) -> QuerySet[Turn]:
        turns = Turn.objects.select_related("bot", "chat").order_by("-created_at", "-id")
        data = self.request.GET.copy()
        data.pop("page", None)
        self.filterset = TurnFilter(data or None, queryset=turns, request=self.request)
        style_filter_form(self.filterset.form)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return turns.none()
        qs: QuerySet[Turn] = self.filterset.qs
        return qs

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        if self.filterset.is_bound and not self.filterset.is_valid():
            response.status_code = 400
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filterset.form
        context["filtered"] = self.filterset.is_bound
        context["nav"] = "turns"
        return context


class TurnDetailView(RoleRequiredMixin, DetailView):
    """One turn: status, failure reason, every timestamp, LLM usage, the full text and the prompt inputs."""

    template_name = "dashboard/turn_detail.html"
    permission_required = "engine.view_turn"
    context_object_name = "turn"
    queryset = Turn.objects.select_related("bot", "chat", "reply_to", "message")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        turn: Turn = self.object
        context["timestamps"] = [(label, getattr(turn, name)) for name, label in TIMESTAMPS]
        context["inputs_json"] = pretty_json(turn.inputs)
        context["nav"] = "turns"
        return context

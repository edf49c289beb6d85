"""Bots: the list, a new bot, and the bot page (profile, token, persona JSON, stances, holdings, memories, chats)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from bots.admin import masked_token_of
from bots.models import Bot, Holding, Memory, Stance
from chats.models import Membership
from dashboard.forms_bots import BotForm, BotMembershipAddForm, HoldingForm, MemoryForm, StanceForm
from dashboard.forms_common import add_service_errors, bound_or, make_read_only, without_help
from dashboard.forms_persona import asks_for_json
from dashboard.views.access import RoleRequiredMixin
from dashboard.views.cards import CardUploadForm
from dashboard.views.editing import EditPageMixin, Row, Section, membership_section
from dashboard.views.operator_tools import interview_context

STANCE_CHANGES_SHOWN = 50


def _updated(item: Any) -> str:
    return f"updated {timezone.localtime(item.updated_at):%Y-%m-%d %H:%M}"


def _memory_note(memory: Memory) -> str:
    last = f"{timezone.localtime(memory.last_used_at):%Y-%m-%d %H:%M}" if memory.last_used_at else "never"
    return f"used {memory.usage_count}× · last used {last}"


@dataclass(frozen=True)
class Knowledge:
    """One kind of thing a bot knows, edited in a section of the bot page."""

    kind: str
    noun: str
    title: str
    model: type[Stance] | type[Holding] | type[Memory]
    form: type[forms.ModelForm]
    unique_field: str
    note: Callable[[Any], str]

    def permission(self, verb: str) -> str:
        return f"bots.{verb}_{self.model._meta.model_name}"


KNOWLEDGE = {
    "stances": Knowledge("stances", "stance", "Stances", Stance, StanceForm, "topic", _updated),
    "holdings": Knowledge("holdings", "holding", "Holdings", Holding, HoldingForm, "symbol", _updated),
    "memories": Knowledge("memories", "memory", "Memories", Memory, MemoryForm, "", _memory_note),
}


class BotListView(RoleRequiredMixin, ListView):
    """Every bot with its chats and a summary of its persona."""

    template_name = "dashboard/bot_list.html"
    permission_required = "bots.view_bot"
    context_object_name = "bots"

    def get_queryset(self) -> QuerySet[Bot]:
        chats = Membership.objects.select_related("chat").order_by("chat__title")
        memberships = Prefetch("memberships", queryset=chats)
        return Bot.objects.annotate(stance_count=Count("stances", distinct=True)).prefetch_related(memberships)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["nav"] = "bots"
        context["can_add"] = self.user_may("bots.add_bot")
        return context


class BotCreateView(RoleRequiredMixin, TemplateView):
    """A new bot: name, token and persona; stances, holdings, memories and chats follow on its page."""

    template_name = "dashboard/bot_new.html"
    permission_required = "bots.add_bot"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", BotForm(json_view=asks_for_json(self.request.GET)))
        context.setdefault("card_form", CardUploadForm())
        context["nav"] = "bots"
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BotForm(request.POST)
        if form.is_valid():
            try:
                bot = form.save_through_service()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Bot {bot.name} created.")
                return redirect("dashboard:bot-detail", pk=bot.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class BotDetailView(EditPageMixin, DetailView):
    """A bot's page: its profile form and, below, its stances, holdings, memories, chats and stance history."""

    template_name = "dashboard/bot_detail.html"
    permission_required = "bots.view_bot"
    model = Bot
    context_object_name = "bot"
    page_url_name = "dashboard:bot-detail"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bound = kwargs.get("bound", {})
        bot: Bot = self.object
        form = bound_or(bound, "", lambda: BotForm(instance=bot, json_view=asks_for_json(self.request.GET)))
        if not self.user_may("bots.change_bot"):
            make_read_only(form)
            form.fields.pop("token", None)
            form.fields.pop("clear_token", None)
        context["form"] = form
        context["masked_token"] = masked_token_of(bot)
        context["sections"] = [self._knowledge(spec, bound) for spec in KNOWLEDGE.values()]
        context["sections"].append(self._memberships(bound))
        context["can_change"] = self.user_may("bots.change_bot")
        context["can_delete"] = self.user_may("bots.delete_bot")
        context |= interview_context(bot, may_ask=self.user_may("bots.change_bot"))
        context["stance_changes"] = list(bot.stance_changes.all()[:STANCE_CHANGES_SHOWN])
        context["nav"] = "bots"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Save the profile form (name, token, persona…)."""
        if not self.user_may("bots.change_bot"):
            return self.handle_no_permission()
        form = BotForm(request.POST, instance=self.get_object())
        return self.save_or_rerender(form, form.save_through_service, success="Bot saved.", anchor="profile")

    def _knowledge(self, spec: Knowledge, bound: dict[str, forms.BaseForm]) -> Section:
        bot: Bot = self.object
        can_change = self.user_may(spec.permission("change"))
        rows = []
        for item in spec.model._default_manager.filter(bot=bot):
            prefix = f"{spec.noun}-{item.pk}"
            form = bound.get(prefix) or without_help(spec.form(instance=item, prefix=prefix))
            if not can_change:
                make_read_only(form)
            url = reverse("dashboard:bot-knowledge-edit", args=[bot.pk, spec.kind, item.pk])
            rows.append(Row(form, f"{prefix}-form", url, note=spec.note(item)))
        can_add = self.user_may(spec.permission("add"))
        add = bound_or(bound, spec.noun, lambda: spec.form(prefix=spec.noun)) if can_add else None
        return Section(
            key=spec.kind,
            title=spec.title,
            noun=spec.noun,
            rows=rows,
            add_form=add,
            add_action=reverse("dashboard:bot-knowledge-add", args=[bot.pk, spec.kind]),
            can_change=can_change,
            can_delete=self.user_may(spec.permission("delete")),
            empty=f"No {spec.title.lower()} yet.",
            add_label=f"Add a {spec.noun}",
        )

    def _memberships(self, bound: dict[str, forms.BaseForm]) -> Section:
        bot: Bot = self.object
        memberships = list(bot.memberships.select_related("chat").order_by("chat__title"))

        def urls(membership: Membership | None) -> str:
            if membership is None:
                return reverse("dashboard:bot-membership-add", args=[bot.pk])
            return reverse("dashboard:bot-membership-edit", args=[bot.pk, membership.pk])

        def add_form() -> forms.BaseForm:
            return BotMembershipAddForm(instance=Membership(bot=bot), prefix="membership")

        return membership_section(self, memberships, bound=bound, add_form=add_form, urls=urls, show="chat")


class BotDeleteView(RoleRequiredMixin, View):
    """Delete a bot with its stances, holdings, memories, memberships and turns (its messages stay)."""

    permission_required = "bots.delete_bot"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("dashboard:bot-detail", pk=pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        bot = get_object_or_404(Bot, pk=pk)
        bot.delete()
        messages.success(request, f"Bot {bot.name} deleted.")
        return redirect("dashboard:bot-list")

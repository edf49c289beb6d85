"""Operators' LLM tools: interview a bot on its page, and draft personas for a brief, reviewed before they are saved."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from bots.drafts import DRAFT_LISTS, draft_save
from bots.models import Bot
from bots.symbols import suggested_symbols
from dashboard.forms_persona import PersonaFieldsMixin, asks_for_json
from dashboard.views.access import RoleRequiredMixin
from engine.services.interview import QUESTION_MAX, interview_ask
from engine.services.operator_calls import OperatorCallError
from engine.services.personas import MAX_COUNT, PersonaDraftsInvalid, personas_draft

INTERVIEWS_SHOWN = 10
DRAFTS_KEY = "persona_drafts"  # the drafts under review, in the operator's session (nothing is saved before)
JSON_FIELDS = ("persona", "emotion", "speed", *DRAFT_LISTS)


class InterviewForm(forms.Form):
    """The operator's question."""

    question = forms.CharField(
        max_length=QUESTION_MAX, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why are you bearish on BTC?"})
    )


def interview_context(bot: Bot, *, may_ask: bool) -> dict[str, Any]:
    """The bot page's interview section: its latest interviews and, for those who may ask, the question form."""
    return {
        "interviews": list(bot.interviews.select_related("asked_by")[:INTERVIEWS_SHOWN]),
        "interview_form": InterviewForm() if may_ask else None,
    }


class BotInterviewView(RoleRequiredMixin, View):
    """Ask the bot a question from its page; it answers privately (logged, never posted to a chat)."""

    permission_required = "bots.change_bot"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(reverse("dashboard:bot-detail", args=[pk]) + "#interviews")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        bot = get_object_or_404(Bot, pk=pk)
        form = InterviewForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Interview: " + " ".join(str(error) for error in form.errors["question"]))
        else:
            try:
                interview_ask(bot=bot, question=form.cleaned_data["question"], asked_by=request.user)
            except OperatorCallError as error:
                messages.error(request, f"{bot.name} could not answer: {error}")
            else:
                messages.success(request, f"{bot.name} answered (privately; nothing was posted).")
        return redirect(reverse("dashboard:bot-detail", args=[pk]) + "#interviews")


class BriefForm(forms.Form):
    """What to draft."""

    brief = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Who they are; a list after a colon gives one role each: "a crypto-heavy group: a retired banker, '
        'a student, a day trader".',
    )
    count = forms.IntegerField(min_value=1, max_value=MAX_COUNT, initial=5)
    language = forms.ChoiceField(choices=[("tr", "Turkish"), ("en", "English")], initial="tr")


class IndentedJSONField(forms.JSONField):
    """A JSON field shown indented, so a draft's parts are readable and editable."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, InvalidJSONInput):  # the submitted text, shown as typed
            return value
        return json.dumps(value, ensure_ascii=False, indent=1, cls=self.encoder)


class DraftForm(PersonaFieldsMixin, forms.Form):
    """One draft under review: name, username, persona fields (or their JSON), stances, holdings and memories."""

    documents = ("persona", "emotion", "speed")

    name = forms.CharField(max_length=100)
    username = forms.CharField(max_length=64, required=False)
    persona = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 8}))
    emotion = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 4}))
    speed = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 3}))
    stances = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 6}))
    holdings = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 3}))
    memories = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, json_view: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_persona_fields(json_view=json_view)

    @classmethod
    def of(cls, draft: dict[str, Any], index: int, *, json_view: bool = False) -> DraftForm:
        """An unbound form showing a draft (its JSON parts indented)."""
        initial = {"name": draft["name"], "username": draft.get("username", "")}
        initial |= {key: draft.get(key) for key in JSON_FIELDS}
        return cls(initial=initial, prefix=f"d{index}", json_view=json_view)

    @property
    def json_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.documents if name in self.fields]

    @property
    def other_fields(self) -> list[forms.BoundField]:
        """Name, username, stances, holdings and memories: the fields around the persona's."""
        return [self[name] for name in ("name", "username", *DRAFT_LISTS)]

    def save(self) -> Bot:
        """Create the bot of the edited draft; the schemas' errors are shown at their fields."""
        document = {name: self.cleaned_data[name] for name in ("name", "username", *DRAFT_LISTS)}
        try:
            return draft_save(document=document | self.persona_documents())
        except ValidationError as error:
            for message in error.messages:
                part = message.split(":", 1)[0].split(".")[1:2]
                field = part[0].split("[")[0] if part else ""
                self.add_error(field if field in self.fields else None, message)
            raise


class PersonaGenerateView(RoleRequiredMixin, TemplateView):
    """The brief: the LLM drafts complete personas for it, shown for review (nothing is saved yet)."""

    template_name = "dashboard/persona_generate.html"
    permission_required = "bots.add_bot"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", BriefForm())
        context["nav"] = "bots"
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BriefForm(request.POST)
        if form.is_valid():
            try:
                drafted = personas_draft(**form.cleaned_data)
            except PersonaDraftsInvalid as error:
                form.add_error(None, f"{error.args[0].split(':', 1)[0]}: " + "; ".join(error.errors[:10]))
            except OperatorCallError as error:
                form.add_error(None, str(error))
            else:
                request.session[DRAFTS_KEY] = drafted.drafts
                note = " (repaired once)" if drafted.repaired else ""
                messages.success(request, f"{len(drafted.drafts)} drafts by {drafted.provider}{note}: review them.")
                return redirect("dashboard:persona-review")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PersonaReviewView(RoleRequiredMixin, TemplateView):
    """The drafts under review, all editable in one form; each is saved on its own, or the checked ones at once."""

    template_name = "dashboard/persona_review.html"
    permission_required = "bots.add_bot"

    def drafts(self) -> list[dict[str, Any]]:
        drafts: list[dict[str, Any]] = self.request.session.get(DRAFTS_KEY, [])
        return drafts

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bound: dict[int, DraftForm] = kwargs.get("bound", {})
        json_view = asks_for_json(self.request.GET)
        context["forms"] = [
            (i, bound.get(i) or DraftForm.of(draft, i, json_view=json_view)) for i, draft in enumerate(self.drafts())
        ]
        context["symbol_suggestions"] = suggested_symbols()
        context["nav"] = "bots"
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        drafts = self.drafts()
        chosen = request.POST.getlist("selected") if "save_selected" in request.POST else []
        if not chosen:
            chosen = [request.POST.get("discard") or request.POST.get("draft", "")]
        indexes = sorted({int(text) for text in chosen if text.isdigit() and int(text) < len(drafts)})
        if not indexes:
            messages.error(request, "Check the drafts to save." if "save_selected" in request.POST else
                           "That draft is no longer under review.")  # fmt: skip
            return redirect("dashboard:persona-review")
        if "discard" in request.POST:
            self.keep_drafts_except(indexes)
            messages.success(request, f"Discarded {drafts[indexes[0]]['name']}.")
            return redirect("dashboard:persona-review")
        forms_by_index = {index: DraftForm(request.POST, prefix=f"d{index}") for index in indexes}
        saved = self.save_all(list(forms_by_index.values()))
        if saved is None:
            return self.render_to_response(self.get_context_data(bound=forms_by_index), status=400)
        self.keep_drafts_except(indexes)
        names = ", ".join(bot.name for bot in saved)
        messages.success(request, f"Saved {names}: add a token and chats on each bot's page.")
        return redirect("dashboard:persona-review")

    @staticmethod
    def save_all(draft_forms: list[DraftForm]) -> list[Bot] | None:
        """The bots of every draft, or None (and nothing saved) when any draft is invalid."""
        if not all([form.is_valid() for form in draft_forms]):  # every form validated, so all show their errors
            return None
        try:
            with transaction.atomic():
                return [form.save() for form in draft_forms]
        except ValidationError:
            return None

    def keep_drafts_except(self, indexes: list[int]) -> None:
        self.request.session[DRAFTS_KEY] = [draft for i, draft in enumerate(self.drafts()) if i not in indexes]

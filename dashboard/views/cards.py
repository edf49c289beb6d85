"""A new bot from a SillyTavern character card: the card's draft fills the new-bot form for review, nothing saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.views.generic import TemplateView

from bots.cards import CardError, card_draft
from dashboard.forms_bots import BotForm
from dashboard.views.access import RoleRequiredMixin

MAX_CARD_BYTES = 5 * 1024 * 1024


class CardUploadForm(forms.Form):
    """The character card to draft a persona from."""

    card = forms.FileField(label="Character card", help_text="SillyTavern V1/V2 JSON, or a PNG with the card in it.")

    def clean_card(self) -> Any:
        card = self.cleaned_data["card"]
        if card.size > MAX_CARD_BYTES:
            raise forms.ValidationError(f"The card is larger than {MAX_CARD_BYTES // 1024 // 1024} MB.")
        try:
            self.draft = card_draft(card.read())
        except CardError as error:
            raise forms.ValidationError(str(error)) from None
        return card


class BotFromCardView(RoleRequiredMixin, TemplateView):
    """POST a card: the new-bot page comes back with the draft in its form, to edit and create (or leave)."""

    template_name = "dashboard/bot_new.html"
    permission_required = "bots.add_bot"
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        upload = CardUploadForm(request.POST, request.FILES)
        context: dict[str, Any] = {"nav": "bots", "card_form": upload}
        if not upload.is_valid():
            return self.render_to_response(self.get_context_data(form=BotForm(), **context), status=400)
        draft = upload.draft
        context |= {"draft": draft, "card_form": CardUploadForm()}
        return self.render_to_response(self.get_context_data(form=BotForm(initial=draft.bot_fields()), **context))

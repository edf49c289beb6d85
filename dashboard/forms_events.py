"""The market event form: the same rules as the API (symbols by bots.symbols, intensity 0..1 or a level)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from chats.models import Chat
from engine.models import MarketEvent
from engine.services.events import INTENSITY_LEVELS, parse_symbols

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


class MarketEventForm(forms.Form):
    """What happened, what it touches, how hard, when and where."""

    text = forms.CharField(
        max_length=300, widget=forms.TextInput(attrs={"placeholder": "TCMB politika faizini 500 baz puan artırdı"})
    )
    symbols = forms.CharField(required=False, help_text="Comma-separated: THYAO, BTCUSDT, XAUUSD.")
    topics = forms.CharField(required=False, help_text="Comma-separated chat topics: Makro, FX.")
    direction = forms.ChoiceField(choices=MarketEvent.Direction.choices)
    intensity = forms.ChoiceField(choices=[(name, name) for name in INTENSITY_LEVELS], initial="medium")
    fire_at = forms.DateTimeField(
        required=False, widget=DATETIME_INPUT, label="Fire at", help_text="Empty: now. Server time zone."
    )
    chats = forms.ModelMultipleChoiceField(
        queryset=Chat.objects.order_by("title"), required=False, help_text="None chosen: every enabled chat."
    )

    def clean_symbols(self) -> list[str]:
        try:
            return parse_symbols(_listed(self.cleaned_data["symbols"]))
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    def clean_topics(self) -> list[str]:
        return _listed(self.cleaned_data["topics"])

    def event_values(self) -> dict[str, Any]:
        """The cleaned values as `event_create` takes them."""
        values = dict(self.cleaned_data)
        values["intensity"] = INTENSITY_LEVELS[values["intensity"]]
        return values

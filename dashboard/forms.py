"""Dashboard forms: each validates through the same service or schema as the API, so errors match."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from engine.runtime_settings import parse_setting


class ScaleForm(forms.Form):
    """The activity multiplier (the scale_factor runtime setting)."""

    scale_factor = forms.FloatField(label="Scale", help_text="Multiplies activity and divides delays (0 < x ≤ 50).")

    def clean_scale_factor(self) -> Any:
        try:
            return parse_setting("scale_factor", self.cleaned_data["scale_factor"])
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class MemberPostForm(forms.Form):
    """A message an operator writes in a sandbox chat as a named member."""

    sender_name = forms.CharField(label="Your name", max_length=100, initial="Operatör")
    text = forms.CharField(label="Message", max_length=4096, widget=forms.Textarea(attrs={"rows": 2}))

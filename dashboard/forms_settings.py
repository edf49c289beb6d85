"""Runtime settings form: one typed field per setting, each validated like the API (errors name the key)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from pydantic import TypeAdapter

from dashboard.forms_common import JSONTextField, json_textarea, prefix_errors_with_name
from engine.runtime_settings import SPECS, SettingSpec, parse_setting
from engine.services import settings_update


def json_type(spec: SettingSpec) -> str:
    """The setting's JSON type: boolean, integer, number, array or object."""
    return str(TypeAdapter(spec.type).json_schema().get("type", "object"))


def setting_field(spec: SettingSpec) -> forms.Field:
    """A form field of the setting's type; lists and objects are edited as JSON.

    Each field carries the value the page showed (a hidden initial), so a save stores only what the admin
    changed, never a stale value over a change made meanwhile (e.g. the simulation stopped from the overview).
    """
    options: dict[str, Any] = {
        "label": spec.key,
        "help_text": f"{spec.help} Default: {json.dumps(spec.default, ensure_ascii=False)}.",
        "show_hidden_initial": True,
    }
    kind = json_type(spec)
    if kind == "boolean":
        return forms.BooleanField(required=False, **options)
    if kind == "integer":
        return forms.IntegerField(**options)
    if kind == "number":
        return forms.FloatField(**options)
    return JSONTextField(widget=json_textarea(4 if kind == "array" else 5), **options)


class SettingsForm(forms.Form):
    """Every runtime setting; saving stores the changed ones all at once, or none when one is invalid."""

    def __init__(self, data: Any = None, *, values: dict[str, Any]) -> None:
        super().__init__(data, initial=values)
        for spec in SPECS:
            self.fields[spec.key] = setting_field(spec)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        return parse_settings(self, cleaned, [key for key in self.changed_data if key in cleaned])

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound:
            prefix_errors_with_name(self)

    def save_through_service(self) -> list[str]:
        """Store the changed settings in one transaction (settings_update validates again); returns their keys."""
        changed = {key: self.cleaned_data[key] for key in self.changed_data}
        if changed:
            settings_update(values=changed)
        return sorted(changed)


def parse_settings(form: forms.BaseForm, cleaned: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """Each of `keys` in `cleaned` parsed as its runtime setting's type; a value that is not is an error at its
    field (and leaves the cleaned data)."""
    for key in keys:
        try:
            cleaned[key] = parse_setting(key, cleaned[key])
        except ValidationError as error:
            form.add_error(key, error.messages)
    return cleaned

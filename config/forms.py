"""Shared admin form helpers: JSON fields edited and shown as readable, indented JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.html import format_html
from django.utils.safestring import SafeString


def pretty_json(value: Any) -> str:
    """Indented JSON that keeps Turkish letters readable (no \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, indent=2)


def pretty_json_html(value: Any) -> SafeString:
    """A read-only JSON value as an escaped <pre> block, for admin read-only fields."""
    return format_html('<pre class="json-value">{}</pre>', pretty_json(value))


class JsonTextarea(forms.Textarea):
    """A monospace box for JSON; styled by a stylesheet (the Content-Security-Policy forbids inline styles)."""

    class Media:
        css = {"all": ("bots/json-field.css",)}

    def __init__(self) -> None:
        super().__init__(attrs={"rows": 12, "cols": 80, "class": "json-field", "spellcheck": "false"})


class PrettyJSONField(forms.JSONField):
    """A JSON form field shown indented, whose parse errors say where the JSON is broken."""

    widget = JsonTextarea

    def to_python(self, value: Any) -> Any:
        if self.disabled:
            return value
        if value in self.empty_values and not self.required:
            # An emptied box of an optional field means its model default ([] or {}), never NULL.
            return self._default()
        if isinstance(value, str) and value.strip():
            self._check_syntax(value)
        return super().to_python(value)

    def _default(self) -> Any:
        # Model form fields get the model field's default as `initial` (a callable such as list or dict).
        return self.initial() if callable(self.initial) else copy.deepcopy(self.initial)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)

    def _check_syntax(self, value: str) -> None:
        try:
            json.loads(value, cls=self.decoder)
        except json.JSONDecodeError as error:
            raise ValidationError(
                "Enter valid JSON: %(reason)s at line %(line)s, column %(column)s.",
                code="invalid",
                params={"reason": error.msg, "line": error.lineno, "column": error.colno},
            ) from None


# Use in a ModelAdmin or an inline: `formfield_overrides = JSON_FORMFIELD_OVERRIDES`.
JSON_FORMFIELD_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.JSONField: {"form_class": PrettyJSONField},
}

"""Helpers shared by the dashboard's edit forms: JSON textareas, read-only forms, service errors shown inline."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from config.forms import PrettyJSONField


def json_textarea(rows: int = 10) -> forms.Textarea:
    """A monospace textarea for a JSON value (styled by the `json` class, no inline style)."""
    return forms.Textarea(attrs={"class": "json", "rows": rows, "spellcheck": "false"})


class JSONTextField(PrettyJSONField):
    """Indented JSON in a textarea; broken JSON gets an error saying where (line and column)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", json_textarea())
        super().__init__(*args, **kwargs)


def make_read_only(form: forms.BaseForm) -> forms.BaseForm:
    """Disable every field: the form then shows its values and ignores submitted data."""
    for field in form.fields.values():
        field.disabled = True
    return form


def without_help(form: forms.BaseForm) -> forms.BaseForm:
    """Drop the help texts (rows of saved items repeat the add form's fields; the add form keeps them)."""
    for field in form.fields.values():
        field.help_text = ""
    return form


def add_service_errors(form: forms.BaseForm, error: ValidationError, *, unique_field: str | None = None) -> None:
    """Show a service's ValidationError on the form: next to the field it names, else above the fields.

    Uniqueness errors name no field; `unique_field` says which field they belong next to.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        elif name == NON_FIELD_ERRORS and unique_field in form.fields:
            form.add_error(unique_field, errors)
        else:
            form.add_error(None, [f"{name}: {message}" for item in errors for message in item.messages])


def prefix_errors_with_name(form: forms.BaseForm) -> None:
    """Make every field error start with the field's name, as the API's errors do (`key: message`)."""
    for name, errors in list(form.errors.items()):
        if name not in form.fields:
            continue
        texts = [str(text) for text in errors]
        lines: list[str | Exception] = [text if text.startswith(f"{name}:") else f"{name}: {text}" for text in texts]
        form.errors[name] = form.error_class(lines, renderer=form.renderer)


def bound_or(bound: dict[str, Any], prefix: str, build: Any) -> Any:
    """The submitted (bound, with errors) form for this prefix when there is one, else a fresh one."""
    return bound[prefix] if prefix in bound else build()

"""Chat forms: the chat's fields, validated like the API (topics through their schema), and the runtime settings it
overrides; saved by the chat services."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from bots.schemas import validate_with
from chats.models import Chat, forum_threads_clean
from chats.schemas import Topics
from chats.services import chat_create, chat_update
from dashboard.forms_common import JSONTextField, json_textarea, prefix_errors_with_name
from dashboard.forms_settings import json_type, parse_settings
from engine.runtime_settings import OVERRIDABLE, SPEC_BY_KEY, RuntimeConfig, SettingSpec

CHAT_FIELDS = (
    "title", "transport", "telegram_chat_id", "language", "timezone", "cadence", "topics", "forum_threads",
    "is_enabled",
)  # fmt: skip


class ChatForm(forms.ModelForm):
    """A Telegram group or a sandbox chat."""

    class Meta:
        model = Chat
        fields = CHAT_FIELDS
        field_classes = {"topics": JSONTextField, "forum_threads": JSONTextField}
        widgets = {"topics": json_textarea(4), "forum_threads": json_textarea(6)}
        labels = {"is_enabled": "Enabled", "telegram_chat_id": "Telegram chat id"}
        help_texts = {
            "telegram_chat_id": "Telegram's chat id (e.g. -1001234567890); sandbox chats get a local id when empty.",
            "topics": 'A JSON list, e.g. ["BIST", "FX", "Kripto", "Makro"].',
            "forum_threads": "A forum's topics, learned from the group; set each one's chat topic so that proactive "
            'posts on it go there, e.g. [{"thread_id": 12, "name": "Kripto", "topic": "Kripto"}].',
            "timezone": "IANA name; active and prime hours are evaluated in it.",
        }

    def clean_topics(self) -> Any:
        return validate_with(Topics, "topics", self.cleaned_data["topics"])

    def clean_forum_threads(self) -> Any:
        return forum_threads_clean(self.cleaned_data["forum_threads"] or [])

    def save_through_service(self) -> Chat:
        """Create or update the chat with the chat services (which validate again)."""
        fields = {name: self.cleaned_data[name] for name in CHAT_FIELDS}
        if self.instance.pk is None:
            return chat_create(**fields)
        return chat_update(chat=self.instance, **fields)


def override_field(spec: SettingSpec, global_value: Any) -> forms.Field:
    """An optional input for one setting a chat may override: empty means the global value, shown beside it."""
    shown = json.dumps(global_value, ensure_ascii=False)
    options: dict[str, Any] = {"label": spec.key, "required": False, "help_text": f"{spec.help} Global: {shown}."}
    kind = json_type(spec)
    if kind == "boolean":
        choices = [("", f"global ({'on' if global_value else 'off'})"), ("true", "on"), ("false", "off")]
        return forms.TypedChoiceField(
            choices=choices, coerce=lambda value: value == "true", empty_value=None, **options
        )
    if kind == "number":
        return forms.FloatField(widget=forms.NumberInput(attrs={"placeholder": shown, "step": "any"}), **options)
    return JSONTextField(widget=json_textarea(3), **options)


class ChatOverridesForm(forms.Form):
    """The runtime settings this chat sets for itself; each empty input uses the global value."""

    def __init__(self, data: Any = None, *, chat: Chat, config: RuntimeConfig, **kwargs: Any) -> None:
        stored = chat.settings_overrides or {}
        initial = {key: _shown(value) for key, value in stored.items() if key in OVERRIDABLE}
        super().__init__(data, initial=initial, prefix="overrides", **kwargs)
        self.chat, values = chat, config.values()
        for key in OVERRIDABLE:
            self.fields[key] = override_field(SPEC_BY_KEY[key], values[key])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        filled = [key for key, value in cleaned.items() if value is not None]
        return parse_settings(self, cleaned, filled)  # the override's type is the setting's own

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound:
            prefix_errors_with_name(self)

    def save_through_service(self) -> Chat:
        """Store the filled-in overrides (the chat service validates them again); cleared ones use the global value."""
        overrides = {key: value for key, value in self.cleaned_data.items() if value is not None}
        return chat_update(chat=self.chat, settings_overrides=overrides)


def _shown(value: Any) -> Any:
    """A stored override as its input shows it (booleans as the choice's value)."""
    return ("true" if value else "false") if isinstance(value, bool) else value

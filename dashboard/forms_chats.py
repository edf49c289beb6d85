"""Chat form: the chat's fields, validated like the API (topics through their schema), saved by the chat services."""

from __future__ import annotations

from typing import Any

from django import forms

from bots.schemas import validate_with
from chats.models import Chat, forum_threads_clean
from chats.schemas import Topics
from chats.services import chat_create, chat_update
from dashboard.forms_common import JSONTextField, json_textarea

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

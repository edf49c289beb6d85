"""Serializers of the chats API's member-post endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chats.models import Chat, Message

MAX_MESSAGE_ID = 2**63 - 1


class MemberPostSerializer(serializers.Serializer[Any]):
    """A message an operator posts in a sandbox chat as a named member; `chat` comes in the context."""

    sender_name = serializers.CharField(min_length=1, max_length=100)
    text = serializers.CharField(min_length=1, max_length=4096)
    reply_to_message_id = serializers.IntegerField(
        min_value=1, max_value=MAX_MESSAGE_ID, allow_null=True, required=False, default=None
    )

    def validate_reply_to_message_id(self, value: int | None) -> int | None:
        chat: Chat = self.context["chat"]
        if value is not None and not Message.objects.filter(chat=chat, telegram_message_id=value).exists():
            raise serializers.ValidationError("No message with this id in this chat.")
        return value


class MemberPostResultSerializer(serializers.Serializer[Any]):
    """What ingestion did with the post: the stored message and the priority-reply turn, if a bot was addressed."""

    message_id = serializers.IntegerField(allow_null=True, help_text="The stored Message's id.")
    telegram_message_id = serializers.IntegerField(allow_null=True, help_text="Its chat-local id, for replies.")
    turn_id = serializers.IntegerField(allow_null=True, help_text="The addressed bot's reply turn.")
    outcome = serializers.CharField()

"""Bots API shapes; JSON fields are validated by the model's schemas, errors name the field path."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bots import crypto
from bots.admin import TOKEN_SHAPE
from bots.models import Bot, Holding, Memory, Stance, StanceChange
from bots.schemas import Emotion, Persona, Schema, Speed, validate_with


def _normalised(schema: type[Schema], field: str, value: Any) -> dict[str, Any]:
    # The field validator already named any error; this fills in the defaults of missing keys.
    document: dict[str, Any] = validate_with(schema, field, value).model_dump(mode="json")
    return document


class BotSerializer(serializers.ModelSerializer[Bot]):
    """A bot; `token` is write-only (never returned): responses carry `has_token` and `masked_token`."""

    token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        style={"input_type": "password"},
        help_text='Telegram bot token "<bot id>:<secret>"; write-only. "" removes it.',
    )
    has_token = serializers.BooleanField(read_only=True)
    masked_token = serializers.CharField(read_only=True, help_text="Like 1234…abcd.")

    class Meta:
        model = Bot
        fields = (
            "id", "name", "username", "is_enabled", "token", "has_token", "masked_token", "persona", "emotion",
            "speed", "active_hours", "talkativeness", "llm_model", "telegram_id", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = ("telegram_id", "created_at", "updated_at")
        validators: list[Any] = []  # uniqueness is checked by the service (full_clean)

    def validate_token(self, value: str) -> str:
        # Never echo the token in an error message.
        if value and not TOKEN_SHAPE.match(value):
            raise serializers.ValidationError("This does not look like a Telegram bot token (<bot id>:<secret>).")
        others = Bot.objects.exclude(pk=self.instance.pk) if self.instance else Bot.objects.all()
        if value and others.filter(token_fingerprint=crypto.token_fingerprint(value)).exists():
            raise serializers.ValidationError("Another bot already uses this token.")
        return value

    def validate_persona(self, value: Any) -> dict[str, Any]:
        return _normalised(Persona, "persona", value)

    def validate_emotion(self, value: Any) -> dict[str, Any]:
        return _normalised(Emotion, "emotion", value)

    def validate_speed(self, value: Any) -> dict[str, Any]:
        return _normalised(Speed, "speed", value)


class StanceSerializer(serializers.ModelSerializer[Stance]):
    """A bot's stance on a topic or symbol (one per topic)."""

    class Meta:
        model = Stance
        fields = ("id", "bot", "topic", "stance", "polarity", "confidence", "cooldown_until", "updated_at")
        read_only_fields = ("bot", "updated_at")
        validators: list[Any] = []


class StanceChangeSerializer(serializers.ModelSerializer[StanceChange]):
    """One move of a bot's stance: old → new, and what moved it (an event, an argument, an operator)."""

    class Meta:
        model = StanceChange
        fields = ("id", "stance", "topic", "old_polarity", "new_polarity", "old_confidence", "new_confidence",
                  "moved", "cause_kind", "cause", "speaker_bot", "message_id", "event_id", "created_at")  # fmt: skip
        read_only_fields = fields


class HoldingSerializer(serializers.ModelSerializer[Holding]):
    """A position in the bot's portfolio (one per symbol; symbols are normalised, e.g. BIST:AKBNK)."""

    class Meta:
        model = Holding
        fields = ("id", "bot", "symbol", "size", "average_price", "note", "updated_at")
        read_only_fields = ("bot", "updated_at")
        validators: list[Any] = []


class MemorySerializer(serializers.ModelSerializer[Memory]):
    """Something the bot remembers."""

    class Meta:
        model = Memory
        fields = ("id", "bot", "kind", "content", "relevance", "usage_count", "last_used_at", "created_at")
        read_only_fields = ("bot", "usage_count", "last_used_at", "created_at")

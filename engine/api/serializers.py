"""Engine API shapes: runtime settings, control, turns."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import TypeAdapter
from rest_framework import serializers

from engine.models import Turn
from engine.runtime_settings import SPECS, SettingSpec, parse_setting


class SettingSerializer(serializers.Serializer[SettingSpec]):
    """One runtime setting: current value, default, meaning and JSON schema of its type."""

    key = serializers.CharField()
    value = serializers.JSONField()
    default = serializers.JSONField()
    help = serializers.CharField()
    type = serializers.CharField(help_text="JSON type: boolean, integer, number, array or object.")
    schema = serializers.DictField(help_text="JSON schema of the value.")


def setting_row(spec: SettingSpec, value: Any) -> dict[str, Any]:
    """A setting as the API shows it."""
    schema = TypeAdapter(spec.type).json_schema()
    return {
        "key": spec.key,
        "value": value,
        "default": spec.default,
        "help": spec.help,
        "type": schema.get("type", "object"),
        "schema": schema,
    }


def settings_update_schema() -> dict[str, Any]:
    """OpenAPI schema of a settings PATCH: any non-empty subset of the settings, each of its own type."""
    return {
        "type": "object",
        "properties": {spec.key: _openapi_30(TypeAdapter(spec.type).json_schema()) for spec in SPECS},
        "additionalProperties": False,
        "minProperties": 1,
    }


def _openapi_30(schema: dict[str, Any]) -> dict[str, Any]:
    # pydantic writes JSON Schema 2020-12 (a numeric exclusiveMinimum); OpenAPI 3.0 wants minimum + a flag.
    converted = {key: _openapi_30(value) if isinstance(value, dict) else value for key, value in schema.items()}
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(converted.get(flag), int | float) and not isinstance(converted[flag], bool):
            converted[bound], converted[flag] = converted[flag], True
    return converted


class SettingsUpdateSerializer(serializers.Serializer[Any]):
    """{key: value, ...}: every key must be a setting and every value of its type; errors are keyed by setting."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not data:
            raise serializers.ValidationError({"non_field_errors": ["Send an object of {setting key: value}."]})
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            try:
                parse_setting(key, value)
            except DjangoValidationError as error:
                errors[key] = error.messages
        if errors:
            raise serializers.ValidationError(errors)
        return dict(data)


class ScaleSerializer(serializers.Serializer[Any]):
    """The new activity multiplier."""

    scale_factor = serializers.FloatField(help_text="Multiplies activity and divides delays (0 < x ≤ 50).")

    def validate_scale_factor(self, value: float) -> float:
        try:
            scale: float = parse_setting("scale_factor", value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return scale


class SimulationStateSerializer(serializers.Serializer[Any]):
    """Whether the simulation runs, and at what scale."""

    simulation_active = serializers.BooleanField()
    scale_factor = serializers.FloatField()


class TurnSerializer(serializers.ModelSerializer[Turn]):
    """A turn with its timings, LLM usage and, when it failed or was skipped, the reason (`error`)."""

    bot_name = serializers.CharField(source="bot.name", read_only=True)
    chat_title = serializers.CharField(source="chat.title", read_only=True)

    class Meta:
        model = Turn
        fields = (
            "id", "chat", "chat_title", "bot", "bot_name", "kind", "status", "reply_to", "message", "due_at",
            "send_at", "next_run_at", "inputs", "text", "llm_model", "llm_calls", "tokens_in", "tokens_out",
            "cost_usd", "llm_latency_ms", "attempts", "error", "created_at", "generating_at", "ready_at",
            "sending_at", "finished_at",
        )  # fmt: skip
        read_only_fields = fields

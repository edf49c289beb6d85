"""The closed, typed, documented set of runtime settings (stored in the Setting table, editable live)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from pydantic import Field, HttpUrl, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticValidationError

from bots.schemas import Schema, TimeRange, Unit, format_errors

PositiveFloat = Annotated[float, Field(gt=0, le=100)]


class HourlyLimit(Schema):
    """Per-bot messages per hour: a random cap in [min, max] for each bot-hour."""

    min: int = Field(ge=0, le=1000)
    max: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> HourlyLimit:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class LengthProfile(Schema):
    """Mix of message lengths; the shares must add up to 1."""

    short: Unit
    medium: Unit
    long: Unit

    @model_validator(mode="after")
    def _sums_to_one(self) -> LengthProfile:
        total = self.short + self.medium + self.long
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"shares must add up to 1, not {total:.2f}")
        return self


class LlmBudget(Schema):
    """LLM limits the engine plans within (defaults: Groq's free tier for llama-3.3-70b-versatile)."""

    rpm: int = Field(ge=1, le=100_000)
    tpm: int = Field(ge=1, le=100_000_000)
    daily_tokens: int = Field(ge=1, le=10_000_000_000)


@dataclass(frozen=True)
class SettingSpec:
    """One runtime setting: its type, default and meaning."""

    key: str
    type: Any
    default: Any
    help: str

    def parse(self, value: Any) -> Any:
        """Validated, normalised value (JSON-ready); ValidationError names the key."""
        adapter: TypeAdapter[Any] = TypeAdapter(self.type)
        try:
            # Strict JSON validation: "true" never becomes True, "6" never becomes 6, 1.5 never becomes 1.
            parsed = adapter.validate_json(json.dumps(value), strict=True)
        except (TypeError, ValueError) as error:
            if not isinstance(error, PydanticValidationError):
                raise ValidationError(f"{self.key}: not a JSON value", code="invalid") from None
            raise ValidationError(format_errors(self.key, error), code="invalid") from None
        return adapter.dump_python(parsed, mode="json")


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("simulation_active", bool, False, "Master switch of the simulation."),
    SettingSpec("scale_factor", Annotated[float, Field(gt=0, le=50)], 1.0, "Multiplies activity, divides delays."),
    SettingSpec("max_msgs_per_min", Annotated[int, Field(ge=0, le=10_000)], 6, "Global cap on bot messages/min."),
    SettingSpec("bot_hourly_msg_limit", HourlyLimit, {"min": 6, "max": 12}, "Per-bot cap per hour."),
    SettingSpec("reply_probability", Unit, 0.65, "Chance a proactive turn replies to an earlier message."),
    SettingSpec("reply_to_bots_probability", Unit, 0.5, "Same, when the latest message is a bot's."),
    SettingSpec("mention_probability", Unit, 0.35, "Chance of @-mentioning the bot being replied to."),
    SettingSpec("short_reaction_probability", Unit, 0.12, "Chance a turn is a reaction instead of text."),
    SettingSpec("message_length_profile", LengthProfile, {"short": 0.55, "medium": 0.35, "long": 0.10}, "Length mix."),
    SettingSpec("typing_enabled", bool, True, "Send 'typing…' before messages."),
    SettingSpec("prime_hours_boost", bool, True, "Busier during market hours."),
    SettingSpec(
        "prime_hours",
        Annotated[list[TimeRange], Field(max_length=12)],
        ["09:30-12:00", "14:00-18:00"],
        "Market hours in the chat's timezone.",
    ),
    SettingSpec(
        "persona_refresh_interval", Annotated[int, Field(ge=1, le=1000)], 8, "Re-state the persona every N messages."
    ),
    SettingSpec("persona_refresh_minutes", Annotated[int, Field(ge=1, le=1440)], 30, "…or every M minutes."),
    SettingSpec("news_trigger_enabled", bool, True, "Inject a recent headline into a turn."),
    SettingSpec("news_trigger_probability", Unit, 0.5, "Chance of using a headline."),
    SettingSpec(
        "news_feed_urls",
        Annotated[list[HttpUrl], Field(max_length=50)],
        [
            "https://www.aa.com.tr/tr/rss/default?cat=ekonomi",
            "https://www.bloomberght.com/rss",
            "https://feeds.bbci.co.uk/news/business/rss.xml",
            "https://www.coindesk.com/arc/outboundfeeds/rss/",
        ],
        "RSS/Atom feeds for headlines.",
    ),
    SettingSpec("consistency_guard_enabled", bool, True, "Keep messages consistent with stances."),
    SettingSpec("dedup_enabled", bool, True, "No bot repeats itself or another bot."),
    SettingSpec("dedup_window_hours", Annotated[int, Field(ge=1, le=720)], 12, "Look-back window of dedup."),
    SettingSpec("batch_processing_enabled", bool, True, "Generate several priority replies concurrently."),
    SettingSpec("batch_size", Annotated[int, Field(ge=1, le=50)], 5, "Priority replies per batch."),
    SettingSpec(
        "llm_budget", LlmBudget, {"rpm": 30, "tpm": 12_000, "daily_tokens": 100_000}, "LLM rate limits to plan within."
    ),
    SettingSpec("compliance_guard_enabled", bool, True, "Block profit guarantees and buy/sell orders to members."),
)
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}
KEY_CHOICES = [(spec.key, spec.key) for spec in SPECS]


def spec_for(key: str) -> SettingSpec:
    """The spec of a key; ValidationError naming the key when it is not one of ours."""
    try:
        return SPEC_BY_KEY[key]
    except KeyError:
        raise ValidationError(
            {"key": f"{key!r} is not a setting; known settings: {', '.join(SPEC_BY_KEY)}"}, code="unknown"
        ) from None


def parse_setting(key: str, value: Any) -> Any:
    """Validated value for key."""
    return spec_for(key).parse(value)

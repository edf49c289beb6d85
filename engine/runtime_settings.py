"""The closed, typed, documented set of runtime settings (stored in the Setting table, editable live)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, create_model, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo

from bots.schemas import Schema, TimeRange, Unit, format_errors
from config.security import host_refusal

logger = logging.getLogger(__name__)


class HourlyLimit(Schema, frozen=True):
    """Per-bot messages per hour: a random cap in [min, max] for each bot-hour."""

    min: int = Field(ge=0, le=1000)
    max: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> HourlyLimit:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class LengthProfile(Schema, frozen=True):
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


class LlmBudget(Schema, frozen=True):
    """LLM limits the engine plans within (defaults: Groq's free tier for llama-3.3-70b-versatile)."""

    rpm: int = Field(ge=1, le=100_000)
    tpm: int = Field(ge=1, le=100_000_000)
    daily_tokens: int = Field(ge=1, le=10_000_000_000)


def _public_url(url: HttpUrl) -> HttpUrl:
    """A feed URL on a local name or a non-public address literal is refused (names are checked at connect time)."""
    refusal = host_refusal(url.host or "")
    if refusal:
        raise ValueError(f"{refusal}: feeds are fetched from public addresses only (no loopback or internal hosts)")
    return url


PublicUrl = Annotated[HttpUrl, AfterValidator(_public_url)]


class AbuseLimits(Schema, frozen=True):
    """What untrusted members can make the engine spend: priority replies, each chat's LLM share, prompt size."""

    member_replies: int = Field(3, ge=0, le=1000, description="Priority replies per member per chat per window.")
    member_window_s: int = Field(600, ge=1, le=86_400, description="The member window, in seconds.")
    chat_replies_per_min: int = Field(6, ge=0, le=1000, description="Priority replies per chat per minute.")
    bot_replies_per_min: int = Field(6, ge=0, le=1000, description="Priority replies per bot per minute.")
    chat_llm_share: float = Field(0.5, gt=0.0, le=1.0, description="Share of the LLM tokens/min one chat may take.")
    request_max_tokens: int = Field(3000, ge=200, le=1_000_000, description="Largest request (prompt + answer).")
    message_max_chars: int = Field(600, ge=40, le=4096, description="A member message in a prompt is cut here.")
    name_max_chars: int = Field(32, ge=8, le=200, description="A member name in a prompt is cut here.")


class RuntimeConfig(BaseModel):
    """Every runtime setting, typed and frozen: the stored values over the defaults (`settings_all()`).

    Each field is one setting: its type, its default and its meaning. `SPECS` is derived from these fields, so the
    admin, the API, the dashboard's form and the engine read one definition.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    simulation_active: bool = Field(False, description="Master switch of the simulation.")
    scale_factor: float = Field(1.0, gt=0, le=50, description="Multiplies activity, divides delays.")
    max_msgs_per_min: int = Field(6, ge=0, le=10_000, description="Global cap on bot messages/min.")
    bot_hourly_msg_limit: HourlyLimit = Field(HourlyLimit(min=6, max=12), description="Per-bot cap per hour.")
    reply_probability: Unit = Field(0.65, description="Chance a proactive turn replies to an earlier message.")
    reply_to_bots_probability: Unit = Field(0.5, description="Same, when the latest message is a bot's.")
    mention_probability: Unit = Field(0.35, description="Chance of @-mentioning the bot being replied to.")
    short_reaction_probability: Unit = Field(0.12, description="Chance a turn is a reaction instead of text.")
    message_length_profile: LengthProfile = Field(
        LengthProfile(short=0.55, medium=0.35, long=0.10), description="Length mix."
    )
    typing_enabled: bool = Field(True, description="Send 'typing…' before messages.")
    prime_hours_boost: bool = Field(True, description="Busier during market hours.")
    prime_hours: list[TimeRange] = Field(
        ["09:30-12:00", "14:00-18:00"], max_length=12, description="Market hours in the chat's timezone."
    )
    persona_refresh_interval: int = Field(8, ge=1, le=1000, description="Re-state the persona every N messages.")
    persona_refresh_minutes: int = Field(30, ge=1, le=1440, description="…or every M minutes.")
    news_trigger_enabled: bool = Field(True, description="Inject a recent headline into a turn.")
    news_trigger_probability: Unit = Field(0.5, description="Chance of using a headline.")
    news_feed_urls: list[PublicUrl] = Field(
        [
            HttpUrl("https://www.aa.com.tr/tr/rss/default?cat=ekonomi"),
            HttpUrl("https://www.bloomberght.com/rss"),
            HttpUrl("https://feeds.bbci.co.uk/news/business/rss.xml"),
            HttpUrl("https://www.coindesk.com/arc/outboundfeeds/rss/"),
        ],
        max_length=50,
        description="RSS/Atom feeds for headlines.",
    )
    consistency_guard_enabled: bool = Field(True, description="Keep messages consistent with stances.")
    dedup_enabled: bool = Field(True, description="No bot repeats itself or another bot.")
    dedup_window_hours: int = Field(12, ge=1, le=720, description="Look-back window of dedup.")
    batch_processing_enabled: bool = Field(True, description="Generate several priority replies concurrently.")
    batch_size: int = Field(5, ge=1, le=50, description="Priority replies per batch.")
    llm_budget: LlmBudget = Field(
        LlmBudget(rpm=30, tpm=12_000, daily_tokens=100_000), description="LLM rate limits to plan within."
    )
    compliance_guard_enabled: bool = Field(True, description="Block profit guarantees and buy/sell orders to members.")
    output_links_allowed: bool = Field(
        False, description="Let bot messages carry links (URLs, t.me links, domains); off: they are stripped."
    )
    abuse_limits: AbuseLimits = Field(
        AbuseLimits(), description="Flood limits on priority replies, each chat's LLM share, prompt size."
    )
    stance_evolution_enabled: bool = Field(
        True, description="Stances move with arguments in the chats and with market events, within bounds."
    )

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> RuntimeConfig:
        """The config of these stored values (key → JSON value) over the defaults.

        Values are validated when they are stored; one that no longer fits its setting (a setting's type changed
        since) is logged and its default used, so one bad row never stops the engine.
        """
        known = {key: value for key, value in stored.items() if key in SPEC_BY_KEY}
        try:
            return cls.model_validate(known)
        except PydanticValidationError as error:
            bad = {str(item["loc"][0]) for item in error.errors()}
            logger.warning("runtime settings %s are invalid, their defaults apply: %s", sorted(bad), error)
            return cls.model_validate({key: value for key, value in known.items() if key not in bad})

    def replace(self, **values: Any) -> RuntimeConfig:
        """A copy with some settings changed, validated like stored values."""
        return RuntimeConfig.model_validate({**self.model_dump(), **values})

    def values(self) -> dict[str, Any]:
        """Every setting's value as JSON (key → value), as the API, the admin and the dashboard show them."""
        return self.model_dump(mode="json")

    def for_chat(self, overrides: Mapping[str, Any] | None) -> RuntimeConfig:
        """The config a chat runs with: its overrides (`Chat.settings_overrides`) over these values.

        Overrides are validated when they are stored; a stored value that no longer fits is logged and the global
        values apply, so one bad chat row never stops a batch.
        """
        if not overrides:
            return self
        try:
            parsed = ChatOverrides.model_validate(overrides)
        except PydanticValidationError as error:
            logger.warning("a chat's settings overrides are invalid, the global values apply: %s", error)
            return self
        return self.model_copy(update=parsed.set_values())


@dataclass(frozen=True)
class SettingSpec:
    """One runtime setting: its type, default and meaning (a field of `RuntimeConfig`)."""

    key: str
    type: Any
    default: Any
    help: str

    def parse(self, value: Any) -> Any:
        """Validated, normalised value (JSON-ready); ValidationError names the key."""
        adapter = _adapter(self.type)
        try:
            # Strict JSON validation: "true" never becomes True, "6" never becomes 6, 1.5 never becomes 1.
            parsed = adapter.validate_json(json.dumps(value), strict=True)
        except (TypeError, ValueError) as error:
            if not isinstance(error, PydanticValidationError):
                raise ValidationError(f"{self.key}: not a JSON value", code="invalid") from None
            raise ValidationError(format_errors(self.key, error), code="invalid") from None
        return adapter.dump_python(parsed, mode="json")


def _spec(key: str, field: FieldInfo) -> SettingSpec:
    """A field of RuntimeConfig as a setting: its type with the field's constraints, its default as JSON."""
    kind: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    return SettingSpec(key, kind, _adapter(kind).dump_python(field.default, mode="json"), field.description or "")


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


SPECS: tuple[SettingSpec, ...] = tuple(_spec(key, field) for key, field in RuntimeConfig.model_fields.items())
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}
KEY_CHOICES = [(spec.key, spec.key) for spec in SPECS]


# The settings a chat may set for itself (`Chat.settings_overrides`): how it talks, not what the system may spend.
OVERRIDABLE: tuple[str, ...] = (
    "reply_probability",
    "reply_to_bots_probability",
    "mention_probability",
    "short_reaction_probability",
    "message_length_profile",
    "prime_hours_boost",
    "prime_hours",
    "news_trigger_enabled",
    "news_trigger_probability",
    "news_feed_urls",
    "compliance_guard_enabled",
)


class _Overrides(BaseModel):
    """Base of ChatOverrides: strict ("0.5" is not 0.5), unknown keys named with the ones a chat may set."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            unknown = sorted(str(key) for key in value if key not in OVERRIDABLE)
            if unknown:
                keys = ", ".join(unknown)
                raise ValueError(f"{keys}: not a per-chat setting; a chat may set {', '.join(OVERRIDABLE)}")
        return value

    def set_values(self) -> dict[str, Any]:
        """The overridden settings (key → typed value); a key set to null means the global value."""
        return {key: getattr(self, key) for key in self.model_fields_set if getattr(self, key) is not None}


# Each field is the RuntimeConfig field's type with its bounds (or null: the global value), so both validate alike.
ChatOverrides = create_model(
    "ChatOverrides",
    __base__=_Overrides,
    __doc__="A chat's overrides of some runtime settings (OVERRIDABLE), each typed and bounded like the setting.",
    **{key: (SPEC_BY_KEY[key].type | None, None) for key in OVERRIDABLE},  # type: ignore[call-overload]
)


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

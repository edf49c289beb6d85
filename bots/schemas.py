"""Validated shapes of the Bot JSON fields: persona, emotion, speed and active hours."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.module_loading import import_string
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticValidationError

from bots.symbols import normalize_symbol

Level = Literal["low", "medium", "high"]
Length = Literal["short", "medium", "long"]
Language = Literal["tr", "en"]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class PersonaTone(StrEnum):
    """How a bot talks; a closed set so prompts and the offline provider can rely on it."""

    STREET = "street"
    PROFESSIONAL = "professional"
    ACADEMIC = "academic"
    VETERAN = "veteran"
    CONSERVATIVE = "conservative"
    NEWBIE = "newbie"
    TECHNICAL = "technical"


class EmotionTone(StrEnum):
    """The bot's emotional colouring."""

    CALM = "calm"
    ENTHUSIASTIC = "enthusiastic"
    ANXIOUS = "anxious"
    CYNICAL = "cynical"
    OPTIMISTIC = "optimistic"
    GRUMPY = "grumpy"
    PLAYFUL = "playful"


def _emoji(value: str) -> str:
    # One emoji may be several code points (skin tones, ZWJ sequences, variation selectors).
    allowed = {"So", "Sk", "Mn", "Cf", "Me"}
    if not value or len(value) > 10 or any(unicodedata.category(ch) not in allowed for ch in value):
        raise ValueError("must be a single emoji")
    return value


def _time_range(value: str) -> str:
    if not TIME_RANGE.match(value):
        raise ValueError(f"{value!r} is not a range like 09:30-18:00")
    return value


Symbol = Annotated[str, AfterValidator(normalize_symbol)]
Emoji = Annotated[str, AfterValidator(_emoji)]
TimeRange = Annotated[str, AfterValidator(_time_range)]


class Schema(BaseModel):
    """Base: unknown keys are errors, so a typo never silently disappears."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Style(Schema):
    """Surface style of messages."""

    emojis: bool = True
    length: Length = "medium"


class Persona(Schema):
    """Who the bot is."""

    tone: PersonaTone = PersonaTone.PROFESSIONAL
    risk_profile: Level = "medium"
    watchlist: list[Symbol] = Field(default_factory=list, max_length=50)
    never_do: list[ShortText] = Field(default_factory=list, max_length=30)
    style: Style = Field(default_factory=Style)
    bio: str = Field(default="", max_length=2000)
    language: Language | None = None


class Emotion(Schema):
    """How the bot feels and sounds."""

    tone: EmotionTone = EmotionTone.CALM
    empathy: Unit = 0.5
    energy: Level = "medium"
    signature_emoji: Emoji | None = None
    signature_phrases: list[ShortText] = Field(default_factory=list, max_length=20)
    anecdotes: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(default_factory=list, max_length=20)


class Speed(Schema):
    """Human-like pacing: reply delay and typing speed (characters per second)."""

    base_delay_s: float = Field(default=20.0, ge=0, le=3600)
    delay_multiplier: float = Field(default=1.0, gt=0, le=20)
    jitter_s: tuple[float, float] = (-5.0, 10.0)
    min_delay_s: float = Field(default=3.0, ge=0, le=3600)
    max_delay_s: float = Field(default=120.0, ge=0, le=3600)
    typing_cps: tuple[Annotated[float, Field(ge=0.5, le=30)], Annotated[float, Field(ge=0.5, le=30)]] = (3.0, 8.0)
    min_typing_s: float = Field(default=1.0, ge=0, le=120)
    max_typing_s: float = Field(default=25.0, ge=0, le=120)

    @model_validator(mode="after")
    def _ranges_ordered(self) -> Speed:
        for low, high, name in (
            (self.jitter_s[0], self.jitter_s[1], "jitter_s"),
            (self.min_delay_s, self.max_delay_s, "min_delay_s/max_delay_s"),
            (self.typing_cps[0], self.typing_cps[1], "typing_cps"),
            (self.min_typing_s, self.max_typing_s, "min_typing_s/max_typing_s"),
        ):
            if low > high:
                raise ValueError(f"{name}: lower bound {low} is above upper bound {high}")
        return self


# Ranges of HH:MM-HH:MM (may wrap midnight); an empty list means always active.
ActiveHours = Annotated[list[TimeRange], Field(max_length=12)]


def format_errors(field: str, error: PydanticValidationError) -> list[str]:
    """Pydantic errors as readable lines, each naming the full field path."""
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in (field, *item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {message}")
    return lines


@cache
def adapter(schema: Any) -> TypeAdapter[Any]:
    """The (cached) pydantic adapter of a schema, a model or a type such as ActiveHours."""
    return TypeAdapter(schema)


def validate_with(schema: Any, field: str, value: Any) -> Any:
    """Parse value with schema (a model or a type), or raise Django's ValidationError naming the field."""
    try:
        return adapter(schema).validate_python(value)
    except PydanticValidationError as error:
        raise ValidationError(format_errors(field, error), code="invalid") from None


@deconstructible
class SchemaValidator:
    """Model field validator: the JSON value must match a schema (named by dotted path, for migrations)."""

    def __init__(self, schema_path: str, field: str) -> None:
        self.schema_path = schema_path
        self.field = field

    def __call__(self, value: Any) -> None:
        validate_with(import_string(self.schema_path), self.field, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SchemaValidator) and (self.schema_path, self.field) == (other.schema_path, other.field)


def defaults(schema: type[Schema]) -> dict[str, Any]:
    """The schema's default document (used as the model field default)."""
    return schema().model_dump(mode="json")


def persona_default() -> dict[str, Any]:
    """Default persona."""
    return defaults(Persona)


def emotion_default() -> dict[str, Any]:
    """Default emotion."""
    return defaults(Emotion)


def speed_default() -> dict[str, Any]:
    """Default speed."""
    return defaults(Speed)

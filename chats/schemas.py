"""Validated shapes of the chat JSON fields."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import Field

from bots.schemas import Schema, Symbol

DEFAULT_TOPICS = ["BIST", "FX", "Kripto", "Makro"]

Topic = Annotated[str, Field(min_length=1, max_length=40)]
Topics = Annotated[list[Topic], Field(min_length=1, max_length=30)]


class MessageMetadata(Schema):
    """What the engine knows about a message."""

    topic: str | None = None
    symbols: list[Symbol] = Field(default_factory=list)
    sentiment: Literal["bullish", "bearish", "neutral"] | None = None
    turn_id: int | None = None
    flags: list[Literal["priority_reply", "reaction", "news", "edited", "repaired"]] = Field(default_factory=list)


class ForumThread(Schema):
    """A forum topic of a chat: Telegram's thread id, its name, the chat topic it is for, and whether it is closed."""

    thread_id: int = Field(ge=2)  # 1 is the General topic, addressed without a thread id
    name: str = Field(default="", max_length=128)
    topic: Topic | None = None  # the chat topic proactive posts on it go to this thread for
    closed: bool = False


ForumThreads = Annotated[list[ForumThread], Field(max_length=200)]


def topics_default() -> list[str]:
    """Default chat topics."""
    return list(DEFAULT_TOPICS)


def validate_timezone(value: str) -> None:
    """The value must be an IANA timezone name."""
    from django.core.exceptions import ValidationError

    if value not in _timezones():
        raise ValidationError(f"timezone: {value!r} is not an IANA timezone such as Europe/Istanbul", code="invalid")


_TZ_CACHE: set[str] = set()


def _timezones() -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(available_timezones())
    return _TZ_CACHE

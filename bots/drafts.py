"""Persona drafts: a complete bot (persona, emotion, speed, stances, holdings, memories) before an operator saves it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from pydantic import Field, model_validator

from bots.models import Bot, Holding, Memory, Stance
from bots.schemas import Emotion, Persona, Schema, Speed, Symbol, Unit, validate_with
from bots.services import bot_create, bot_knowledge_save

Polarity = Literal["bullish", "bearish", "neutral"]
MemoryKind = Literal["personal_fact", "past_event", "relationship", "preference", "routine"]
DRAFT_LISTS = ("stances", "holdings", "memories")


class StanceDraft(Schema):
    """A stance of the draft (one per topic or symbol)."""

    topic: Annotated[str, Field(min_length=1, max_length=64)]
    stance: Annotated[str, Field(min_length=1, max_length=2000)]
    polarity: Polarity = "neutral"
    confidence: Unit = 0.6


class HoldingDraft(Schema):
    """A position of the draft's fictional portfolio."""

    symbol: Symbol
    size: Decimal = Field(max_digits=20, decimal_places=6)
    average_price: Decimal = Field(ge=0, max_digits=20, decimal_places=6)
    note: str = Field(default="", max_length=300)


class MemoryDraft(Schema):
    """A memory of the draft."""

    kind: MemoryKind
    content: Annotated[str, Field(min_length=1, max_length=2000)]
    relevance: Unit = 0.5


class BotDraft(Schema):
    """A complete persona as drafted: everything a bot needs except its token and chats."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    username: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_]*$")
    persona: Persona = Field(default_factory=Persona)
    emotion: Emotion = Field(default_factory=Emotion)
    speed: Speed = Field(default_factory=Speed)
    stances: list[StanceDraft] = Field(default_factory=list, max_length=20)
    holdings: list[HoldingDraft] = Field(default_factory=list, max_length=20)
    memories: list[MemoryDraft] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_per_topic(self) -> BotDraft:
        keyed = (("stances", [s.topic for s in self.stances]), ("holdings", [h.symbol for h in self.holdings]))
        for name, keys in keyed:
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name}: each topic or symbol only once")
        return self


def draft_validate(document: Any, *, field: str = "draft") -> BotDraft:
    """The draft parsed, or Django's ValidationError naming every wrong field (e.g. draft.persona.tone)."""
    parsed: BotDraft = validate_with(BotDraft, field, document)
    return parsed


def draft_document(draft: BotDraft) -> dict[str, Any]:
    """The draft as JSON (what the API returns and the review page edits)."""
    document: dict[str, Any] = draft.model_dump(mode="json")
    return document


def draft_save(*, document: Any) -> Bot:
    """Create the bot of a reviewed draft with its stances, holdings and memories, all or nothing."""
    draft = draft_validate(document)
    if draft.username and Bot.objects.filter(username=draft.username).exists():
        raise ValidationError({"username": [f"A bot with the username {draft.username!r} already exists."]})
    with transaction.atomic():
        bot = bot_create(
            name=draft.name,
            username=draft.username,
            persona=draft.persona.model_dump(mode="json"),
            emotion=draft.emotion.model_dump(mode="json"),
            speed=draft.speed.model_dump(mode="json"),
        )
        for stance in draft.stances:
            bot_knowledge_save(instance=Stance(bot=bot), **stance.model_dump())
        for holding in draft.holdings:
            bot_knowledge_save(instance=Holding(bot=bot), **holding.model_dump())
        for memory in draft.memories:
            bot_knowledge_save(instance=Memory(bot=bot), **memory.model_dump())
    return bot

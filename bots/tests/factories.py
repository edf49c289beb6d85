"""Test data for the bots app."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from bots.models import Bot, Holding, Memory, Stance, StanceChange


class BotFactory(DjangoModelFactory[Bot]):
    """A bot with default persona, emotion and speed; pass token="…" to give it a (encrypted) token."""

    class Meta:
        model = Bot

    name = factory.Sequence(lambda n: f"Bot {n}")
    username = factory.Sequence(lambda n: f"piyasa_bot_{n}")


class StanceFactory(DjangoModelFactory[Stance]):
    """A bullish stance on a symbol."""

    class Meta:
        model = Stance

    bot = factory.SubFactory(BotFactory)
    topic = factory.Sequence(lambda n: f"BIST:SYM{n}")
    stance = "Uzun vadede yükseliş bekliyorum."
    polarity = Stance.Polarity.BULLISH
    confidence = 0.7


class StanceChangeFactory(DjangoModelFactory[StanceChange]):
    """An argument that weakened a bullish stance."""

    class Meta:
        model = StanceChange

    stance = factory.SubFactory(StanceFactory)
    bot = factory.SelfAttribute("stance.bot")
    topic = factory.SelfAttribute("stance.topic")
    old_polarity = "bullish"
    new_polarity = "bullish"
    old_confidence = 0.7
    new_confidence = 0.65
    moved = 0.05
    cause_kind = StanceChange.Cause.ARGUMENT
    cause = "Ayı: düşüş sürecek"


class HoldingFactory(DjangoModelFactory[Holding]):
    """A position in the bot's fictional portfolio."""

    class Meta:
        model = Holding

    bot = factory.SubFactory(BotFactory)
    symbol = factory.Sequence(lambda n: f"BIST:HLD{n}")
    size = Decimal("100")
    average_price = Decimal("42.5")


class MemoryFactory(DjangoModelFactory[Memory]):
    """A personal fact the bot remembers."""

    class Meta:
        model = Memory

    bot = factory.SubFactory(BotFactory)
    kind = Memory.Kind.PERSONAL_FACT
    content = factory.Sequence(lambda n: f"İstanbul'da yaşıyor ({n}).")
    relevance = 0.5

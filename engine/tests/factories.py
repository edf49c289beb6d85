"""Test data for the engine app."""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from bots.tests.factories import BotFactory
from chats.tests.factories import ChatFactory
from engine.models import Turn


class TurnFactory(DjangoModelFactory[Turn]):
    """A planned proactive turn, due now."""

    class Meta:
        model = Turn

    chat = factory.SubFactory(ChatFactory)
    bot = factory.SubFactory(BotFactory)
    kind = Turn.Kind.PROACTIVE
    status = Turn.Status.PLANNED
    due_at = factory.LazyFunction(timezone.now)

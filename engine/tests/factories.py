"""Test data for the engine app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from bots.models import Bot
from bots.tests.factories import BotFactory
from chats.models import Chat, Message
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
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


def say(chat: Chat, text: str, *, bot: Bot | None = None, minutes_ago: float = 0.0, **fields: Any) -> Message:
    """A message at a given age (auto_now_add is overridden so the order is explicit)."""
    if bot is not None:
        fields.setdefault("sender_name", "")
    message = MessageFactory.create(chat=chat, bot=bot, text=text, **fields)
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    message.refresh_from_db()
    return message


def crowd(size: int) -> tuple[Chat, list[Bot]]:
    """A chat with `size` bots in it."""
    chat = ChatFactory.create()
    bots = [BotFactory.create() for _ in range(size)]
    for bot in bots:
        MembershipFactory.create(chat=chat, bot=bot)
    return chat, bots

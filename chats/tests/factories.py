"""Test data for the chats app."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from bots.tests.factories import BotFactory
from chats.models import Chat, Membership, Message


class ChatFactory(DjangoModelFactory[Chat]):
    """A sandbox chat (it gets a local chat id on save)."""

    class Meta:
        model = Chat

    title = factory.Sequence(lambda n: f"Piyasa Sohbet {n}")
    transport = Chat.Transport.SANDBOX


class MembershipFactory(DjangoModelFactory[Membership]):
    """An enabled bot in a chat."""

    class Meta:
        model = Membership

    chat = factory.SubFactory(ChatFactory)
    bot = factory.SubFactory(BotFactory)


class MessageFactory(DjangoModelFactory[Message]):
    """A member's message; pass bot=… for a bot's message."""

    class Meta:
        model = Message

    chat = factory.SubFactory(ChatFactory)
    bot = None
    sender_user_id = factory.Sequence(lambda n: 1000 + n)
    sender_name = "Ayşe"
    text = factory.Sequence(lambda n: f"Dolar bugün ne olur sizce? ({n})")

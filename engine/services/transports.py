"""Where a chat's messages go: one async interface that Telegram's Bot API and the local sandbox both implement.

Delivery has one path: it asks for a chat's transport and awaits the turn's Bot API call on it, whichever the
chat's `transport` is. Adding a transport is a row in TRANSPORTS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.conf import settings
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat, Message
from engine.clients.telegram import SentMessage, TelegramClient
from engine.redis import redis_connection

T = TypeVar("T")
SANDBOX_ID_KEY = "piyasa:sandbox:message_id:"
SANDBOX_TYPING_KEY = "piyasa:sandbox:typing:"


class Transport(Protocol):
    """The Bot API calls delivery makes, as one bot in one chat."""

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        reply_to_message_id: int | None = None,
        thread_id: int | None = None,
        *,
        quote: str | None = None,
    ) -> SentMessage: ...
    async def send_typing(self, chat_id: int | str, thread_id: int | None = None) -> None: ...
    async def set_reaction(self, chat_id: int | str, message_id: int, emoji: str) -> None: ...


Operation = Callable[[Transport], Awaitable[T]]


class SandboxTransport:
    """Local chats: nothing leaves the machine; messages get local ids, unique per chat (a Redis counter)."""

    def __init__(self, chat_pk: int) -> None:
        self.chat_pk = chat_pk

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        reply_to_message_id: int | None = None,
        thread_id: int | None = None,
        *,
        quote: str | None = None,
    ) -> SentMessage:
        message_id = int(redis_connection().incr(f"{SANDBOX_ID_KEY}{self.chat_pk}"))  # seeded by `prepare`
        return SentMessage(message_id=message_id, date=timezone.now())

    async def send_typing(self, chat_id: int | str, thread_id: int | None = None) -> None:
        redis_connection().set(f"{SANDBOX_TYPING_KEY}{self.chat_pk}", 1, ex=5)

    async def set_reaction(self, chat_id: int | str, message_id: int, emoji: str) -> None:
        return None


def sandbox_ids_ready(chat_pks: Iterable[int]) -> None:
    """Make sure each sandbox chat's message-id counter exists: after a Redis restart it starts again above the
    highest id stored (one round trip; a query only for the counters that were lost)."""
    chats = sorted(set(chat_pks))
    redis = redis_connection()
    present = redis.exists(*[f"{SANDBOX_ID_KEY}{pk}" for pk in chats]) if chats else 0
    if present == len(chats):
        return
    for pk in chats:
        highest = (
            Message.objects.filter(chat_id=pk)
            .order_by("-telegram_message_id")
            .values_list("telegram_message_id", flat=True)
            .first()
        )
        redis.set(f"{SANDBOX_ID_KEY}{pk}", highest or 0, nx=True)


def sandbox_message_id(chat_pk: int) -> int:
    """The next local message id of a sandbox chat (an operator's post takes one too)."""
    sandbox_ids_ready([chat_pk])
    return int(redis_connection().incr(f"{SANDBOX_ID_KEY}{chat_pk}"))


@dataclass(frozen=True)
class TransportKind:
    """How calls reach one kind of chat: awaiting an operation on its transport, and what must be ready first."""

    call: Callable[[Chat, Bot, Operation[T]], Awaitable[T]]
    prepare: Callable[[list[Chat]], None]  # on the caller's thread (it may read the database), before the calls


async def _telegram(chat: Chat, bot: Bot, operation: Operation[T]) -> T:
    return await TelegramClient(bot.token, timeout=settings.TELEGRAM_TIMEOUT_S).call(operation)


async def _sandbox(chat: Chat, bot: Bot, operation: Operation[T]) -> T:
    return await operation(SandboxTransport(chat.pk))


TRANSPORTS: dict[str, TransportKind] = {
    Chat.Transport.TELEGRAM: TransportKind(call=_telegram, prepare=lambda chats: None),
    Chat.Transport.SANDBOX: TransportKind(call=_sandbox, prepare=lambda chats: sandbox_ids_ready(c.pk for c in chats)),
}


def transports_prepare(chats: Iterable[Chat]) -> None:
    """Get the chats' transports ready for calls that run on another thread (which never touches the database)."""
    by_kind: dict[str, list[Chat]] = {}
    for chat in chats:
        by_kind.setdefault(chat.transport, []).append(chat)
    for transport, of_kind in by_kind.items():
        TRANSPORTS[transport].prepare(of_kind)


def transport_call(chat: Chat, bot: Bot, operation: Operation[T]) -> Awaitable[T]:
    """`operation` on the chat's transport, speaking as the bot; awaited together with others by the caller."""
    return TRANSPORTS[chat.transport].call(chat, bot, operation)


def chat_ref(chat: Chat) -> int:
    """The chat's id on its transport (Telegram chats require one; sandbox chats get a local id on save)."""
    assert chat.telegram_chat_id is not None
    return chat.telegram_chat_id

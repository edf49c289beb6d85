"""The one boundary to the Telegram Bot API: sync calls over python-telegram-bot, errors that say if a retry helps."""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import enum
import os
import ssl
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, TypeVar

import aiohttp
import httpx
from django.conf import settings
from httpx_aiohttp import AiohttpTransport
from telegram import Bot, ReactionTypeEmoji
from telegram import error as tg_error
from telegram.constants import ChatAction
from telegram.request import HTTPXRequest

from config.logging import redact
from monitoring import metrics

T = TypeVar("T")

# Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta) so it does not emit a
# deprecation warning on every 429; `seconds()` below accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

DEFAULT_TIMEOUT_S = 10.0
# Enough for a batch of concurrent sends inside one `run`; a single call uses one connection.
CONNECTION_POOL_SIZE = 8
REDACTED = "[redacted-token]"


class TelegramClientError(Exception):
    """Base of every error the Telegram client raises; `retryable` says whether trying again can help."""

    retryable: ClassVar[bool] = False


class TelegramRetryAfter(TelegramClientError):
    """Telegram's flood control (429): retry, but not before `retry_after` seconds."""

    retryable = True

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Telegram flood control: retry after {retry_after:g} s")
        self.retry_after = retry_after


class TelegramTransientError(TelegramClientError):
    """5xx, timeout or network failure: retry with backoff.

    `maybe_sent` is True when the request may have reached Telegram before the failure (a read timeout,
    a dropped connection): a retried sendMessage could then post the message twice.
    """

    retryable = True

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class PermanentKind(enum.StrEnum):
    """Why a request can never succeed as sent."""

    CHAT_NOT_FOUND = "chat_not_found"
    BOT_KICKED = "bot_kicked"
    BOT_BLOCKED = "bot_blocked"
    NOT_A_MEMBER = "not_a_member"
    NOT_ENOUGH_RIGHTS = "not_enough_rights"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    CHAT_MIGRATED = "chat_migrated"
    CONFLICT = "conflict"
    BAD_REQUEST = "bad_request"


# The bot has lost the chat: delivery should disable the membership rather than just fail the turn.
MEMBERSHIP_ENDING_KINDS = frozenset(
    {
        PermanentKind.CHAT_NOT_FOUND,
        PermanentKind.BOT_KICKED,
        PermanentKind.BOT_BLOCKED,
        PermanentKind.NOT_A_MEMBER,
        PermanentKind.NOT_ENOUGH_RIGHTS,
        PermanentKind.FORBIDDEN,
        PermanentKind.UNAUTHORIZED,
        PermanentKind.CHAT_MIGRATED,
    }
)


class TelegramPermanentError(TelegramClientError):
    """Telegram refused the request for good (chat not found, kicked, blocked, bad token, ...): do not retry."""

    def __init__(self, reason: str, *, kind: PermanentKind = PermanentKind.BAD_REQUEST) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind

    @property
    def ends_membership(self) -> bool:
        """Whether the bot has lost access to the chat (disable the membership, not just this turn)."""
        return self.kind in MEMBERSHIP_ENDING_KINDS


class TelegramChatMigrated(TelegramPermanentError):
    """The group became a supergroup: the old chat id is dead, `migrate_to_chat_id` is the new one."""

    def __init__(self, reason: str, *, migrate_to_chat_id: int) -> None:
        super().__init__(reason, kind=PermanentKind.CHAT_MIGRATED)
        self.migrate_to_chat_id = migrate_to_chat_id


class TelegramConflictError(TelegramPermanentError):
    """409: another getUpdates poller runs for this token, or a webhook is set while polling."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, kind=PermanentKind.CONFLICT)


@dataclass(frozen=True)
class BotIdentity:
    """Who a token belongs to, as getMe reports it."""

    id: int
    username: str
    first_name: str
    can_join_groups: bool
    can_read_all_group_messages: bool


@dataclass(frozen=True)
class SentMessage:
    """A message Telegram accepted."""

    message_id: int
    date: dt.datetime


class TelegramSession:
    """Async Bot API calls on one `Bot` inside one event loop; obtained through `TelegramClient.run`."""

    def __init__(self, bot: Bot, token: str, timeout: float) -> None:
        self._bot = bot
        self._token = token
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"TelegramSession(bot_id={bot_id_of(self._token)})"

    async def get_me(self) -> BotIdentity:
        """The bot behind the token."""
        user = await self._call("getMe", self._bot.get_me())
        return BotIdentity(
            id=user.id,
            username=user.username or "",
            first_name=user.first_name,
            can_join_groups=bool(user.can_join_groups),
            can_read_all_group_messages=bool(user.can_read_all_group_messages),
        )

    async def send_message(self, chat_id: int | str, text: str, reply_to_message_id: int | None = None) -> SentMessage:
        """Send a text message, threaded under `reply_to_message_id` when given."""
        message = await self._call(
            "sendMessage", self._bot.send_message(chat_id, text, reply_to_message_id=reply_to_message_id)
        )
        return SentMessage(message_id=message.message_id, date=message.date)

    async def send_typing(self, chat_id: int | str) -> None:
        """Show "typing…" in the chat (Telegram clears it after ~5 s or on the next message)."""
        await self._call("sendChatAction", self._bot.send_chat_action(chat_id, ChatAction.TYPING))

    async def set_reaction(self, chat_id: int | str, message_id: int, emoji: str) -> None:
        """React to a message with one of Telegram's allowed reaction emoji (`telegram.constants.ReactionEmoji`)."""
        reaction = ReactionTypeEmoji(emoji)
        await self._call("setMessageReaction", self._bot.set_message_reaction(chat_id, message_id, reaction))

    async def get_updates(
        self, offset: int | None = None, timeout: int = 0, allowed_updates: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Raw update dicts after `offset`, long-polling up to `timeout` seconds when none are pending."""
        data: dict[str, Any] = {"offset": offset, "timeout": timeout, "allowed_updates": allowed_updates}
        # The private `_post` returns raw JSON, so one malformed update cannot fail the whole batch in
        # PTB's parser; the members code parses each update itself.
        result = await self._call(
            "getUpdates", self._bot._post("getUpdates", data, read_timeout=self._timeout + timeout)
        )
        return list(result)

    async def set_webhook(
        self,
        url: str,
        secret_token: str,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool = False,
    ) -> None:
        """Register the webhook URL and the secret Telegram will send in X-Telegram-Bot-Api-Secret-Token."""
        call = self._bot.set_webhook(
            url, secret_token=secret_token, allowed_updates=allowed_updates, drop_pending_updates=drop_pending_updates
        )
        await self._call("setWebhook", call)

    async def delete_webhook(self, drop_pending_updates: bool = False) -> None:
        """Remove the webhook (needed before polling with getUpdates)."""
        await self._call("deleteWebhook", self._bot.delete_webhook(drop_pending_updates=drop_pending_updates))

    async def get_webhook_info(self) -> dict[str, Any]:
        """The webhook status as Telegram reports it (url, pending_update_count, last_error_message, ...)."""
        info = await self._call("getWebhookInfo", self._bot.get_webhook_info())
        return dict(info.to_dict())

    async def _call(self, method: str, call: Awaitable[T]) -> T:
        """Await one API call, translating PTB's errors into ours without the token; counts it by outcome."""
        try:
            result = await call
        except tg_error.TelegramError as exc:
            error = translate_error(method, exc, self._token)
            outcome = "rate_limited" if isinstance(error, TelegramRetryAfter) else "error"
            metrics.record_telegram_request(method, outcome)
            raise error from None
        metrics.record_telegram_request(method, "ok")
        return result


class TelegramClient:
    """Sync Telegram Bot API client for one bot token; each call runs its own event loop and `Bot`."""

    def __init__(self, token: str, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self._token = token
        self._base_url = base_url or settings.TELEGRAM_API_BASE_URL
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"TelegramClient(bot_id={bot_id_of(self._token)}, base_url={self._base_url!r})"

    def run(self, operation: Callable[[TelegramSession], Awaitable[T]]) -> T:
        """Run several calls on this thread's event loop, over its kept-alive HTTP connection pool."""
        return _thread_loop().run_until_complete(self.call(operation))

    def get_me(self) -> BotIdentity:
        """The bot behind the token; a permanent error means the token is invalid."""
        return self.run(lambda session: session.get_me())

    def send_message(self, chat_id: int | str, text: str, reply_to_message_id: int | None = None) -> SentMessage:
        """Send a text message, threaded under `reply_to_message_id` when given."""
        return self.run(lambda session: session.send_message(chat_id, text, reply_to_message_id))

    def send_typing(self, chat_id: int | str) -> None:
        """Show "typing…" in the chat."""
        self.run(lambda session: session.send_typing(chat_id))

    def set_reaction(self, chat_id: int | str, message_id: int, emoji: str) -> None:
        """React to a message with one allowed emoji."""
        self.run(lambda session: session.set_reaction(chat_id, message_id, emoji))

    def get_updates(
        self, offset: int | None = None, timeout: int = 0, allowed_updates: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Raw update dicts after `offset`, long-polling up to `timeout` seconds."""
        return self.run(lambda session: session.get_updates(offset, timeout, allowed_updates))

    def set_webhook(
        self,
        url: str,
        secret_token: str,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool = False,
    ) -> None:
        """Register the webhook URL and its secret token."""
        self.run(lambda session: session.set_webhook(url, secret_token, allowed_updates, drop_pending_updates))

    def delete_webhook(self, drop_pending_updates: bool = False) -> None:
        """Remove the webhook."""
        self.run(lambda session: session.delete_webhook(drop_pending_updates))

    def get_webhook_info(self) -> dict[str, Any]:
        """The webhook status as Telegram reports it."""
        return self.run(lambda session: session.get_webhook_info())

    async def call(self, operation: Callable[[TelegramSession], Awaitable[T]]) -> T:
        """`run` inside the caller's event loop (see `run_together`)."""
        # The Bot is cheap; the HTTP pool behind it is the loop's, so connections (and TLS) are reused.
        request = _loop_request(self._timeout)
        bot = Bot(self._token, base_url=self._base_url, request=request, get_updates_request=request)
        return await operation(TelegramSession(bot, self._token, self._timeout))


def run_together(calls: Sequence[Awaitable[T]], returned: Callable[[int, T | BaseException], None]) -> None:
    """Await several calls (`TelegramClient.call`) concurrently on this thread's event loop; `returned(index,
    result or exception)` as each returns.

    One loop for a batch's calls costs less CPU than a thread and a loop run for each.
    """

    async def one(index: int, call: Awaitable[T]) -> None:
        try:
            result: T | BaseException = await call
        except Exception as error:  # noqa: BLE001 - handed to the caller, who decides
            result = error
        returned(index, result)

    async def every() -> None:
        await asyncio.gather(*(one(index, call) for index, call in enumerate(calls)))

    _thread_loop().run_until_complete(every())


_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """One event loop per thread, kept for the life of the process (an RQ worker runs jobs on one thread).

    `asyncio.run` per call built a loop, a Bot, an httpx client and a new TCP (TLS in production)
    connection for every API call, several milliseconds of CPU each.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
        _local.requests = {}
        with _loops_lock:
            _loops.append((loop, _local.requests))
    return loop


_loops: list[tuple[asyncio.AbstractEventLoop, dict[float, HTTPXRequest]]] = []
_loops_lock = threading.Lock()


@atexit.register
def close_loops() -> None:
    """Close every thread's HTTP connections and event loop (an open aiohttp session complains when collected)."""
    with _loops_lock:
        loops, _loops[:] = list(_loops), []
    for loop, requests in loops:
        if loop.is_closed() or loop.is_running():
            continue
        loop.run_until_complete(_shutdown(list(requests.values())))
        loop.close()


async def _shutdown(requests: list[HTTPXRequest]) -> None:
    await asyncio.gather(*(request.shutdown() for request in requests), return_exceptions=True)


def _loop_request(timeout: float) -> HTTPXRequest:
    """The HTTP layer of this thread's loop for a timeout (an httpx client is bound to the loop it runs on)."""
    requests: dict[float, HTTPXRequest] = _local.requests
    if timeout not in requests:
        requests[timeout] = build_request(timeout)
    return requests[timeout]


def build_request(timeout: float) -> HTTPXRequest:
    """PTB's HTTP layer with our timeouts, no retries and a shared TLS context, over aiohttp.

    httpx's own async transport cost about twice the CPU per call; `httpx_aiohttp` (groq's `aiohttp` extra)
    keeps the httpx interface PTB speaks and hands the connection to aiohttp.
    """
    limits = httpx.Limits(max_connections=CONNECTION_POOL_SIZE, max_keepalive_connections=CONNECTION_POOL_SIZE)
    return HTTPXRequest(
        connection_pool_size=CONNECTION_POOL_SIZE,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=timeout,
        pool_timeout=timeout,
        httpx_kwargs={"transport": AiohttpTransport(verify=shared_ssl_context(), limits=limits)},
    )


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one (loading CA certificates) costs milliseconds per client."""
    return httpx.create_ssl_context()


def bot_id_of(token: str) -> str:
    """The public numeric bot id in a token, safe to show."""
    prefix = token.split(":", 1)[0]
    return prefix if prefix.isdigit() else "?"


def translate_error(method: str, exc: tg_error.TelegramError, token: str) -> TelegramClientError:
    """Map a python-telegram-bot error to ours; messages are scrubbed of the token."""
    detail = scrub(f"{type(exc).__name__}: {exc.message}", token)
    if isinstance(exc, tg_error.RetryAfter):
        return TelegramRetryAfter(retry_after=seconds(exc.retry_after))
    if isinstance(exc, tg_error.ChatMigrated):
        return TelegramChatMigrated(f"{method}: {detail}", migrate_to_chat_id=int(exc.new_chat_id))
    if isinstance(exc, tg_error.Conflict):
        return TelegramConflictError(f"{method}: {detail}")
    if isinstance(exc, tg_error.InvalidToken | tg_error.Forbidden | tg_error.BadRequest):
        return TelegramPermanentError(f"{method}: {detail}", kind=classify_permanent(exc))
    return TelegramTransientError(f"{method}: {detail}", maybe_sent=maybe_sent(exc))


def classify_permanent(exc: tg_error.TelegramError) -> PermanentKind:
    """Read Telegram's description to tell why a request is refused."""
    text = exc.message.lower()
    if isinstance(exc, tg_error.InvalidToken):
        return PermanentKind.UNAUTHORIZED
    rules = (
        ("chat not found", PermanentKind.CHAT_NOT_FOUND),
        ("kicked", PermanentKind.BOT_KICKED),
        ("blocked", PermanentKind.BOT_BLOCKED),
        ("not a member", PermanentKind.NOT_A_MEMBER),
        ("not enough rights", PermanentKind.NOT_ENOUGH_RIGHTS),
        ("have no rights", PermanentKind.NOT_ENOUGH_RIGHTS),
    )
    for needle, kind in rules:
        if needle in text:
            return kind
    return PermanentKind.FORBIDDEN if isinstance(exc, tg_error.Forbidden) else PermanentKind.BAD_REQUEST


def maybe_sent(exc: tg_error.TelegramError) -> bool:
    """Whether the failed request may have reached Telegram (so a retry could duplicate it)."""
    cause = exc.__cause__
    if cause is None:  # Telegram answered with an HTTP error status: it did not act on the request
        return False
    # httpx_aiohttp maps every aiohttp connection error to httpx.ConnectTimeout, a connection dropped after
    # the request went out included: aiohttp's own error says whether the connection was ever made.
    origin = cause.__cause__
    if isinstance(origin, aiohttp.ClientError):
        return not isinstance(origin, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def seconds(value: int | float | dt.timedelta) -> float:
    """retry_after as seconds (PTB returns an int or a timedelta depending on PTB_TIMEDELTA)."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def scrub(text: str, token: str) -> str:
    """Remove the token (and anything token-shaped) from a message."""
    return redact(text.replace(token, REDACTED)) if token else redact(text)

"""The one boundary to the Telegram Bot API: python-telegram-bot on our aiohttp request, errors that say if a retry
helps. Calls are async (`TelegramClient.call`, awaited together by the engine) or sync for commands (`run`)."""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import aiohttp
from django.conf import settings
from telegram import Bot, ReactionTypeEmoji, ReplyParameters
from telegram import error as tg_error
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.constants import ChatAction
from telegram.request import BaseRequest, RequestData

from config.logging import redact
from engine.clients import loops
from engine.clients.telegram_types import TgChatMember
from monitoring import metrics

T = TypeVar("T")

# Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta) so it does not emit a
# deprecation warning on every 429; `seconds()` below accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

DEFAULT_TIMEOUT_S = 10.0
# Connections per loop: a send batch's calls (up to 16, `dispatch.SEND_BATCH`) all in flight at once.
CONNECTION_POOL_SIZE = 16
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
    QUOTE_INVALID = "quote_invalid"
    TOPIC_CLOSED = "topic_closed"  # a forum topic closed (or deleted) since: the chat and the bot are fine
    BAD_REQUEST = "bad_request"


# Telegram keeps the bot from posting in a group it may be let back into: delivery pauses the membership (resumed
# by the `my_chat_member` update saying it may post again) rather than disabling it.
MEMBERSHIP_PAUSING_KINDS = frozenset(
    {PermanentKind.BOT_KICKED, PermanentKind.NOT_A_MEMBER, PermanentKind.NOT_ENOUGH_RIGHTS}
)

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

    @property
    def pauses_membership(self) -> bool:
        """Whether the bot was kicked, left or muted in a group (pause the membership until Telegram says otherwise)."""
        return self.kind in MEMBERSHIP_PAUSING_KINDS


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
class ChatCapabilities:
    """What getChat says a group lets its members do: forum, slow mode, default rights, the reactions allowed."""

    is_forum: bool
    slow_mode_delay: int
    permissions: dict[str, bool]
    available_reactions: list[str] | None  # None: every emoji; []: reactions off (custom emoji left out)


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

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        reply_to_message_id: int | None = None,
        thread_id: int | None = None,
        *,
        quote: str | None = None,
    ) -> SentMessage:
        """Send a text message, threaded under `reply_to_message_id` when given (unthreaded if that is deleted), in
        the forum topic `thread_id` (None: General, which Telegram wants addressed without one), quoting the part
        of the target answered when `quote` is given (sent again without it if Telegram refuses it)."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if thread_id is not None:
            data["message_thread_id"] = thread_id
        if reply_to_message_id is not None:
            # A target deleted meanwhile would fail the send ("message to be replied not found"); the answer
            # still belongs in the chat.
            data["reply_parameters"] = ReplyParameters(
                reply_to_message_id, allow_sending_without_reply=True, quote=quote or None
            )
        try:
            message = await self._post_message(data)
        except TelegramPermanentError as error:
            if error.kind != PermanentKind.QUOTE_INVALID or reply_to_message_id is None:
                raise
            # The target was edited since (or the quote never matched): the reply still goes, unquoted.
            data["reply_parameters"] = ReplyParameters(reply_to_message_id, allow_sending_without_reply=True)
            message = await self._post_message(data)
        try:
            return SentMessage(
                message_id=int(message["message_id"]), date=dt.datetime.fromtimestamp(message["date"], dt.UTC)
            )
        except (TypeError, KeyError, ValueError, OverflowError) as error:  # accepted, but no message we can read
            raise TelegramTransientError(f"sendMessage: unusable answer ({error!r})", maybe_sent=True) from None

    async def _post_message(self, data: dict[str, Any]) -> Any:
        # `Bot.send_message` parses Telegram's answer into a `Message` (the one replied to included) for the two
        # fields kept here; the private `_post`, as `get_updates` uses, gives the JSON (decision record 015).
        return await self._call("sendMessage", self._bot._post("sendMessage", data))

    async def get_chat(self, chat_id: int | str) -> ChatCapabilities:
        """What the group lets its members do (getChat's ChatFullInfo)."""
        # Raw JSON: PTB's ChatFullInfo reads an absent `available_reactions` (every emoji allowed) as an empty
        # tuple, which is what reactions turned off look like.
        info = await self._call("getChat", self._bot._post("getChat", {"chat_id": chat_id}))
        try:
            return chat_capabilities(info)
        except (TypeError, KeyError, ValueError, AttributeError) as error:
            raise TelegramTransientError(f"getChat: unusable answer ({error!r})") from None

    async def get_chat_member_status(self, chat_id: int | str, user_id: int) -> str:
        """A user's status in a chat: creator, administrator, member, restricted, left or kicked."""
        return (await self.get_chat_member(chat_id, user_id)).status

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> TgChatMember:
        """A user's standing in a chat (status, and a restricted member's right to send)."""
        member = await self._call("getChatMember", self._bot.get_chat_member(chat_id, user_id))
        return TgChatMember.model_validate(member.to_dict())

    async def send_typing(self, chat_id: int | str, thread_id: int | None = None) -> None:
        """Show "typing…" in the chat, in its forum topic `thread_id` if given (Telegram clears it after ~5 s or on
        the next message)."""
        call = self._bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
        await self._call("sendChatAction", call)

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
    """Telegram Bot API client for one bot token: `call` inside the caller's event loop, the sync methods on this
    thread's loop (engine.clients.loops), over the loop's kept-alive HTTP session."""

    def __init__(self, token: str, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self._token = token
        self._base_url = base_url or settings.TELEGRAM_API_BASE_URL
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"TelegramClient(bot_id={bot_id_of(self._token)}, base_url={self._base_url!r})"

    def run(self, operation: Callable[[TelegramSession], Awaitable[T]]) -> T:
        """Run several calls on this thread's event loop, over its kept-alive HTTP connection pool."""
        return loops.run(self.call(operation))

    def get_me(self) -> BotIdentity:
        """The bot behind the token; a permanent error means the token is invalid."""
        return self.run(lambda session: session.get_me())

    def send_message(
        self, chat_id: int | str, text: str, reply_to_message_id: int | None = None, thread_id: int | None = None
    ) -> SentMessage:
        """Send a text message, threaded under `reply_to_message_id` when given, in forum topic `thread_id`."""
        return self.run(lambda session: session.send_message(chat_id, text, reply_to_message_id, thread_id))

    def get_chat(self, chat_id: int | str) -> ChatCapabilities:
        """What the group lets its members do (getChat)."""
        return self.run(lambda session: session.get_chat(chat_id))

    def get_chat_member_status(self, chat_id: int | str, user_id: int) -> str:
        """A user's status in a chat (creator, administrator, member, restricted, left, kicked)."""
        return self.run(lambda session: session.get_chat_member_status(chat_id, user_id))

    def send_typing(self, chat_id: int | str, thread_id: int | None = None) -> None:
        """Show "typing…" in the chat (in forum topic `thread_id`)."""
        self.run(lambda session: session.send_typing(chat_id, thread_id))

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
        """`run` inside the caller's event loop (see `loops.run_together`)."""
        # The Bot is cheap; the HTTP session behind it is the loop's, so connections (and TLS) are reused.
        request = loops.loop_resource(("telegram", self._timeout), lambda: AiohttpRequest(self._timeout), _shutdown)
        bot = Bot(self._token, base_url=self._base_url, request=request, get_updates_request=request)
        return await operation(TelegramSession(bot, self._token, self._timeout))


class AiohttpRequest(BaseRequest):
    """PTB's HTTP layer on one aiohttp session: JSON bodies, our timeouts, no retries.

    PTB's own `HTTPXRequest` spends more CPU per call in httpx than the call's own work
    (docs/decisions/015-telegram-aiohttp-request.md); PTB documents `BaseRequest` for replacing it.
    """

    def __init__(self, timeout: float, pool_size: int = CONNECTION_POOL_SIZE) -> None:
        self._timeout = timeout
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        """The read timeout of calls that do not set their own."""
        return self._timeout

    async def initialize(self) -> None:
        """Open the session (on the running loop, which it then belongs to)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request; PTB's TimedOut or NetworkError (chained to aiohttp's error) when it fails."""
        if request_data is not None and request_data.contains_files:
            raise tg_error.TelegramError("file uploads are not supported by this client")  # the engine sends none
        await self.initialize()
        assert self._session is not None
        connect = self._seconds(connect_timeout)
        # aiohttp's `connect` covers waiting for a pooled connection and making a new one.
        timeout = aiohttp.ClientTimeout(
            connect=connect + self._seconds(pool_timeout), sock_connect=connect, sock_read=self._seconds(read_timeout)
        )
        body = request_data.json_payload if request_data is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's connect and read timeouts are TimeoutErrors too
            raise tg_error.TimedOut from error
        except aiohttp.ClientError as error:
            raise tg_error.NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _seconds(self, value: ODVInput[float]) -> float:
        return self._timeout if value is None or isinstance(value, DefaultValue) else float(value)


async def _shutdown(request: AiohttpRequest) -> None:
    await request.shutdown()


def chat_capabilities(info: dict[str, Any]) -> ChatCapabilities:
    """getChat's ChatFullInfo JSON as `ChatCapabilities` (only emoji reactions: bots set no custom emoji)."""
    reactions = info.get("available_reactions")
    return ChatCapabilities(
        is_forum=bool(info.get("is_forum")),
        slow_mode_delay=int(info.get("slow_mode_delay") or 0),
        permissions={name: bool(value) for name, value in (info.get("permissions") or {}).items()},
        available_reactions=None
        if reactions is None
        else [str(r["emoji"]) for r in reactions if r.get("type") == "emoji"],
    )


def bot_id_of(token: str) -> str:
    """The public numeric bot id in a token, safe to show."""
    prefix = token.split(":", 1)[0]
    return prefix if prefix.isdigit() else "?"


def translate_error(method: str, exc: tg_error.TelegramError, token: str) -> TelegramClientError:
    """Map a python-telegram-bot error to ours; messages are scrubbed of the token."""
    name = type(exc).__name__
    # Telegram's own words lead with the kind ("Forbidden: bot was kicked…"): name it once.
    said = exc.message if exc.message.casefold().startswith(name.casefold()) else f"{name}: {exc.message}"
    detail = scrub(said, token)
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
        ("quote_text_invalid", PermanentKind.QUOTE_INVALID),
        ("topic_closed", PermanentKind.TOPIC_CLOSED),
        ("message thread not found", PermanentKind.TOPIC_CLOSED),
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
    # Only an error before a connection was made (or taken from the pool) proves the request never went out.
    return not isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def seconds(value: int | float | dt.timedelta) -> float:
    """retry_after as seconds (PTB returns an int or a timedelta depending on PTB_TIMEDELTA)."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def scrub(text: str, token: str) -> str:
    """Remove the token (and anything token-shaped) from a message."""
    return redact(text.replace(token, REDACTED)) if token else redact(text)

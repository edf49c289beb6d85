"""A fake Telegram Bot API server: real HTTP on 127.0.0.1, scriptable faults, a record of every request.

Usage::

    with FakeTelegram() as fake:
        bot = fake.add_bot(username="ayse_bot")
        client = TelegramClient(bot.token, base_url=fake.base_url)
        fake.rate_limit("sendMessage", retry_after=3)
        ...
        assert fake.requests("sendMessage")[0].params["text"] == "..."

In a test case: ``self.fake = fake_telegram_for(self, LLM_PROVIDER="offline")`` (a started server, stopped
afterwards, with the Bot API address pointed at it and the other settings given overridden).
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import json
import math
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from django.test import override_settings
from telegram.constants import ChatAction, ReactionEmoji

if TYPE_CHECKING:
    from unittest import TestCase

JSONDict = dict[str, Any]

PATH_PATTERN = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
MENTION_PATTERN = re.compile(r"@[A-Za-z0-9_]{3,32}")
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# Form bodies carry every value as a string; these are decoded like Telegram does.
INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "message_thread_id", "user_id"}
)
BOOL_FIELDS = frozenset({"is_big", "drop_pending_updates", "disable_notification", "protect_content"})
JSON_FIELDS = frozenset(
    {"reply_parameters", "reaction", "allowed_updates", "entities", "reply_markup", "link_preview_options"}
)
MESSAGE_MAX_CHARS = 4096
REACTION_EMOJI = frozenset(str(emoji) for emoji in ReactionEmoji)
CHAT_ACTIONS = frozenset(str(action) for action in ChatAction)
MAX_LONG_POLL_S = 50.0
UPDATE_ID_START = 100_000_000

# Descriptions exactly as Telegram words them; delivery code classifies errors by them.
CHAT_NOT_FOUND = "Bad Request: chat not found"
BOT_KICKED = "Forbidden: bot was kicked from the group chat"
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
REPLY_TARGET_GONE = "Bad Request: message to be replied not found"
CHAT_UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"  # with parameters.migrate_to_chat_id
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
THREAD_NOT_FOUND = "Bad Request: message thread not found"  # also for 1, General's id: General takes no thread id
TOPIC_ICON_COLOR = 7322096  # one of the six colours Telegram allows for a topic's icon
SUPERGROUP_ID_BASE = -1_000_000_000_000  # supergroup ids are -100… (-10^12 - n)
CHAT_METHODS = frozenset({"sendmessage", "sendchataction", "setmessagereaction", "getchat"})
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
NOT_ENOUGH_RIGHTS = "Bad Request: not enough rights to send text messages to the chat"
REACTION_INVALID = "Bad Request: REACTION_INVALID"
QUOTE_TEXT_INVALID = "Bad Request: QUOTE_TEXT_INVALID"
QUOTE_MAX_UTF16 = 1024
# Slow mode (telegram-bot-api #75): a send due within this many seconds is held until then, a later one gets 429.
SLOW_MODE_HOLD_S = 10.0
ADMIN_STATUSES = frozenset({"creator", "administrator"})
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
TELEGRAM_SERVICE = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
# What a bot gets when it never said which updates it wants (Bot API: getUpdates, allowed_updates).
DEFAULT_ALLOWED = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "my_chat_member"}
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Engine workers send from many threads, each with its own connections: with the default backlog of 5, a
    # burst of new connections overflows it, and a connection the server never accepted fails mid-request
    # (httpx.ReadError), which the engine must treat as "maybe delivered".
    request_queue_size = 1024


class FakeTelegramError(Exception):
    """An error answer: HTTP status, Telegram description and optional response parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class FakeBot:
    """A bot account the fake server knows: its token and the user Telegram reports for it."""

    token: str
    id: int
    username: str
    first_name: str
    # Telegram's getMe field: False while privacy mode is on (BotFather's default for a new bot).
    can_read_all_group_messages: bool = False

    def user(self) -> JSONDict:
        """The bot as a Telegram User object."""
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def me(self) -> JSONDict:
        """The getMe result."""
        return {
            **self.user(),
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
        }


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received; `at` is `time.monotonic()` on arrival."""

    at: float
    token: str
    method: str
    params: JSONDict
    content_type: str

    @property
    def chat_id(self) -> int | str | None:
        """The chat the request addressed, if any."""
        return self.params.get("chat_id")

    @property
    def reply_to_message_id(self) -> int | None:
        """The replied-to message id from `reply_parameters` or the legacy `reply_to_message_id`."""
        return reply_to_message_id(self.params)


@dataclass
class Fault:
    """A scripted misbehaviour: latency and/or an error answer for matching requests."""

    method: str | None
    status: int = 0
    description: str = ""
    parameters: JSONDict | None = None
    latency: float = 0.0
    remaining: int | None = 1
    chat_id: int | str | None = None
    token: str | None = None

    def matches(self, token: str, method: str, params: JSONDict) -> bool:
        """Whether this fault applies to the request and is not used up."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        if self.token is not None and self.token != token:
            return False
        return self.chat_id is None or str(self.chat_id) == str(params.get("chat_id"))


@dataclass
class WebhookState:
    """What setWebhook registered for one bot."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] = field(default_factory=list)
    max_connections: int = 40


@dataclass
class ForumTopic:
    """A topic of a forum supergroup: its thread id is the id of its `forum_topic_created` service message."""

    thread_id: int
    name: str
    created: JSONDict  # the service message, which every message in the topic replies to
    closed: bool = False


def make_token(bot_id: int) -> str:
    """A token shaped like a real one: `<bot id>:<35 url-safe characters>`."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return f"{bot_id}:" + "".join(secrets.choice(alphabet) for _ in range(35))


def make_user(user_id: int, first_name: str, username: str | None = None, *, is_bot: bool = False) -> JSONDict:
    """A Telegram User object."""
    user: JSONDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if username:
        user["username"] = username
    return user


def make_chat(chat_id: int, title: str | None = None) -> JSONDict:
    """A Telegram Chat object: ids from -10^12 down are supergroups, other negative ones basic groups, positive ones
    private chats (as Telegram numbers them)."""
    if chat_id <= SUPERGROUP_ID_BASE:
        return {"id": chat_id, "type": "supergroup", "title": title or f"Group {chat_id}"}
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": title or f"Group {chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": title or f"User {chat_id}"}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def mention_entities(text: str) -> list[JSONDict]:
    """`mention` entities for every @username in the text, with UTF-16 offsets."""
    return [
        {"type": "mention", "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group())}
        for match in MENTION_PATTERN.finditer(text)
    ]


def make_message(
    *,
    message_id: int,
    chat: JSONDict,
    sender: JSONDict,
    text: str,
    reply_to_message: JSONDict | None = None,
    date: int | None = None,
) -> JSONDict:
    """A Telegram Message object with mention entities derived from the text."""
    message: JSONDict = {
        "message_id": message_id,
        "from": sender,
        "chat": chat,
        "date": date if date is not None else int(time.time()),
        "text": text,
    }
    entities = mention_entities(text)
    if entities:
        message["entities"] = entities
    if reply_to_message is not None:
        message["reply_to_message"] = reply_to_message
    return message


def chat_member(user: JSONDict, status: str, *, can_send_messages: bool = True) -> JSONDict:
    """A ChatMember object of the given status (a restricted one with its `is_member` and send rights)."""
    member: JSONDict = {"user": user, "status": status}
    if status == "administrator":
        member.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True)
        member.update(can_restrict_members=True, can_promote_members=False, can_change_info=True)
        member.update(can_invite_users=True, can_pin_messages=True, can_manage_video_chats=True)
        member.update(can_post_stories=False, can_edit_stories=False, can_delete_stories=False)
    elif status == "creator":
        member.update(is_anonymous=False)
    elif status == "restricted":
        member.update(is_member=True, can_send_messages=can_send_messages, until_date=0)
        for right in RESTRICTED_RIGHTS:
            member[right] = can_send_messages
    elif status == "kicked":
        member.update(until_date=0)
    return member


RESTRICTED_RIGHTS = (
    "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
    "can_send_voice_notes", "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
    "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
    "can_react_to_messages",
)  # fmt: skip


def default_permissions() -> JSONDict:
    """A new group's ChatPermissions: members may send everything, invite users, not change info or pin."""
    rights: JSONDict = {"can_send_messages": True, **dict.fromkeys(RESTRICTED_RIGHTS, True)}
    rights.update(can_change_info=False, can_pin_messages=False, can_manage_topics=False, can_edit_tag=False)
    return rights


def anonymous_admin_fields(chat_id: int, *, signature: str | None = None, title: str | None = None) -> JSONDict:
    """What a message posted by a group admin as the group carries: `from` GroupAnonymousBot, `sender_chat` the
    group itself, and the admin's custom title as `author_signature` if set."""
    fields: JSONDict = {"from": dict(ANONYMOUS_ADMIN), "sender_chat": make_chat(chat_id, title)}
    if signature:
        fields["author_signature"] = signature
    return fields


def automatic_forward_fields(channel_id: int, channel_title: str, *, post_id: int = 1) -> JSONDict:
    """What a linked channel's post forwarded into its discussion group carries: `from` Telegram (777000), the
    channel as `sender_chat`, `is_automatic_forward` and the channel post as its origin."""
    channel = {"id": channel_id, "type": "channel", "title": channel_title}
    return {
        "from": dict(TELEGRAM_SERVICE),
        "sender_chat": channel,
        "is_automatic_forward": True,
        "forward_origin": {"type": "channel", "chat": channel, "message_id": post_id, "date": int(time.time())},
    }


def make_update(update_id: int, message: JSONDict, *, kind: str = "message") -> JSONDict:
    """A Telegram Update carrying a message (`kind` may be `edited_message`, `channel_post`, ...)."""
    return {"update_id": update_id, kind: message}


def parse_body(content_type: str, body: bytes) -> JSONDict:
    """Parse a JSON, form-encoded or multipart request body into raw parameters."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {}
    if content_type.startswith("multipart/form-data"):
        return parse_multipart(content_type, body)
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def parse_multipart(content_type: str, body: bytes) -> JSONDict:
    """Parse multipart/form-data without the removed `cgi` module."""
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    params: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            params[name] = payload.decode("utf-8", errors="replace")
    return params


def coerce_params(raw: JSONDict) -> JSONDict:
    """Decode string values of known typed fields, as the real Bot API does."""
    return {key: coerce_value(key, value) for key, value in raw.items()}


def coerce_value(key: str, value: Any) -> Any:
    """Decode one parameter; unparseable values are kept as sent so validation can reject them."""
    if not isinstance(value, str):
        return value
    try:
        if key in INT_FIELDS:
            return int(value)
        if key in JSON_FIELDS:
            return json.loads(value)
    except ValueError:
        return value
    if key in BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def ok(result: Any) -> JSONDict:
    """A successful Bot API answer."""
    return {"ok": True, "result": result}


class FakeTelegram:
    """The fake Bot API: bots, chats, updates, webhooks, faults and the request record."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._bots: dict[str, FakeBot] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._next_message_id: dict[str, int] = {}
        self._messages: dict[tuple[str, int], JSONDict] = {}
        self._reactions: dict[tuple[str, int], list[JSONDict]] = {}
        self._updates: dict[str, list[JSONDict]] = {}
        self._next_update_id: dict[str, int] = {}
        self._poll_generation: dict[str, int] = {}
        self._webhooks: dict[str, WebhookState] = {}
        self._migrated: dict[int, int] = {}  # a basic group's id → its supergroup's
        self._deleted: set[tuple[str, int]] = set()  # (chat, message id) deleted in the chat
        self._statuses: dict[tuple[str, int], JSONDict] = {}  # (chat, user id) → ChatMember; absent = member
        self._allowed: dict[str, frozenset[str]] = {}  # what each bot registered with getUpdates or setWebhook
        self._chats: dict[str, JSONDict] = {}  # a group's settings (`set_chat`): slow mode, rights, reactions
        self._last_sent: dict[tuple[str, int], float] = {}  # (chat, bot id) → when the bot last sent there
        self._forums: dict[str, dict[int, ForumTopic]] = {}  # forum chat → its topics by thread id
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> FakeTelegram:
        """Bind a free port and serve in a daemon thread."""
        handler = type("BoundHandler", (FakeTelegramHandler,), {"fake": self})
        self._server = _Server((self._host, 0), handler)
        # A short poll interval keeps shutdown (and so every test's teardown) fast.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, name="fake-telegram", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake long polls and sleeping faults, and release the port."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._server is not None, "FakeTelegram is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The Bot API base URL in settings.TELEGRAM_API_BASE_URL's format (`.../bot`)."""
        return f"http://{self._host}:{self.port}/bot"

    # --- bots ---

    def add_bot(
        self,
        *,
        username: str,
        first_name: str | None = None,
        token: str | None = None,
        bot_id: int | None = None,
        can_read_all_group_messages: bool = False,
    ) -> FakeBot:
        """Register a bot; its user id is the token's numeric prefix; privacy mode is on unless
        `can_read_all_group_messages` (BotFather /setprivacy → Disable)."""
        with self._lock:
            if token is None:
                token = make_token(bot_id if bot_id is not None else 7_000_000_000 + len(self._bots) + 1)
            bot = FakeBot(
                token=token,
                id=int(token.split(":", 1)[0]),
                username=username,
                first_name=first_name or username,
                can_read_all_group_messages=can_read_all_group_messages,
            )
            self._bots[token] = bot
            return bot

    def bot(self, token: str) -> FakeBot:
        """The registered bot for a token."""
        with self._lock:
            return self._bots[token]

    # --- faults ---

    def add_fault(self, fault: Fault) -> Fault:
        """Script a fault; the first matching, unexhausted fault answers a request."""
        with self._lock:
            self._faults.append(fault)
            return fault

    def fail(
        self,
        method: str | None,
        *,
        status: int,
        description: str,
        times: int | None = 1,
        parameters: JSONDict | None = None,
        chat_id: int | str | None = None,
        token: str | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests (None = all) with an error."""
        fault = Fault(
            method,
            status=status,
            description=description,
            parameters=parameters,
            remaining=times,
            chat_id=chat_id,
            token=token,
        )
        return self.add_fault(fault)

    def rate_limit(self, method: str | None, *, retry_after: int, times: int | None = 1, **match: Any) -> Fault:
        """Answer with Telegram's 429 flood-control error."""
        description = f"Too Many Requests: retry after {retry_after}"
        return self.fail(
            method, status=429, description=description, times=times, parameters={"retry_after": retry_after}, **match
        )

    def server_error(self, method: str | None, *, status: int = 500, times: int | None = 1, **match: Any) -> Fault:
        """Answer with a 5xx error."""
        description = f"{HTTPStatus(status).phrase}" if status in HTTPStatus._value2member_map_ else "Server Error"
        return self.fail(method, status=status, description=description, times=times, **match)

    def chat_not_found(self, method: str | None = None, *, times: int | None = None, **match: Any) -> Fault:
        """Answer with 400 chat not found."""
        return self.fail(method, status=400, description=CHAT_NOT_FOUND, times=times, **match)

    def bot_kicked(self, method: str | None = None, *, times: int | None = None, **match: Any) -> Fault:
        """Answer with 403 bot was kicked from the group chat."""
        return self.fail(method, status=403, description=BOT_KICKED, times=times, **match)

    def bot_blocked(self, method: str | None = None, *, times: int | None = None, **match: Any) -> Fault:
        """Answer with 403 bot was blocked by the user."""
        return self.fail(method, status=403, description=BOT_BLOCKED, times=times, **match)

    def delay(self, method: str | None, seconds: float, *, times: int | None = None, **match: Any) -> Fault:
        """Sleep `seconds` before answering matching requests normally."""
        return self.add_fault(Fault(method, latency=seconds, remaining=times, **match))

    def clear_faults(self) -> None:
        """Remove every scripted fault."""
        with self._lock:
            self._faults.clear()

    # --- records ---

    def requests(self, method: str | None = None, *, token: str | None = None) -> list[RecordedRequest]:
        """Recorded requests in arrival order, optionally filtered by method and token."""
        with self._lock:
            return [
                request
                for request in self._requests
                if (method is None or request.method.lower() == method.lower())
                and (token is None or request.token == token)
            ]

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Messages bots sent successfully, in order."""
        with self._lock:
            return [
                _public(message)
                for message in self._messages.values()
                if message.get("_sent") and (chat_id is None or str(message["chat"]["id"]) == str(chat_id))
            ]

    def reactions(self, chat_id: int | str, message_id: int) -> list[JSONDict]:
        """The reaction list last set on a message."""
        with self._lock:
            return list(self._reactions.get((str(chat_id), message_id), []))

    def webhook(self, token: str) -> WebhookState | None:
        """The webhook registered for a bot, if any."""
        with self._lock:
            return self._webhooks.get(token)

    def clear_requests(self) -> None:
        """Forget recorded requests."""
        with self._lock:
            self._requests.clear()

    # --- member messages and updates ---

    def post_member_message(
        self,
        chat_id: int,
        text: str,
        *,
        sender: JSONDict,
        reply_to_message_id: int | None = None,
        to_tokens: list[str] | None = None,
        chat_title: str | None = None,
        extra: JSONDict | None = None,
        as_caption: bool = False,
        thread_id: int | None = None,
    ) -> JSONDict:
        """A member writes in a chat: store the message and queue an update for each bot (default all); `extra` adds
        fields such as `sender_chat` (see `anonymous_admin_fields`, `automatic_forward_fields`); `as_caption` sends
        the text as a photo's caption (`caption`, `caption_entities`), as Telegram does; `thread_id` posts in a
        forum topic (a message there with no reply of its own replies to the topic's creation, as in Telegram)."""
        with self._lock:
            chat = self._chat_locked(chat_id, chat_title)
            reply = self._messages.get((str(chat_id), reply_to_message_id)) if reply_to_message_id else None
            if reply_to_message_id and reply is None:
                reply = {"message_id": reply_to_message_id, "chat": chat, "date": int(time.time())}
            topic = self._forums[str(chat_id)][thread_id] if thread_id is not None else None
            reply = reply or (topic.created if topic is not None else None)
            message = make_message(
                message_id=self._take_message_id(chat_id),
                chat=chat,
                sender=sender,
                text=text,
                reply_to_message=_public(reply) if reply else None,
            )
            if as_caption:
                message["caption"] = message.pop("text")
                message["caption_entities"] = message.pop("entities", [])
                message["photo"] = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 60}]
            if topic is not None:
                message.update(message_thread_id=topic.thread_id, is_topic_message=True)
            message.update(extra or {})
            self._messages[(str(chat_id), message["message_id"])] = message
            for token in self._bots if to_tokens is None else to_tokens:
                self._queue_locked(token, {"message": message})
            return message

    def upgrade_to_supergroup(
        self, chat_id: int, *, new_chat_id: int | None = None, by: JSONDict | None = None, notify: bool = True
    ) -> int:
        """Telegram upgrades a basic group: the old id answers every chat request with CHAT_UPGRADED and the new id,
        and (notify) each bot gets the two service messages, `migrate_to_chat_id` in the old chat and
        `migrate_from_chat_id` in the new one. Returns the supergroup's id."""
        new_id = new_chat_id if new_chat_id is not None else SUPERGROUP_ID_BASE - abs(chat_id)
        sender = by or make_user(1, "Admin")
        with self._lock:
            self._migrated[chat_id] = new_id
            if notify:
                to = {
                    "message_id": self._take_message_id(chat_id),
                    "from": sender,
                    "chat": make_chat(chat_id),
                    "date": int(time.time()),
                    "migrate_to_chat_id": new_id,
                }
                from_ = {
                    "message_id": self._take_message_id(new_id),
                    "from": sender,
                    "chat": make_chat(new_id),
                    "date": int(time.time()),
                    "migrate_from_chat_id": chat_id,
                }
                for token in self._bots:
                    self._queue_locked(token, {"message": to})
                    self._queue_locked(token, {"message": from_})
        return new_id

    def create_forum_topic(self, chat_id: int, name: str, *, by: JSONDict | None = None) -> int:
        """An admin creates a topic in a forum supergroup (the chat becomes a forum if it was not): every bot gets
        the `forum_topic_created` service message, whose id is the topic's thread id. Returns the thread id."""
        assert chat_id <= SUPERGROUP_ID_BASE, "only supergroups have forum topics"
        with self._lock:
            forum = self._forums.setdefault(str(chat_id), {})
            self._next_message_id.setdefault(str(chat_id), 1)  # 1 is the General topic's, never another's
            thread_id = self._take_message_id(chat_id)
            created = {
                **self._service_locked(chat_id, thread_id, by),
                "forum_topic_created": {"name": name, "icon_color": TOPIC_ICON_COLOR},
            }
            forum[thread_id] = ForumTopic(thread_id, name, created)
            self._announce_locked(chat_id, created)
            return thread_id

    def close_forum_topic(
        self, chat_id: int, thread_id: int, *, closed: bool = True, by: JSONDict | None = None
    ) -> None:
        """An admin closes (or, `closed=False`, reopens) a topic: bots' sends there answer TOPIC_CLOSED meanwhile,
        and every bot gets the `forum_topic_closed` (`forum_topic_reopened`) service message."""
        with self._lock:
            topic = self._forums[str(chat_id)][thread_id]
            topic.closed = closed
            service = self._service_locked(chat_id, self._take_message_id(chat_id), by, thread_id=thread_id)
            service["forum_topic_closed" if closed else "forum_topic_reopened"] = {}
            service["reply_to_message"] = topic.created
            self._announce_locked(chat_id, service)

    def set_bot_status(
        self,
        chat_id: int,
        token: str,
        status: str,
        *,
        can_send_messages: bool = True,
        by: JSONDict | None = None,
        chat_title: str | None = None,
        is_forum: bool = False,
    ) -> JSONDict:
        """Someone changes a bot's standing in a group (kicked, left, restricted, member, administrator): its requests
        there are refused or accepted from now on, and the bot gets a `my_chat_member` update (if it registered it).
        Returns the ChatMemberUpdated."""
        with self._lock:
            bot = self._bots[token]
            joining = status in ("member", "administrator")
            old = self._statuses.get((str(chat_id), bot.id)) or chat_member(bot.user(), "left" if joining else "member")
            new = chat_member(bot.user(), status, can_send_messages=can_send_messages)
            self._statuses[(str(chat_id), bot.id)] = new
            chat = make_chat(chat_id, chat_title)
            if is_forum:
                chat["is_forum"] = True  # Telegram sets it only on forum supergroups
            change = {
                "chat": chat,
                "from": by or make_user(1, "Admin"),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            }
            self._queue_locked(token, {"my_chat_member": change})
            return change

    def set_member_status(self, chat_id: int, user: JSONDict, status: str) -> None:
        """A member's standing in a group, as getChatMember will answer it (e.g. "administrator", "creator")."""
        with self._lock:
            self._statuses[(str(chat_id), int(user["id"]))] = chat_member(user, status)

    def set_chat(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        is_forum: bool | None = None,
        slow_mode_delay: int | None = None,
        permissions: JSONDict | None = None,
        available_reactions: Literal["unchanged"] | list[str] | None = "unchanged",
    ) -> JSONDict:
        """A group's admins change its settings: getChat reports them and sends obey them (slow mode for bots that
        are not admins, members' default rights, the reactions allowed: None = all emoji, [] = none). Returns
        getChat's answer."""
        with self._lock:
            settings = self._chats.setdefault(str(chat_id), {})
            changes = {"title": title, "is_forum": is_forum, "slow_mode_delay": slow_mode_delay}
            settings.update({key: value for key, value in changes.items() if value is not None})
            if permissions is not None:
                settings["permissions"] = {**default_permissions(), **permissions}
            if available_reactions != "unchanged":
                settings["available_reactions"] = available_reactions
            return self._chat_info_locked(chat_id)

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Someone deletes a message in the chat: replies to it fail unless `allow_sending_without_reply`."""
        with self._lock:
            self._deleted.add((str(chat_id), message_id))
            self._messages.pop((str(chat_id), message_id), None)

    def queue_update(self, token: str, payload: JSONDict) -> JSONDict:
        """Queue an update for getUpdates; `payload` is the update without `update_id`, which is assigned."""
        with self._lock:
            return self._queue_locked(token, payload)

    def pending_updates(self, token: str) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return list(self._updates.get(token, []))

    def deliver_webhook(self, token: str, update: JSONDict, *, timeout: float = 10.0) -> int | None:
        """POST an update to the bot's registered webhook with its secret header, like Telegram; returns the status,
        or None when the bot's registered `allowed_updates` leave the update's kind out (Telegram never sends it)."""
        state = self.webhook(token)
        assert state is not None, "no webhook registered for this bot"
        assert state.url, "no webhook registered for this bot"
        if not _allowed(update, frozenset(state.allowed_updates) or DEFAULT_ALLOWED):
            return None
        headers = {"Content-Type": "application/json"}
        if state.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = state.secret_token
        request = urllib.request.Request(state.url, data=json.dumps(update).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # --- request handling (called from handler threads) ---

    def handle(self, token: str, method: str, params: JSONDict, content_type: str) -> tuple[int, JSONDict]:
        """Record, apply faults, authenticate and dispatch one Bot API call."""
        with self._lock:
            self._requests.append(RecordedRequest(time.monotonic(), token, method, params, content_type))
            fault = self._take_fault(token, method, params)
        try:
            if fault is not None:
                self._apply_fault(fault)
            bot = self._authenticate(token)
            self._refuse_upgraded(method, params)
            self._refuse_by_status(bot, method, params)
            return HTTPStatus.OK, self._dispatch(bot, method, params)
        except FakeTelegramError as error:
            return error.status, error.body()

    def _take_fault(self, token: str, method: str, params: JSONDict) -> Fault | None:
        for fault in self._faults:
            if fault.matches(token, method, params):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _apply_fault(self, fault: Fault) -> None:
        if fault.latency:
            self._stopping.wait(fault.latency)
        if fault.status:
            raise FakeTelegramError(fault.status, fault.description, fault.parameters)

    def _refuse_upgraded(self, method: str, params: JSONDict) -> None:
        if method.lower() not in CHAT_METHODS:
            return
        with self._lock:
            new_id = self._migrated.get(params.get("chat_id"))  # type: ignore[arg-type]
        if new_id is not None:
            raise FakeTelegramError(400, CHAT_UPGRADED, {"migrate_to_chat_id": new_id})

    def _refuse_by_status(self, bot: FakeBot, method: str, params: JSONDict) -> None:
        """A kicked, departed or muted bot gets Telegram's refusals in the chat (wording per group kind)."""
        if method.lower() not in CHAT_METHODS or not isinstance(params.get("chat_id"), int):
            return
        chat_id = params["chat_id"]
        with self._lock:
            member = self._member_locked(chat_id, bot.user())
        kind = "supergroup chat" if chat_id <= SUPERGROUP_ID_BASE else "group chat"
        if member["status"] == "kicked":
            raise FakeTelegramError(403, f"Forbidden: bot was kicked from the {kind}")
        if member["status"] == "left" or (member["status"] == "restricted" and not member.get("is_member", True)):
            raise FakeTelegramError(403, f"Forbidden: bot is not a member of the {kind}")
        muted = member["status"] == "restricted" and not member.get("can_send_messages", True)
        if muted and method.lower() == "sendmessage":
            raise FakeTelegramError(400, NOT_ENOUGH_RIGHTS)

    def _authenticate(self, token: str) -> FakeBot:
        if not TOKEN_SHAPE.match(token):
            raise FakeTelegramError(404, "Not Found")
        with self._lock:
            bot = self._bots.get(token)
        if bot is None:
            raise FakeTelegramError(401, "Unauthorized")
        return bot

    def _dispatch(self, bot: FakeBot, method: str, params: JSONDict) -> JSONDict:
        handlers = {
            "getme": lambda: ok(bot.me()),
            "sendmessage": lambda: self._send_message(bot, params),
            "sendchataction": lambda: self._send_chat_action(params),
            "setmessagereaction": lambda: self._set_reaction(params),
            "getupdates": lambda: self._get_updates(bot, params),
            "setwebhook": lambda: self._set_webhook(bot, params),
            "deletewebhook": lambda: self._delete_webhook(bot, params),
            "getwebhookinfo": lambda: self._webhook_info(bot),
            "getchatmember": lambda: self._get_chat_member(params),
            "getchat": lambda: self._get_chat(params),
        }
        handler = handlers.get(method.lower())
        if handler is None:
            raise FakeTelegramError(404, "Not Found")
        return handler()

    def _send_message(self, bot: FakeBot, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FakeTelegramError(400, "Bad Request: message text is empty")
        if len(text) > MESSAGE_MAX_CHARS:
            raise FakeTelegramError(400, "Bad Request: message is too long")
        self._obey_chat_settings(bot, chat_id)
        with self._lock:
            reply = self._reply_target(chat_id, params)
            # Without a thread id, a reply goes to the thread of the message it answers (Telegram does the same).
            thread_id = params.get("message_thread_id") or (reply or {}).get("message_thread_id")
            topic = self._topic_locked(chat_id, thread_id)
            message = make_message(
                message_id=self._take_message_id(chat_id),
                chat=self._chat_locked(chat_id),
                sender=bot.user(),
                text=text,
                reply_to_message=reply or (topic.created if topic is not None else None),
            )
            quote = _quote_of(params, reply)
            if quote is not None:
                message["quote"] = quote
            if topic is not None:
                message.update(message_thread_id=topic.thread_id, is_topic_message=True)
            self._messages[(str(chat_id), message["message_id"])] = {**message, "_sent": True}
            self._last_sent[(str(chat_id), bot.id)] = time.monotonic()
        return ok(message)

    def _obey_chat_settings(self, bot: FakeBot, chat_id: int) -> None:
        """The group's rules for a bot that is not an admin: members' right to send, then slow mode (a send due soon
        is held until its time, a later one refused with 429 and how long to wait)."""
        with self._lock:
            settings = self._chats.get(str(chat_id), {})
            if self._member_locked(chat_id, bot.user())["status"] in ADMIN_STATUSES:
                return
            if not settings.get("permissions", {}).get("can_send_messages", True):
                raise FakeTelegramError(400, NOT_ENOUGH_RIGHTS)
            last = self._last_sent.get((str(chat_id), bot.id))
            delay = settings.get("slow_mode_delay", 0)
            wait = 0.0 if last is None or not delay else last + delay - time.monotonic()
        if wait >= SLOW_MODE_HOLD_S:
            retry_after = math.ceil(wait)
            raise FakeTelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        if wait > 0:
            self._stopping.wait(wait)

    def _get_chat(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        with self._lock:
            return ok(self._chat_info_locked(chat_id))

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply_id = reply_to_message_id(params)
        if reply_id is None:
            return None
        reply = params.get("reply_parameters")
        if (str(chat_id), reply_id) in self._deleted:
            if isinstance(reply, dict) and reply.get("allow_sending_without_reply") is True:
                return None  # sent, but not as a reply
            raise FakeTelegramError(400, REPLY_TARGET_GONE)
        known = self._messages.get((str(chat_id), reply_id))
        target = _public(known) if known is not None else None
        if isinstance(reply, dict) and reply.get("quote") is not None:
            # Telegram finds the quote in the target's text; anything else (edited, unknown, too long) is refused.
            quote, body = reply["quote"], (target or {}).get("text") or (target or {}).get("caption") or ""
            if not isinstance(quote, str) or not quote or quote not in body or utf16_len(quote) > QUOTE_MAX_UTF16:
                raise FakeTelegramError(400, QUOTE_TEXT_INVALID)
        return target or {"message_id": reply_id, "chat": make_chat(chat_id), "date": int(time.time())}

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise FakeTelegramError(400, "Bad Request: invalid user_id specified")
        with self._lock:
            known = self._statuses.get((str(chat_id), user_id))
            users = {bot.id: bot.user() for bot in self._bots.values()}
        if known is not None:
            return ok(known)
        return ok({"status": "member", "user": users.get(user_id) or make_user(user_id, f"User {user_id}")})

    def _send_chat_action(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise FakeTelegramError(400, "Bad Request: wrong parameter action in request")
        with self._lock:
            self._topic_locked(chat_id, params.get("message_thread_id"))
        return ok(True)

    def _set_reaction(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list) or any(not _valid_reaction(item) for item in reaction):
            raise FakeTelegramError(400, REACTION_INVALID)
        with self._lock:
            allowed = self._chats.get(str(chat_id), {}).get("available_reactions")
            if allowed is not None and any(item["emoji"] not in allowed for item in reaction):
                raise FakeTelegramError(400, REACTION_INVALID)  # the group allows fewer (or no) reactions
            self._reactions[(str(chat_id), int(params.get("message_id", 0)))] = reaction
        return ok(True)

    def _get_updates(self, bot: FakeBot, params: JSONDict) -> JSONDict:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), MAX_LONG_POLL_S)
        with self._lock:
            if self._webhooks.get(bot.token, WebhookState()).url:
                raise FakeTelegramError(409, WEBHOOK_CONFLICT)
            if params.get("allowed_updates"):  # kept for later calls and updates, as Telegram does
                self._allowed[bot.token] = frozenset(params["allowed_updates"])
            generation = self._poll_generation[bot.token] = self._poll_generation.get(bot.token, 0) + 1
            self._lock.notify_all()
            self._confirm(bot.token, offset)
            while True:
                if self._poll_generation[bot.token] != generation:
                    raise FakeTelegramError(409, POLL_CONFLICT)
                found = list(self._updates.get(bot.token, []))
                remaining = deadline - time.monotonic()
                if found or remaining <= 0 or self._stopping.is_set():
                    return ok(found[:limit])
                self._lock.wait(remaining)

    def _confirm(self, token: str, offset: int) -> None:
        # Telegram forgets updates below a positive offset; a negative offset keeps only the last -offset ones.
        queue = self._updates.get(token, [])
        if offset > 0:
            self._updates[token] = [update for update in queue if update["update_id"] >= offset]
        elif offset < 0:
            self._updates[token] = queue[offset:]

    def _set_webhook(self, bot: FakeBot, params: JSONDict) -> JSONDict:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise FakeTelegramError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not SECRET_TOKEN_PATTERN.match(str(secret)):
            raise FakeTelegramError(400, "Bad Request: secret token contains unallowed characters")
        with self._lock:
            if params.get("drop_pending_updates"):
                self._updates[bot.token] = []
            if params.get("allowed_updates"):
                self._allowed[bot.token] = frozenset(params["allowed_updates"])
            self._webhooks[bot.token] = WebhookState(
                url=url,
                secret_token=secret,
                allowed_updates=list(params.get("allowed_updates") or []),
                max_connections=int(params.get("max_connections") or 40),
            )
        return ok(True)

    def _delete_webhook(self, bot: FakeBot, params: JSONDict) -> JSONDict:
        with self._lock:
            self._webhooks.pop(bot.token, None)
            if params.get("drop_pending_updates"):
                self._updates[bot.token] = []
        return ok(True)

    def _webhook_info(self, bot: FakeBot) -> JSONDict:
        with self._lock:
            state = self._webhooks.get(bot.token, WebhookState())
            info: JSONDict = {
                "url": state.url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates.get(bot.token, [])),
            }
            if state.url:
                info.update(max_connections=state.max_connections, allowed_updates=state.allowed_updates)
            return ok(info)

    # --- helpers (lock held by the caller) ---

    def _take_message_id(self, chat_id: int | str) -> int:
        key = str(chat_id)
        self._next_message_id[key] = self._next_message_id.get(key, 0) + 1
        return self._next_message_id[key]

    def _queue_locked(self, token: str, payload: JSONDict) -> JSONDict:
        update_id = self._next_update_id.get(token, UPDATE_ID_START) + 1
        self._next_update_id[token] = update_id
        update = {"update_id": update_id, **payload}
        # Telegram filters when an update is created: a kind the bot did not register is never kept for it.
        if _allowed(update, self._allowed.get(token, DEFAULT_ALLOWED)):
            self._updates.setdefault(token, []).append(update)
        self._lock.notify_all()
        return update

    def _chat_info_locked(self, chat_id: int) -> JSONDict:
        """getChat's ChatFullInfo for a group, as telegram-bot-api writes it (optional fields only when set)."""
        settings = self._chats.get(str(chat_id), {})
        info: JSONDict = {**make_chat(chat_id, settings.get("title")), "accent_color_id": 0, "max_reaction_count": 11}
        if settings.get("is_forum") or str(chat_id) in self._forums:
            info["is_forum"] = True
        info["permissions"] = settings.get("permissions") or default_permissions()
        if settings.get("available_reactions") is not None:
            info["available_reactions"] = [{"type": "emoji", "emoji": e} for e in settings["available_reactions"]]
        if settings.get("slow_mode_delay"):
            info["slow_mode_delay"] = settings["slow_mode_delay"]
        return info

    def _chat_locked(self, chat_id: int, title: str | None = None) -> JSONDict:
        """The Chat object, with `is_forum` for a forum (Telegram sets it only there)."""
        chat = make_chat(chat_id, title)
        if str(chat_id) in self._forums:
            chat["is_forum"] = True
        return chat

    def _topic_locked(self, chat_id: int, thread_id: Any) -> ForumTopic | None:
        """The open topic a request addresses (None: no thread id, General); Telegram's refusals otherwise."""
        if thread_id in (None, ""):
            return None
        topic = self._forums.get(str(chat_id), {}).get(thread_id) if isinstance(thread_id, int) else None
        if topic is None:
            raise FakeTelegramError(400, THREAD_NOT_FOUND)
        if topic.closed:
            raise FakeTelegramError(400, TOPIC_CLOSED)
        return topic

    def _service_locked(
        self, chat_id: int, message_id: int, by: JSONDict | None, *, thread_id: int | None = None
    ) -> JSONDict:
        """A forum topic's service message (its thread is its own id when it creates the topic)."""
        return {
            "message_id": message_id,
            "message_thread_id": thread_id or message_id,
            "from": by or make_user(1, "Admin"),
            "chat": {**make_chat(chat_id), "is_forum": True},
            "date": int(time.time()),
            "is_topic_message": True,
        }

    def _announce_locked(self, chat_id: int, message: JSONDict) -> None:
        self._messages[(str(chat_id), message["message_id"])] = message
        for token in self._bots:
            self._queue_locked(token, {"message": message})

    def _member_locked(self, chat_id: int | str, user: JSONDict) -> JSONDict:
        default = {"status": "member", "user": user}
        return self._statuses.get((str(chat_id), int(user["id"])), default)


class FakeTelegramHandler(BaseHTTPRequestHandler):
    """Routes `/bot<token>/<method>` to the owning FakeTelegram."""

    fake: FakeTelegram
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY a kept-alive connection waits for the client's
    # delayed ACK on every response (docs/decisions/029-fakes-like-real-servers.md).
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        """Handle a Bot API call with a JSON, form or multipart body."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._answer(self.headers.get("Content-Type", ""), body, urlsplit(self.path).query)

    def do_GET(self) -> None:
        """Handle a Bot API call with query-string parameters."""
        self._answer("", b"", urlsplit(self.path).query)

    def _answer(self, content_type: str, body: bytes, query: str) -> None:
        match = PATH_PATTERN.match(urlsplit(self.path).path)
        if match is None:
            self._write(HTTPStatus.NOT_FOUND, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        try:
            raw = {**dict(parse_qsl(query)), **parse_body(content_type, body)}
        except ValueError:
            self._write(
                HTTPStatus.BAD_REQUEST, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}
            )
            return
        status, answer = self.fake.handle(match["token"], match["method"], coerce_params(raw), content_type)
        self._write(status, answer)

    def _write(self, status: int, answer: JSONDict) -> None:
        payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The client gave up (e.g. its timeout fired during scripted latency).

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines carry bot tokens."""


def reply_to_message_id(params: JSONDict) -> int | None:
    """The replied-to message id from `reply_parameters` (PTB 22) or the legacy `reply_to_message_id`."""
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and "message_id" in reply:
        return int(reply["message_id"])
    legacy = params.get("reply_to_message_id")
    return int(legacy) if legacy not in (None, "") else None


def _public(message: JSONDict) -> JSONDict:
    """A stored message without the fake's private bookkeeping keys."""
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _require_chat_id(params: JSONDict) -> int:
    chat_id = params.get("chat_id")
    if chat_id in (None, ""):
        raise FakeTelegramError(400, "Bad Request: chat_id is empty")
    if not isinstance(chat_id, int):
        raise FakeTelegramError(400, CHAT_NOT_FOUND)
    return chat_id


def _quote_of(params: JSONDict, reply: JSONDict | None) -> JSONDict | None:
    """The TextQuote a sent reply carries when it quoted (checked by `_reply_target`) a part of its target."""
    quote = (params.get("reply_parameters") or {}).get("quote")
    if not isinstance(quote, str) or reply is None:
        return None
    body = reply.get("text") or reply.get("caption") or ""
    return {"text": quote, "position": utf16_len(body[: body.index(quote)]), "is_manual": True}


def _valid_reaction(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") == "emoji" and item.get("emoji") in REACTION_EMOJI


def _allowed(update: JSONDict, allowed: frozenset[str]) -> bool:
    return any(kind in update for kind in allowed)


def fake_telegram_for(test: TestCase, **settings: Any) -> FakeTelegram:
    """A fake Bot API server for the test's duration, TELEGRAM_API_BASE_URL pointed at it and `settings` overridden."""
    fake = test.enterContext(FakeTelegram())
    test.enterContext(override_settings(TELEGRAM_API_BASE_URL=fake.base_url, **settings))
    return fake

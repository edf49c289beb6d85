"""The crowd document's shape (format "piyasa-crowd", version 1), validated with the bots' and chats' schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic import ValidationError as PydanticValidationError

from bots.drafts import HoldingDraft  # a position is written the same in a draft and in a crowd document
from bots.models import Memory, Stance
from bots.schemas import ActiveHours, Emotion, Persona, Schema, Speed, Unit
from chats.models import Chat
from chats.schemas import DEFAULT_TOPICS, ForumThreads, Topics

FORMAT = "piyasa-crowd"
VERSION = 1
# Control state, not configuration: an imported crowd never starts posting by itself.
SETTINGS_LEFT_OUT = frozenset({"simulation_active"})


def _timezone(value: str) -> str:
    from django.core.exceptions import ValidationError

    from chats.schemas import validate_timezone

    try:
        validate_timezone(value)
    except ValidationError as error:
        raise ValueError(error.messages[0].removeprefix("timezone: ")) from None
    return value


def _username(value: str) -> str:
    return value.strip().lstrip("@")


Username = Annotated[str, Field(max_length=64), AfterValidator(_username)]
Timezone = Annotated[str, AfterValidator(_timezone)]


class StanceItem(Schema):
    """A stance of a bot."""

    topic: str = Field(min_length=1, max_length=64)
    stance: str = Field(min_length=1)
    polarity: Stance.Polarity = Stance.Polarity.NEUTRAL
    confidence: Unit = 0.6
    cooldown_until: datetime | None = None


class MemoryItem(Schema):
    """A memory of a bot."""

    kind: Memory.Kind
    content: str = Field(min_length=1)
    relevance: Unit = 0.5


class BotItem(Schema):
    """A bot as the operator set it up; never its token."""

    name: str = Field(min_length=1, max_length=100)
    username: Username = ""
    is_enabled: bool = True
    persona: Persona = Field(default_factory=Persona)
    emotion: Emotion = Field(default_factory=Emotion)
    speed: Speed = Field(default_factory=Speed)
    active_hours: ActiveHours = Field(default_factory=list)
    talkativeness: Unit = 0.5
    llm_model: str = Field(default="", max_length=100)
    stances: list[StanceItem] = Field(default_factory=list, max_length=500)
    holdings: list[HoldingDraft] = Field(default_factory=list, max_length=500)
    memories: list[MemoryItem] = Field(default_factory=list, max_length=2000)


class MembershipItem(Schema):
    """A bot in a chat: `bot` is the bot's username, or its position in `bots` when it has none."""

    bot: Annotated[str, Field(min_length=1), AfterValidator(_username)] | Annotated[int, Field(ge=0)]
    is_enabled: bool = True
    talkativeness: Unit | None = None
    disabled_reason: str = Field(default="", max_length=300)
    # Telegram's word that the bot may not post there (kicked, left, muted): kept until Telegram says otherwise.
    paused_at: datetime | None = None
    paused_reason: str = Field(default="", max_length=300)


class ChatItem(Schema):
    """A chat with its settings and members, matched on import by transport and Telegram chat id."""

    transport: Chat.Transport = Chat.Transport.SANDBOX
    telegram_chat_id: int = Field(ge=-(2**63), lt=2**63)
    title: str = Field(min_length=1, max_length=200)
    is_enabled: bool = True
    topics: Topics = Field(default_factory=lambda: list(DEFAULT_TOPICS))
    language: Chat.Language = Chat.Language.TURKISH
    timezone: Timezone = "Europe/Istanbul"
    cadence: float = Field(default=1.0, ge=0.0, le=20.0)
    settings_overrides: dict[str, Any] = Field(default_factory=dict)  # validated as the chat's field is
    forum_threads: ForumThreads = Field(default_factory=list)  # absent from documents before forum topics
    memberships: list[MembershipItem] = Field(default_factory=list, max_length=1000)


class CrowdDocument(Schema):
    """A whole crowd; `settings` holds runtime settings by key (validated one by one, like the settings API)."""

    format: Literal["piyasa-crowd"]
    version: Literal[1]
    exported_at: datetime | None = None
    bots: list[BotItem] = Field(default_factory=list, max_length=10_000)
    chats: list[ChatItem] = Field(default_factory=list, max_length=10_000)
    settings: dict[str, Any] = Field(default_factory=dict)


def reference_errors(document: CrowdDocument, data: Any) -> list[str]:
    """What the items' own schemas cannot see: duplicates across items and memberships naming no bot."""
    errors = _twice(data, "bots", [bot.username.lower() or None for bot in document.bots], "username")
    errors += _twice(data, "chats", [(chat.transport, chat.telegram_chat_id) for chat in document.chats], "")
    for position, bot in enumerate(document.bots):
        prefix = location(("bots", position), data)
        errors += _twice(data, f"{prefix}.stances", [item.topic for item in bot.stances], "topic")
        errors += _twice(data, f"{prefix}.holdings", [item.symbol for item in bot.holdings], "symbol")
    usernames = {bot.username.lower() for bot in document.bots if bot.username}
    for position, chat in enumerate(document.chats):
        refs = [ref.lower() if isinstance(ref, str) else ref for ref in (item.bot for item in chat.memberships)]
        errors += _twice(data, f"chats[{position}].memberships", refs, "bot")
        for index, ref in enumerate(refs):
            where = f"chats[{position}].memberships[{index}].bot"
            if isinstance(ref, int) and ref >= len(document.bots):
                errors.append(f"{where}: no bot at position {ref} of bots")
            elif isinstance(ref, str) and ref not in usernames:
                errors.append(f"{where}: no bot @{ref} in bots")
    return errors


def _twice(data: Any, path: str, keys: list[Any], field: str) -> list[str]:
    first: dict[Any, int] = {}
    errors = []
    for index, key in enumerate(keys):
        if key is not None and key in first:
            what = f"{path}[{index}].{field}" if field else f"{path}[{index}]"
            errors.append(f"{what}: {_shown(key)} is also {path}[{first[key]}]")
        first.setdefault(key, index)
    return errors


def _shown(key: Any) -> str:
    return f"the chat {key[0]} {key[1]}" if isinstance(key, tuple) else repr(key)


def nul_errors(node: Any, loc: tuple[int | str, ...], data: Any) -> list[str]:
    """Strings (keys or values) holding a NUL character, which PostgreSQL cannot store, each named by its path."""
    if isinstance(node, str):
        return [f"{location(loc, data)}: contains a NUL character"] if "\x00" in node else []
    if isinstance(node, dict):
        errors = [f"{location(loc, data)}: a key contains a NUL character" for key in node if "\x00" in str(key)]
        return errors + [error for key, value in node.items() for error in nul_errors(value, (*loc, str(key)), data)]
    if isinstance(node, list):
        return [error for index, value in enumerate(node) for error in nul_errors(value, (*loc, index), data)]
    return []


def error_lines(error: PydanticValidationError, data: Any) -> list[str]:
    """Each error as `path: message`, the path written like code (`bots["kemal_bot"].stances[0].polarity`)."""
    return [f"{location(item['loc'], data)}: {item['msg'].removeprefix('Value error, ')}" for item in error.errors()]


def location(loc: tuple[int | str, ...], data: Any) -> str:
    """A pydantic location as a path; a bot is named by its username when the document gives one."""
    path, node = "", data
    for part in loc:
        if isinstance(part, int):
            label = _username_of(node[part] if isinstance(node, list) and part < len(node) else None)
            path += f'["{label}"]' if path == "bots" and label else f"[{part}]"
        else:
            # Pydantic names the branch of a union (e.g. `str`, `int`); the path reads better without it.
            if part in {"str", "int"} or "[" in part:
                continue
            path += f".{part}" if path else str(part)
        node = node.get(part) if isinstance(node, dict) and isinstance(part, str) else _index(node, part)
    return path or "document"


def _index(node: Any, part: int | str) -> Any:
    return node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None


def _username_of(item: Any) -> str:
    username = item.get("username") if isinstance(item, dict) else None
    return username.strip().lstrip("@") if isinstance(username, str) else ""

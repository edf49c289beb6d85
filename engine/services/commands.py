"""In-group admin commands to the crowd: /pause, /resume and /quiet <minutes>, from group admins only.

A command is handled here and nowhere else: it is never stored as chat talk, never a turn, never an LLM prompt.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat
from chats.services import chat_quiet, chat_set_enabled
from engine.clients.telegram import TelegramClient, TelegramClientError
from engine.clients.telegram_types import ADMIN_STATUSES, TgMessage
from engine.redis import redis_connection

logger = logging.getLogger(__name__)
COMMAND = re.compile(r"^/(?P<name>[A-Za-z_]+)(?:@(?P<handle>[A-Za-z0-9_]{3,32}))?(?:\s+(?P<argument>\S+))?")
ADMIN_CACHE_S = 60  # a demoted admin's commands stop working within a minute
QUIET_MAX_MINUTES = 24 * 60


class CommandName(enum.StrEnum):
    """The commands the crowd obeys."""

    PAUSE = "pause"
    RESUME = "resume"
    QUIET = "quiet"


@dataclass(frozen=True)
class Command:
    """A crowd command as written: its name, the bot it is addressed to (if named) and its argument."""

    name: CommandName
    handle: str | None
    argument: str | None


def parse_command(text: str) -> Command | None:
    """The crowd command at the start of a message, or None when it is not one of ours."""
    match = COMMAND.match(text.strip())
    if match is None or match["name"].casefold() not in set(CommandName):
        return None
    handle = match["handle"].casefold() if match["handle"] else None
    return Command(CommandName(match["name"].casefold()), handle, match["argument"])


def group_command(*, chat: Chat, incoming: TgMessage) -> str | None:
    """Handle a crowd command (its outcome), or None when the message is not one (it goes on as chat talk)."""
    command = parse_command(incoming.body)
    if command is None:
        return None
    bot = addressed_to(chat, command)
    if bot is None:
        return "ignored: command for no bot of the crowd"
    if not from_admin(chat, bot, incoming):
        return "ignored: command from a non-admin"
    return apply(chat, command)


def addressed_to(chat: Chat, command: Command) -> Bot | None:
    """The crowd bot named in `/cmd@handle`, or the chat's only bot for a plain `/cmd`."""
    crowd = chat.bots.filter(memberships__is_enabled=True, memberships__paused_at__isnull=True)
    bots = list(crowd.exclude(token_encrypted=""))
    if command.handle is None:
        return bots[0] if len(bots) == 1 else None
    return next((bot for bot in bots if bot.username and bot.username.casefold() == command.handle), None)


def from_admin(chat: Chat, bot: Bot, incoming: TgMessage) -> bool:
    """Whether the sender administers the group: an anonymous admin does; others as getChatMember says (cached)."""
    if incoming.is_anonymous_admin:
        return True
    if incoming.sender is None or incoming.sender.is_bot or chat.telegram_chat_id is None:
        return False
    key = f"tg:admin:{chat.telegram_chat_id}:{incoming.sender.id}"
    cached = redis_connection().get(key)
    if cached is not None:
        return cached == b"1"
    try:
        client = TelegramClient(bot.token, timeout=settings.TELEGRAM_TIMEOUT_S)
        status = client.get_chat_member_status(chat.telegram_chat_id, incoming.sender.id)
    except TelegramClientError as error:
        logger.warning("admin check in chat %s failed: %s", chat.pk, error)
        return False  # unsure: ignore the command rather than obey a member
    is_admin = status in ADMIN_STATUSES
    redis_connection().set(key, b"1" if is_admin else b"0", ex=ADMIN_CACHE_S)
    return is_admin


def apply(chat: Chat, command: Command) -> str:
    """What the command does to the chat's crowd (this chat only)."""
    if command.name == CommandName.PAUSE:
        chat_set_enabled(chat=chat, enabled=False)
        return "command: paused"
    if command.name == CommandName.RESUME:
        chat_quiet(chat=chat, until=None)
        chat_set_enabled(chat=chat, enabled=True)
        return "command: resumed"
    minutes = quiet_minutes(command.argument)
    if minutes is None:
        return "ignored: /quiet needs minutes"
    chat_quiet(chat=chat, until=timezone.now() + timedelta(minutes=minutes))
    return f"command: quiet for {minutes} min"


def quiet_minutes(argument: str | None) -> int | None:
    """The minutes of a /quiet (1 to a day), or None when missing or not a number."""
    if argument is None or not argument.isdigit() or int(argument) < 1:
        return None
    return min(int(argument), QUIET_MAX_MINUTES)

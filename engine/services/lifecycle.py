"""The bots' own standing in their groups: paused when Telegram keeps them from posting, resumed when it lets them
again, and groups nobody configured discovered when a bot is in them."""

from __future__ import annotations

import logging

from bots.models import Bot
from chats.models import Chat, Membership
from chats.services import chat_discover, membership_pause, membership_resume
from engine.clients.telegram import PermanentKind, TelegramPermanentError
from engine.clients.telegram_types import GROUP_TYPES, TgChat, TgChatMember, TgChatMemberUpdated

logger = logging.getLogger(__name__)


def bot_status_changed(*, change: TgChatMemberUpdated) -> str:
    """A `my_chat_member` update: the bot's membership pauses or resumes; an unknown group it joined is discovered."""
    if change.chat.type not in GROUP_TYPES:
        return "ignored: not a group"
    bot = Bot.objects.filter(telegram_id=change.new_chat_member.user.id).first()
    if bot is None:
        return "ignored: not our bot"
    chat = Chat.objects.filter(transport=Chat.Transport.TELEGRAM, telegram_chat_id=change.chat.id).first()
    if chat is None:
        if not change.new_chat_member.can_post:
            return "ignored: unknown chat"
        chat, _ = discover(telegram_chat=change.chat)
    elif not chat.is_discovered and not Membership.objects.filter(chat=chat, bot=bot).exists():
        return "ignored: not a member here"  # the operator decides who is in a configured chat
    if change.new_chat_member.can_post:
        resumed = membership_resume(chat=chat, bot=bot)
        return "membership resumed" if resumed else "membership unchanged"
    reason = status_reason(change.new_chat_member, by=change.sender.display_name)
    logger.info("bot %s paused in chat %s: %s", bot.pk, chat.pk, reason)
    return "membership paused" if membership_pause(chat=chat, bot=bot, reason=reason) else "membership unchanged"


def status_reason(member: TgChatMember, *, by: str) -> str:
    """Why the bot cannot post, in words an operator reads on the dashboard."""
    who = f" by {by}" if by else ""
    if member.status == "kicked":
        return f"removed from the group{who} (kicked); add the bot back to resume"
    if member.status == "left" or not member.is_member:
        return f"not in the group any more{who}; add the bot back to resume"
    return f"muted{who}: may not send messages; give it back the right to send messages to resume"


# What a refused send says about the bot's standing, in the words of `status_reason`.
REFUSALS = {
    PermanentKind.BOT_KICKED: "removed from the group (kicked)",
    PermanentKind.NOT_A_MEMBER: "not in the group any more",
    PermanentKind.NOT_ENOUGH_RIGHTS: "muted: may not send messages",
}


def send_refused(*, chat: Chat, bot: Bot, error: TelegramPermanentError) -> None:
    """A send refused because the bot was kicked, left or muted pauses its membership the same way."""
    standing = REFUSALS.get(error.kind, "kept from posting")
    reason = f"{standing}; Telegram refused a send ({error}); resumes when Telegram lets the bot post again"
    membership_pause(chat=chat, bot=bot, reason=reason)


def discover(*, telegram_chat: TgChat, receiver: Bot | None = None) -> tuple[Chat, bool]:
    """The group as a discovered (disabled) chat, with the bot that is in it as a member; (the chat, whether new)."""
    chat, created = chat_discover(
        telegram_chat_id=telegram_chat.id,
        title=telegram_chat.title or "",
        telegram_type=telegram_chat.type,
        is_forum=telegram_chat.is_forum,
    )
    if created:
        logger.info("discovered Telegram group %s (%s)", telegram_chat.id, telegram_chat.type)
    if receiver is not None:
        Membership.objects.get_or_create(chat=chat, bot=receiver)
    return chat, created


def unknown_chat_seen(*, telegram_chat: TgChat, receiver: Bot | None) -> str:
    """A message from a group nobody configured, received by one of our bots: the group is discovered, its content
    ignored until an operator enables it."""
    if receiver is None or telegram_chat.type not in GROUP_TYPES:
        return "ignored: unknown chat"
    discover(telegram_chat=telegram_chat, receiver=receiver)
    return "ignored: discovered chat, not enabled"

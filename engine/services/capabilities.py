"""A group's capabilities, as Telegram's getChat reports them, on enable and every few minutes: forum or not, slow
mode (delivery paces each bot by it), members' rights (a bot that may not send is paused) and the reactions allowed
(planning and generation react only with those)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from django.conf import settings

from bots.models import Bot
from chats.models import Chat, Membership
from chats.services import chat_adopt, chat_capabilities_set, chat_set_enabled, membership_pause, membership_resume
from engine import jobs
from engine.clients.telegram import ChatCapabilities, TelegramClient, TelegramClientError, TelegramSession
from engine.clients.telegram_types import ADMIN_STATUSES, TgChatMember
from engine.queues import QueueName
from engine.services.dispatch import enqueue
from engine.services.lifecycle import status_reason

logger = logging.getLogger(__name__)
MAX_ASKERS = 3  # bots tried in turn when one cannot ask (kicked meanwhile)
NO_RIGHT_TO_SEND = (
    "the group's permissions let members send no messages; make the bot a group admin, or allow members to send "
    "messages, to resume"
)


@dataclass(frozen=True)
class Standing:
    """What getChat and getChatMember said: the group's capabilities and each of its bots' standing in it."""

    capabilities: ChatCapabilities
    members: dict[int, TgChatMember]  # bot pk → its ChatMember


def chat_enable(*, chat: Chat) -> Chat:
    """An operator enables a chat (a discovered group is adopted); a Telegram group's capabilities are asked for at
    once (a job, after commit)."""
    chat = chat_adopt(chat=chat) if chat.is_discovered else chat_set_enabled(chat=chat, enabled=True)
    if chat.transport == Chat.Transport.TELEGRAM:
        enqueue(jobs.refresh_chat_capabilities, chat.pk, queue=QueueName.LOW)
    return chat


def chats_capabilities_refresh() -> dict[str, int]:
    """Refresh every enabled Telegram chat's capabilities, chat by chat; how many refreshed and failed."""
    chats = Chat.objects.filter(transport=Chat.Transport.TELEGRAM, is_enabled=True).values_list("pk", flat=True)
    outcomes = [chat_capabilities_refresh(chat_id=pk) for pk in chats]
    return {"refreshed": outcomes.count("refreshed"), "failed": len(outcomes) - outcomes.count("refreshed")}


def chat_capabilities_refresh(*, chat_id: int) -> str:
    """getChat (and getChatMember for each of its bots) through one of the chat's bots: the capabilities stored,
    each membership paused or resumed by whether the bot may post; "refreshed" or why not."""
    chat = Chat.objects.filter(pk=chat_id, transport=Chat.Transport.TELEGRAM).first()
    bots = [bot for bot in _member_bots(chat_id) if bot.telegram_id is not None]
    askers = [bot for bot in bots if bot.has_token][:MAX_ASKERS]
    if chat is None or not askers:
        return "skipped: no Telegram chat with a bot that has a token"
    assert chat.telegram_chat_id is not None
    standing: Standing | TelegramClientError | None = None
    for asker in askers:  # one kicked since it was last asked cannot tell; the next one can
        standing = _ask(asker, chat.telegram_chat_id, bots)
        if isinstance(standing, Standing):
            break
        logger.info("getChat for chat %s through bot %s failed: %s", chat.pk, asker.pk, standing)
    if not isinstance(standing, Standing):
        return f"failed: {standing}"
    caps = standing.capabilities
    chat_capabilities_set(
        chat=chat,
        is_forum=caps.is_forum,
        slow_mode_delay=caps.slow_mode_delay,
        permissions=caps.permissions,
        available_reactions=caps.available_reactions,
    )
    for bot in bots:
        _apply_standing(chat, bot, standing.members[bot.pk])
    return "refreshed"


def _member_bots(chat_id: int) -> list[Bot]:
    """The chat's bots (not paused ones first: a bot kicked from the group cannot ask about it)."""
    memberships = Membership.objects.filter(chat_id=chat_id, bot__is_enabled=True).select_related("bot")
    return [membership.bot for membership in sorted(memberships, key=lambda m: (m.is_paused, m.pk))]


def _ask(asker: Bot, telegram_chat_id: int, bots: list[Bot]) -> Standing | TelegramClientError:
    async def calls(session: TelegramSession) -> Standing:
        capabilities = await session.get_chat(telegram_chat_id)
        asked = [session.get_chat_member(telegram_chat_id, bot.telegram_id or 0) for bot in bots]
        members = await asyncio.gather(*asked)
        return Standing(capabilities, {bot.pk: member for bot, member in zip(bots, members, strict=True)})

    try:
        return TelegramClient(asker.token, timeout=settings.TELEGRAM_TIMEOUT_S).run(calls)
    except TelegramClientError as error:
        return error


def _apply_standing(chat: Chat, bot: Bot, member: TgChatMember) -> None:
    """Pause a bot that may not post here (its own standing, or members' rights when it is not an admin); resume
    one that may again."""
    if not member.can_post:
        membership_pause(chat=chat, bot=bot, reason=status_reason(member, by=""))
    elif member.status not in ADMIN_STATUSES and not chat.members_may_send:
        membership_pause(chat=chat, bot=bot, reason=NO_RIGHT_TO_SEND)
    else:
        membership_resume(chat=chat, bot=bot)

"""Member messages in: store each once, and let the addressed bot answer with a priority reply."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat, Message
from chats.services import chat_migrate, chat_thread_seen
from chats.transcripts import display_name
from engine import jobs, seeding
from engine.clients.telegram_types import GROUP_TYPES, TgChat, TgMessage, TgUpdate, TgUser, mention_entities
from engine.kinds import kind_spec
from engine.models import Turn
from engine.runtime_settings import RuntimeConfig
from engine.selectors import settings_all
from engine.services import commands, lifecycle
from engine.services.dispatch import enqueue
from engine.services.flood import FloodSkip, priority_admit
from engine.services.planning import reading_delay
from engine.services.senders import Sender, SenderKind, sender_of
from engine.services.transports import sandbox_message_id
from monitoring import metrics

logger = logging.getLogger(__name__)
PRIORITY_MAX_DELAY_S = 8.0  # members get a prompt answer, whatever the bot's usual pace


@dataclass(frozen=True)
class IngestResult:
    """What happened to an update: stored or not, and the priority turn it created, if any."""

    outcome: str
    message_id: int | None = None
    turn_id: int | None = None


def ingest_update(
    *, update: TgUpdate, transport: str = Chat.Transport.TELEGRAM, receiver: Bot | None = None
) -> IngestResult:
    """Store a member message once per chat and message id; a mention of or reply to a bot creates its turn.

    `receiver` is the bot the update came to (webhook or poller): an unknown group it is in is discovered.
    """
    if transport == Chat.Transport.TELEGRAM and update.my_chat_member is not None:
        return IngestResult(lifecycle.bot_status_changed(change=update.my_chat_member))
    incoming = update.any_message
    if incoming is None:
        return IngestResult("ignored: unsupported update")
    if transport == Chat.Transport.TELEGRAM and incoming.chat.type not in GROUP_TYPES:
        return IngestResult("ignored: not a group")
    if transport == Chat.Transport.TELEGRAM and incoming.migration is not None:
        from_chat_id, to_chat_id = incoming.migration
        moved = follow_migration(from_chat_id=from_chat_id, to_chat_id=to_chat_id, source="update")
        return IngestResult("migrated" if moved is not None else "ignored: unknown chat")
    chat = Chat.objects.filter(transport=transport, telegram_chat_id=incoming.chat.id).first()
    if chat is None or chat.is_discovered:
        return IngestResult(lifecycle.unknown_chat_seen(telegram_chat=incoming.chat, receiver=receiver))
    threaded = transport == Chat.Transport.TELEGRAM and incoming.thread_id is not None and not update.is_edit
    if threaded and (event := _learn_thread(chat, incoming)) is not None:
        return IngestResult(event)
    sender = sender_of(incoming)
    if sender is None or not incoming.body.strip():
        return IngestResult("ignored: no sender or no text")
    if sender.kind == SenderKind.BOT and Bot.objects.filter(telegram_id=sender.user_id).exists():
        return IngestResult("ignored: our own bot")
    if update.is_edit:
        return _edit(chat, incoming)
    handled = commands.group_command(chat=chat, incoming=incoming) if not chat.is_sandbox else None
    if handled is not None:
        return IngestResult(handled)
    return _store(chat, incoming, sender)


def follow_migration(*, from_chat_id: int, to_chat_id: int, source: str) -> Chat | None:
    """Telegram's word that a group is now a supergroup (a service message, or a send refused at the old id): the
    chat moves to the new id once, however many bots report it; the chat at its new id, or None if unknown."""
    chat, moved = chat_migrate(from_chat_id=from_chat_id, to_chat_id=to_chat_id)
    if moved:
        logger.info("chat %s upgraded to a supergroup: %s -> %s", chat.pk if chat else "?", from_chat_id, to_chat_id)
        metrics.record_chat_migration(source)
    return chat


def sandbox_member_post(
    *, chat: Chat, sender_name: str, text: str, reply_to_message_id: int | None = None
) -> IngestResult:
    """An operator writes in a sandbox chat as a named member, through exactly the Telegram ingestion path."""
    if not chat.is_sandbox:
        raise ValueError("only sandbox chats accept posts from the operator")
    assert chat.telegram_chat_id is not None  # sandbox chats get a local id on save
    replied = None
    if reply_to_message_id is not None:
        replied = TgMessage(message_id=reply_to_message_id, chat=TgChat(id=chat.telegram_chat_id, type="group"))
    message_id = sandbox_message_id(chat.pk)
    update = TgUpdate(
        update_id=message_id,
        message=TgMessage(
            message_id=message_id,
            date=int(timezone.now().timestamp()),
            text=text,
            chat=TgChat(id=chat.telegram_chat_id, type="group", title=chat.title),
            sender=TgUser(id=sandbox_user_id(sender_name), first_name=sender_name),
            entities=mention_entities(text),
            reply_to_message=replied,
        ),
    )
    return ingest_update(update=update, transport=Chat.Transport.SANDBOX)


def sandbox_user_id(name: str) -> int:
    """A stable local user id for a sandbox member name (negative, so never a real Telegram user)."""
    return -int.from_bytes(hashlib.sha256(name.casefold().encode()).digest()[:6], "big") - 1


def _learn_thread(chat: Chat, incoming: TgMessage) -> str | None:
    """Keep the chat's forum threads up to date from a message in one; what a topic's service message did, or None
    for a member's message (stored as usual)."""
    assert incoming.thread_id is not None
    event = incoming.topic_event
    if event is not None:
        name, closed = event
        chat_thread_seen(chat=chat, thread_id=incoming.thread_id, name=name, closed=closed)
        return "thread " + ("closed" if closed else "reopened" if closed is not None else "named")
    created = incoming.reply_to_message.forum_topic_created if incoming.reply_to_message is not None else None
    chat_thread_seen(chat=chat, thread_id=incoming.thread_id, name=created.name if created is not None else None)
    return None


def _edit(chat: Chat, incoming: TgMessage) -> IngestResult:
    changed = Message.objects.filter(chat=chat, telegram_message_id=incoming.message_id, bot__isnull=True)
    return IngestResult("edited" if changed.update(text=incoming.body[:4096]) else "ignored: edit of unknown message")


def _store(chat: Chat, incoming: TgMessage, sender: Sender) -> IngestResult:
    reply_to = None
    if incoming.replied is not None:
        reply_to = Message.objects.filter(chat=chat, telegram_message_id=incoming.replied.message_id).first()
    message, created = Message.objects.get_or_create(
        chat=chat,
        telegram_message_id=incoming.message_id,
        defaults={
            "sender_user_id": sender.user_id,
            "sender_username": sender.username,
            "sender_name": display_name(sender.name),  # no bidi control reorders it, no line break forges a line
            "sender_is_bot": sender.is_bot,
            "text": incoming.body[:4096],
            "reply_to": reply_to,
            "thread_id": incoming.thread_id,
        },
    )
    if not created:
        return IngestResult("duplicate", message.pk)
    metrics.record_incoming(chat.transport)
    if not sender.answerable:  # never feed bot-to-bot loops; a channel's post is news, not a question
        return IngestResult(f"stored: from a {sender.kind}, no reply", message.pk)
    bot = addressed_bot(chat, incoming, reply_to)
    if bot is None:
        return IngestResult("stored", message.pk)
    config = settings_all()  # one read for the flood check and the reply's pace
    if (skip := _flood_skip(chat, bot, sender, config)) is not None:
        return IngestResult(f"stored: no reply, {skip}", message.pk)
    turn_id = priority_reply_create(chat=chat, bot=bot, message=message, config=config)
    return IngestResult("stored", message.pk, turn_id)


def _flood_skip(chat: Chat, bot: Bot, sender: Sender, config: RuntimeConfig) -> FloodSkip | None:
    # Anonymous admins have no user id: they share one member window, that of the group itself.
    user_id = sender.user_id if sender.user_id is not None else chat.telegram_chat_id or 0
    return priority_admit(
        chat_id=chat.pk, bot_id=bot.pk, user_id=user_id, caps=config.abuse_limits, scale=config.scale_factor
    )


def addressed_bot(chat: Chat, incoming: TgMessage, reply_to: Message | None) -> Bot | None:
    """The member bot the message is for: the first one @-mentioned, else the bot whose message it answers."""
    eligible = chat.bots.filter(is_enabled=True, memberships__is_enabled=True, memberships__paused_at__isnull=True)
    members = {bot.pk: bot for bot in eligible}
    by_handle = {bot.username.casefold(): bot for bot in members.values() if bot.username}
    by_telegram_id = {bot.telegram_id: bot for bot in members.values() if bot.telegram_id}
    for handle in incoming.mentioned_usernames():
        if handle in by_handle:
            return by_handle[handle]
    for user_id in incoming.mentioned_user_ids():
        if user_id in by_telegram_id:
            return by_telegram_id[user_id]
    if reply_to is not None and reply_to.bot_id in members:
        return members[reply_to.bot_id]
    replied = incoming.replied
    if replied is not None and replied.sender is not None:
        return by_telegram_id.get(replied.sender.id)
    return None


def priority_reply_create(*, chat: Chat, bot: Bot, message: Message, config: RuntimeConfig) -> int | None:
    """A priority-reply turn for the message (at most one per message), generated on the high queue."""
    now = timezone.now()
    delay = reading_delay(
        bot.speed, kind=Turn.Kind.PRIORITY_REPLY, scale=config.scale_factor, rng=seeding.rng("read", message.pk)
    )
    try:
        with transaction.atomic():
            turn = Turn.objects.create(
                chat=chat,
                bot=bot,
                kind=Turn.Kind.PRIORITY_REPLY,
                reply_to=message,
                thread_id=message.thread_id,  # the answer goes where the question was
                next_run_at=now,
                due_at=now + timedelta(seconds=min(delay, PRIORITY_MAX_DELAY_S)),
            )
    except IntegrityError:
        return None  # another bot's copy of this update got there first
    enqueue(jobs.generate_priority, turn.pk, queue=kind_spec(Turn.Kind.PRIORITY_REPLY).queue)
    return turn.pk

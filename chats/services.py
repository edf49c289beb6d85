"""Chat writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat, Membership, Message
from config.queries import add_to_counts


def chat_create(*, title: str, **fields: Any) -> Chat:
    """Create a validated chat (sandbox chats get a local id)."""
    chat = Chat(title=title, **fields)
    chat.full_clean(exclude=["telegram_chat_id"] if chat.is_sandbox else None)
    chat.save()
    return chat


def chat_migrate(*, from_chat_id: int, to_chat_id: int) -> tuple[Chat | None, bool]:
    """Move a Telegram group to its supergroup's id, keeping everything of it; (the chat, whether this call moved it).

    Telegram tells it several ways (a service message in each chat, an error on the old id), to several bots at
    once; the first to arrive moves the chat, in one transaction, and the others find it moved.
    """
    telegram = Chat.objects.filter(transport=Chat.Transport.TELEGRAM)
    with transaction.atomic():
        chat = telegram.select_for_update().filter(telegram_chat_id=from_chat_id).first()
        if chat is None or telegram.filter(telegram_chat_id=to_chat_id).exists():
            return telegram.filter(telegram_chat_id=to_chat_id).first(), False
        chat.telegram_chat_id, chat.migrated_from_chat_id, chat.migrated_at = to_chat_id, from_chat_id, timezone.now()
        chat.save(update_fields=["telegram_chat_id", "migrated_from_chat_id", "migrated_at", "updated_at"])
        # The supergroup numbers its messages afresh from 1: the group's ids name nothing there (a reply to one is
        # sent unthreaded) and would collide with the new ones (message_chat_telegram_id_unique).
        Message.objects.filter(chat=chat, telegram_message_id__isnull=False).update(telegram_message_id=None)
    return chat, True


def membership_add(*, chat: Chat, bot: Bot, **fields: Any) -> Membership:
    """Add a bot to a chat, or update the existing membership."""
    membership, _ = Membership.objects.update_or_create(chat=chat, bot=bot, defaults=fields)
    return membership


def membership_disable(*, membership_id: int, reason: str) -> bool:
    """Disable a membership with a visible reason (e.g. the bot was removed from the group)."""
    return bool(Membership.objects.filter(pk=membership_id).update(is_enabled=False, disabled_reason=reason[:300]))


def chat_update(*, chat: Chat, **fields: Any) -> Chat:
    """Change a chat's fields, validated."""
    for name, value in fields.items():
        setattr(chat, name, value)
    chat.full_clean(exclude=["telegram_chat_id"] if chat.is_sandbox and chat.telegram_chat_id is None else None)
    chat.save()
    return chat


def chat_set_enabled(*, chat: Chat, enabled: bool) -> Chat:
    """Pause (no proactive turns) or resume a chat."""
    chat.is_enabled = enabled
    chat.save(update_fields=["is_enabled", "updated_at"])
    return chat


def membership_update(*, membership: Membership, **fields: Any) -> Membership:
    """Change a membership; re-enabling it clears the reason the engine disabled it."""
    for name, value in fields.items():
        setattr(membership, name, value)
    if membership.is_enabled:
        membership.disabled_reason = ""
    membership.full_clean()
    membership.save()
    return membership


def memberships_count_sent(*, sent: Mapping[int, int], full_persona: list[int]) -> None:
    """Count sent messages (membership id → how many) towards each persona refresh; a full persona resets it."""
    if full_persona:
        Membership.objects.filter(pk__in=full_persona).update(
            messages_since_refresh=0, persona_refreshed_at=timezone.now()
        )
    add_to_counts(Membership, "messages_since_refresh", sent)


def membership_pause(*, chat: Chat, bot: Bot, reason: str) -> bool:
    """Telegram keeps the bot from posting here (kicked, left, muted): pause its membership with the reason, once.

    The membership row stays (with the operator's `is_enabled`), so Telegram's word that the bot may post again
    resumes it; True when this call paused it or changed the reason.
    """
    membership, _ = Membership.objects.get_or_create(chat=chat, bot=bot)
    changed = Membership.objects.filter(pk=membership.pk).exclude(paused_at__isnull=False, paused_reason=reason[:300])
    return bool(changed.update(paused_at=timezone.now(), paused_reason=reason[:300]))


def membership_resume(*, chat: Chat, bot: Bot) -> bool:
    """Telegram says the bot may post here again: its membership (created if new) resumes; True when it was paused."""
    membership, created = Membership.objects.get_or_create(chat=chat, bot=bot)
    paused = Membership.objects.filter(pk=membership.pk, paused_at__isnull=False)
    return bool(paused.update(paused_at=None, paused_reason="")) or created


def chat_discover(*, telegram_chat_id: int, title: str, telegram_type: str, is_forum: bool) -> tuple[Chat, bool]:
    """A group a bot is in that nobody configured: a disabled Telegram chat, waiting for an operator's enable; (the
    chat, whether it is new). Several bots reporting it at once find one row."""
    fields = {"title": (title or str(telegram_chat_id))[:200], "telegram_type": telegram_type, "is_forum": is_forum}
    try:
        with transaction.atomic():
            chat = Chat.objects.create(
                transport=Chat.Transport.TELEGRAM,
                telegram_chat_id=telegram_chat_id,
                is_enabled=False,
                discovered_at=timezone.now(),
                **fields,
            )
    except IntegrityError:
        return Chat.objects.get(transport=Chat.Transport.TELEGRAM, telegram_chat_id=telegram_chat_id), False
    return chat, True


def chat_adopt(*, chat: Chat) -> Chat:
    """The operator's one action on a discovered chat: enable it, so its messages reach the engine."""
    chat.is_enabled, chat.discovered_at = True, None
    chat.save(update_fields=["is_enabled", "discovered_at", "updated_at"])
    return chat


def chat_quiet(*, chat: Chat, until: datetime | None) -> Chat:
    """No proactive turns in the chat until `until` (None ends a quiet spell)."""
    chat.quiet_until = until
    chat.save(update_fields=["quiet_until", "updated_at"])
    return chat


def chat_capabilities_set(
    *,
    chat: Chat,
    is_forum: bool,
    slow_mode_delay: int,
    permissions: Mapping[str, bool],
    available_reactions: list[str] | None,
) -> Chat:
    """Store what Telegram's getChat says the group lets its members do (None reactions: every emoji allowed)."""
    chat.is_forum, chat.slow_mode_delay, chat.permissions = is_forum, slow_mode_delay, dict(permissions)
    chat.available_reactions, chat.capabilities_checked_at = available_reactions, timezone.now()
    fields = ["is_forum", "slow_mode_delay", "permissions", "available_reactions", "capabilities_checked_at"]
    chat.save(update_fields=[*fields, "updated_at"])
    return chat


def chat_thread_seen(
    *, chat: Chat, thread_id: int, name: str | None = None, closed: bool | None = None
) -> dict[str, Any] | None:
    """Learn a forum thread from the group (its creation, a message in it, its closing or reopening): the entry is
    added or its name/closed state updated, keeping the operator's topic mapping; the entry when this call changed
    it, None when nothing was new (no write)."""
    if not _thread_news(chat.forum_threads, thread_id, name, closed):
        return None
    with transaction.atomic():
        locked = Chat.objects.select_for_update().get(pk=chat.pk)  # two bots' copies of one update: one write
        threads = [dict(entry) for entry in locked.forum_threads]
        entry = next((e for e in threads if e.get("thread_id") == thread_id), None)
        if entry is None:
            entry = {"thread_id": thread_id, "name": "", "topic": None, "closed": False}
            threads.append(entry)
        entry.update({"name": name[:128]} if name else {})
        entry.update({"closed": closed} if closed is not None else {})
        locked.forum_threads = threads
        locked.is_forum = True  # a topic message comes only from a forum
        locked.save(update_fields=["forum_threads", "is_forum", "updated_at"])
    chat.forum_threads, chat.is_forum = threads, True
    return entry


def _thread_news(threads: list[dict[str, Any]], thread_id: int, name: str | None, closed: bool | None) -> bool:
    entry = next((e for e in threads if e.get("thread_id") == thread_id), None)
    if entry is None:
        return True
    return bool(name and entry.get("name") != name[:128]) or (closed is not None and entry.get("closed") != closed)

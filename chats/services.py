"""Chat writes."""

from __future__ import annotations

from typing import Any

from bots.models import Bot
from chats.models import Chat, Membership


def chat_create(*, title: str, **fields: Any) -> Chat:
    """Create a validated chat (sandbox chats get a local id)."""
    chat = Chat(title=title, **fields)
    chat.full_clean(exclude=["telegram_chat_id"] if chat.is_sandbox else None)
    chat.save()
    return chat


def membership_add(*, chat: Chat, bot: Bot, **fields: Any) -> Membership:
    """Add a bot to a chat, or update the existing membership."""
    membership, _ = Membership.objects.update_or_create(chat=chat, bot=bot, defaults=fields)
    return membership


def membership_disable(*, membership_id: int, reason: str) -> bool:
    """Disable a membership with a visible reason (e.g. the bot was removed from the group)."""
    return bool(Membership.objects.filter(pk=membership_id).update(is_enabled=False, disabled_reason=reason[:300]))

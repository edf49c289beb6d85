"""Export the whole crowd as one crowd document (never a token)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from bots.models import Bot, Holding, Memory, Stance
from bots.schemas import Emotion, Persona, Schema, Speed
from chats.models import Chat, Membership
from engine.portability.document import FORMAT, SETTINGS_LEFT_OUT, VERSION
from engine.selectors import settings_all

BOT_FIELDS = ("name", "username", "is_enabled", "active_hours", "talkativeness", "llm_model")
DOCUMENTS: dict[str, type[Schema]] = {"persona": Persona, "emotion": Emotion, "speed": Speed}
CHAT_FIELDS = (
    "transport", "telegram_chat_id", "title", "is_enabled", "topics", "language", "timezone", "cadence",
    "settings_overrides",
    "forum_threads",
)  # fmt: skip
MEMBERSHIP_FIELDS = ("is_enabled", "talkativeness", "disabled_reason", "paused_reason")


def crowd_export() -> dict[str, Any]:
    """Every bot (with stances, holdings, memories), every chat (with memberships) and the runtime settings."""
    bots = list(Bot.objects.order_by("id").prefetch_related("stances", "holdings", "memories"))
    refs: dict[int, str | int] = {bot.pk: bot.username or position for position, bot in enumerate(bots)}
    members = Prefetch("memberships", queryset=Membership.objects.order_by("id"))
    chats = Chat.objects.order_by("id").prefetch_related(members)
    values = settings_all().values()
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "bots": [bot_item(bot) for bot in bots],
        "chats": [chat_item(chat, refs) for chat in chats],
        "settings": {key: value for key, value in values.items() if key not in SETTINGS_LEFT_OUT},
    }


def bot_item(bot: Bot) -> dict[str, Any]:
    """A bot's operator-set fields and what it knows; the token and its fingerprint stay behind."""
    item = {name: getattr(bot, name) for name in BOT_FIELDS}
    item |= {name: _complete(schema, getattr(bot, name)) for name, schema in DOCUMENTS.items()}
    item["stances"] = [_stance(stance) for stance in bot.stances.all()]
    item["holdings"] = [_holding(holding) for holding in bot.holdings.all()]
    item["memories"] = [_memory(memory) for memory in bot.memories.all()]
    return item


def _complete(schema: type[Schema], value: Any) -> Any:
    # Complete documents (defaults filled in) say exactly what the bot is; a stored value that no longer fits
    # its schema is exported as it is, and the import names it.
    try:
        return schema.model_validate(value).model_dump(mode="json")
    except ValueError:
        return value


def _stance(stance: Stance) -> dict[str, Any]:
    cooldown = stance.cooldown_until.isoformat() if stance.cooldown_until else None
    fields = {"topic": stance.topic, "stance": stance.stance, "polarity": stance.polarity}
    return fields | {"confidence": stance.confidence, "cooldown_until": cooldown}


def _holding(holding: Holding) -> dict[str, Any]:
    # Decimals as strings: a float would round a position on the way.
    size, price = str(holding.size), str(holding.average_price)
    return {"symbol": holding.symbol, "size": size, "average_price": price, "note": holding.note}


def _memory(memory: Memory) -> dict[str, Any]:
    return {"kind": memory.kind, "content": memory.content, "relevance": memory.relevance}


def chat_item(chat: Chat, refs: dict[int, str | int]) -> dict[str, Any]:
    """A chat's fields and its members, each naming its bot by username (or position in `bots`)."""
    item = {name: getattr(chat, name) for name in CHAT_FIELDS}
    item["memberships"] = [_membership(membership, refs) for membership in chat.memberships.all()]
    return item


def _membership(membership: Membership, refs: dict[int, str | int]) -> dict[str, Any]:
    paused_at = membership.paused_at.isoformat() if membership.paused_at else None
    fields = {name: getattr(membership, name) for name in MEMBERSHIP_FIELDS}
    return {"bot": refs[membership.bot_id], **fields, "paused_at": paused_at}

"""Bot writes."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import transaction

from bots import crypto
from bots.models import Bot, Holding, Memory, Stance, StanceChange

Knowledge = TypeVar("Knowledge", Stance, Holding, Memory)


def bot_create(*, name: str, token: str = "", **fields: Any) -> Bot:
    """Create a validated bot; the token is encrypted before it is stored."""
    bot = Bot(name=name, **fields)
    bot.token = token
    bot.full_clean()
    bot.save()
    return bot


def bot_update(*, bot: Bot, token: str | None = None, **fields: Any) -> Bot:
    """Change a bot's fields, validated; a token (when given) replaces the current one, "" removes it."""
    for name, value in fields.items():
        setattr(bot, name, value)
    if token is not None:
        bot.token = token
    bot.full_clean()
    bot.save()
    return bot


def bot_knowledge_save(*, instance: Knowledge, **fields: Any) -> Knowledge:
    """Create or change a stance, holding or memory of a bot, validated (model rules and uniqueness); an operator's
    change of a stance's polarity or confidence is recorded in its history."""
    before = _stored_view(instance)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        if isinstance(instance, Stance) and before and before != (instance.polarity, instance.confidence):
            stance_change_record(stance=instance, old_polarity=before[0], old_confidence=before[1])
    return instance


def _stored_view(instance: Knowledge) -> tuple[str, float] | None:
    # Read back, not taken from the instance: a ModelForm has already set the new values on it when it validated.
    if not isinstance(instance, Stance) or instance.pk is None:
        return None
    return Stance.objects.filter(pk=instance.pk).values_list("polarity", "confidence").first()


def stance_change_record(
    *, stance: Stance, old_polarity: str, old_confidence: float, cause: str = "changed by an operator"
) -> StanceChange:
    """Record an operator's change of a stance (it counts nothing toward the stance's daily drift cap)."""
    return StanceChange.objects.create(
        stance=stance,
        bot_id=stance.bot_id,
        topic=stance.topic,
        old_polarity=old_polarity,
        new_polarity=stance.polarity,
        old_confidence=old_confidence,
        new_confidence=stance.confidence,
        cause_kind=StanceChange.Cause.OPERATOR,
        cause=cause,
    )


def bot_set_token(*, bot: Bot, token: str) -> Bot:
    """Replace a bot's token (empty removes it)."""
    bot.token = token
    bot.full_clean()
    bot.save(update_fields=["token_encrypted", "token_fingerprint", "telegram_id", "updated_at"])
    return bot


def bots_set_enabled(*, bot_ids: list[int], enabled: bool) -> int:
    """Enable or disable several bots; returns how many changed."""
    return Bot.objects.filter(pk__in=bot_ids).exclude(is_enabled=enabled).update(is_enabled=enabled)


def bot_tokens_rotate() -> int:
    """Re-encrypt every stored token with the first key of TOKEN_ENCRYPTION_KEYS; returns how many."""
    rotated = 0
    with transaction.atomic():
        for bot in Bot.objects.select_for_update().exclude(token_encrypted=""):
            bot.token_encrypted = crypto.rotate_ciphertext(bot.token_encrypted)
            bot.save(update_fields=["token_encrypted"])
            rotated += 1
    return rotated

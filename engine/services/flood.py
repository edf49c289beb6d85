"""Flood control: how many priority replies members can ask for, per member, chat and bot (shared in Redis)."""

from __future__ import annotations

import logging
from enum import StrEnum

from redis.exceptions import RedisError

from engine.runtime_settings import AbuseLimits
from engine.services import limits
from monitoring import metrics

logger = logging.getLogger(__name__)


class FloodSkip(StrEnum):
    """Why a member's message got no priority reply, or a request no LLM call (the metric's reason label)."""

    MEMBER_LIMIT = "member_limit"
    CHAT_LIMIT = "chat_limit"
    BOT_LIMIT = "bot_limit"
    REQUEST_TOO_LARGE = "request_too_large"


def priority_windows(
    *, chat_id: int, bot_id: int, user_id: int, caps: AbuseLimits, scale: float = 1.0
) -> list[limits.Window]:
    """The member's window in the chat first, then the chat's and the bot's minute; in simulated time, like every
    other pace of the crowd (at `scale_factor` 10 a 10-minute window lasts one real minute)."""
    return [
        limits.Window(f"flood:member:{chat_id}:{user_id}", caps.member_replies, caps.member_window_s / scale),
        limits.Window(f"flood:chat:{chat_id}:min", caps.chat_replies_per_min, 60.0 / scale),
        limits.Window(f"flood:bot:{bot_id}:min", caps.bot_replies_per_min, 60.0 / scale),
    ]


REASONS = (FloodSkip.MEMBER_LIMIT, FloodSkip.CHAT_LIMIT, FloodSkip.BOT_LIMIT)  # in `priority_windows`' order


def priority_admit(
    *, chat_id: int, bot_id: int, user_id: int, caps: AbuseLimits, scale: float = 1.0
) -> FloodSkip | None:
    """Take a priority reply from every window in one round trip; None when admitted, else why not (counted).

    A refusal is declined, not deferred: a reply minutes late answers a conversation that has moved on.
    """
    windows = priority_windows(chat_id=chat_id, bot_id=bot_id, user_id=user_id, caps=caps, scale=scale)
    try:
        if limits.reserve(windows) == 0:
            return None
        full = limits.windows_full(windows)  # only on a refusal: which window said no
    except RedisError:
        logger.warning("flood limits unavailable, priority reply admitted", exc_info=True)
        return None  # the limits guard the budget; an outage of theirs must not silence every member
    reason = next((reason for reason, is_full in zip(REASONS, full, strict=True) if is_full), FloodSkip.MEMBER_LIMIT)
    metrics.record_flood_skip(reason)
    return reason

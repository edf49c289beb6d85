"""LLM budget governor: keep requests and tokens per minute (and per day) under the configured limits."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.utils import timezone

from engine.clients.llm.base import RateLimitInfo
from engine.runtime_settings import LlmBudget
from engine.services import limits
from monitoring import metrics

BACKOFF_KEY = "llm"
TOKENS_KEY = "llm:tokens:"  # under limits.PREFIX
TOKENS_KEEP_S = 90_000
CHAT_TOKENS_KEEP_S = 120  # a chat's share is counted per clock minute
LOW_TOKENS = 200


def blocked_for() -> float:
    """Seconds until the provider may be called again after a 429 or exhausted headers (0 when free)."""
    return max(0.0, limits.backoff_until(BACKOFF_KEY) - time.time())


class RequestTooLarge(ValueError):
    """A single request larger than the minute's allowance: it can never fit, so it is refused, not waited for."""


def allowance(budget: LlmBudget, share: float = 1.0) -> int:
    """The most tokens one request (of one chat, with its share) can ever be reserved within a minute."""
    return max(1, int(budget.tpm * share))


def too_large(budget: LlmBudget, estimate: int, *, share: float = 1.0) -> bool:
    """A request larger than the minute's allowance (the chat's share of it) never fits: it is refused, not
    admitted into an empty minute."""
    return estimate > allowance(budget, share) or estimate > budget.daily_tokens


def reserve(budget: LlmBudget, estimate: int, *, chat_id: int | None = None, share: float = 1.0) -> float:
    """Reserve one request of `estimate` tokens (within the chat's share, when given); returns 0, or seconds to
    wait (nothing reserved). RequestTooLarge when it could never fit."""
    share = share if chat_id is not None else 1.0
    if too_large(budget, estimate, share=share):
        raise RequestTooLarge(f"a request of {estimate} tokens exceeds the allowance of {allowance(budget, share)}")
    wait = _reserve(budget, {chat_id: estimate}, share=share)
    if wait > 0:
        metrics.record_llm_budget_deferral()
    return wait


def reserve_together(
    budget: LlmBudget, estimates: list[int], *, chat_ids: list[int] | None = None, share: float = 1.0
) -> bool:
    """Reserve a batch's requests in one round trip; False (nothing reserved) unless all fit, each then its own."""
    per_chat: dict[int | None, int] = {}
    ids: list[int | None] = list(chat_ids) if chat_ids is not None else [None] * len(estimates)
    for chat_id, estimate in zip(ids, estimates, strict=True):
        per_chat[chat_id] = per_chat.get(chat_id, 0) + estimate
    if not estimates or sum(estimates) > budget.tpm:
        return False  # a batch never passes the minute's allowance in one go, even into an empty minute
    if any(chat_id is not None and total > allowance(budget, share) for chat_id, total in per_chat.items()):
        return False
    return _reserve(budget, per_chat, share=share, events=len(estimates)) == 0


def _reserve(budget: LlmBudget, per_chat: dict[int | None, int], *, share: float, events: int = 1) -> float:
    # One round trip: the shared backoff, the requests window, both token tallies and each chat's minute share,
    # checked and taken at once.
    now = timezone.now()
    estimate = sum(per_chat.values())
    minute_wait = max(1.0, (now.replace(second=0, microsecond=0) + timedelta(minutes=1) - now).total_seconds())
    day_ends = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    minute, day = _token_keys(now)
    tallies = [
        limits.Tally(minute, estimate, budget.tpm, TOKENS_KEEP_S, minute_wait),
        limits.Tally(day, estimate, budget.daily_tokens, TOKENS_KEEP_S, max(1.0, (day_ends - now).total_seconds())),
    ]
    cap = allowance(budget, share)
    tallies += [
        limits.Tally(f"{TOKENS_KEY}chat:{chat_id}:{now:%Y%m%d%H%M}", amount, cap, CHAT_TOKENS_KEEP_S, minute_wait)
        for chat_id, amount in per_chat.items()
        if chat_id is not None
    ]
    windows = [limits.Window("llm:rpm", budget.rpm, 60.0)]
    return limits.reserve(windows, backoff=BACKOFF_KEY, tallies=tallies, events=events)


def _token_keys(now: datetime) -> tuple[str, str]:
    """The token tallies of the clock minute and the day."""
    return f"{TOKENS_KEY}min:{now:%Y%m%d%H%M}", f"{TOKENS_KEY}day:{now:%Y%m%d}"


def correct_tokens(delta: int) -> None:
    """Add the tokens used beyond the reservations (negative: reserved but never used), in one round trip."""
    if delta:
        limits.tally_add(dict.fromkeys(_token_keys(timezone.now()), delta))


def obey_headers(headers: RateLimitInfo | None) -> None:
    """Make everyone wait when the provider's rate-limit headers say its budget is spent (no round trip if not)."""
    if headers is None:
        return
    if headers.remaining_requests == 0 and headers.reset_requests_s:
        limits.backoff_set(BACKOFF_KEY, headers.reset_requests_s)
    if headers.remaining_tokens is not None and headers.remaining_tokens < LOW_TOKENS and headers.reset_tokens_s:
        limits.backoff_set(BACKOFF_KEY, headers.reset_tokens_s)


def rate_limited(retry_after: float) -> None:
    """Everyone waits after a 429."""
    limits.backoff_set(BACKOFF_KEY, retry_after)

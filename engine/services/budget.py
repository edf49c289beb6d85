"""LLM budget governor: keep requests and tokens per minute (and per day) under the configured limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from engine.clients.llm.base import RateLimitInfo
from engine.runtime_settings import LlmBudget
from engine.services import limits
from monitoring import metrics

BACKOFF_KEY = "llm"
TOKENS_KEY = "llm:tokens:"  # under limits.PREFIX
TOKENS_KEEP_S = 90_000
LOW_TOKENS = 200


def blocked_for() -> float:
    """Seconds until the provider may be called again after a 429 or exhausted headers (0 when free)."""
    return max(0.0, limits.backoff_until(BACKOFF_KEY) - time.time())


def reserve(budget: LlmBudget, estimate: int) -> float:
    """Reserve one request of `estimate` tokens; returns 0, or seconds to wait (nothing reserved)."""
    wait = _reserve(budget, estimate)
    if wait > 0:
        metrics.record_llm_budget_deferral()
    return wait


def reserve_together(budget: LlmBudget, estimates: list[int]) -> bool:
    """Reserve a batch's requests in one round trip; False (nothing reserved) unless all fit, each then its own."""
    return bool(estimates) and _reserve(budget, sum(estimates), events=len(estimates)) == 0


def _reserve(budget: LlmBudget, estimate: int, *, events: int = 1) -> float:
    # One round trip: the shared backoff, the requests window and both token tallies, checked and taken at once.
    now = datetime.now(UTC)
    minute_ends = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day_ends = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    minute, day = _token_keys(now)
    tallies = [
        limits.Tally(minute, estimate, budget.tpm, TOKENS_KEEP_S, max(1.0, (minute_ends - now).total_seconds())),
        limits.Tally(day, estimate, budget.daily_tokens, TOKENS_KEEP_S, max(1.0, (day_ends - now).total_seconds())),
    ]
    windows = [limits.Window("llm:rpm", budget.rpm, 60.0)]
    return limits.reserve(windows, backoff=BACKOFF_KEY, tallies=tallies, events=events)


def _token_keys(now: datetime) -> tuple[str, str]:
    """The token tallies of the clock minute and the day."""
    return f"{TOKENS_KEY}min:{now:%Y%m%d%H%M}", f"{TOKENS_KEY}day:{now:%Y%m%d}"


def correct_tokens(delta: int) -> None:
    """Add the tokens used beyond the reservations (negative: reserved but never used), in one round trip."""
    if delta:
        limits.tally_add(dict.fromkeys(_token_keys(datetime.now(UTC)), delta))


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

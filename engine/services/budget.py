"""LLM budget governor: keep requests and tokens per minute (and per day) under the configured limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.clients.llm.base import RateLimitInfo
from engine.services import limits
from monitoring import metrics

BACKOFF_KEY = "llm"
TOKENS_KEY = "llm:tokens:"  # under limits.PREFIX
TOKENS_KEEP_S = 90_000
LOW_TOKENS = 200


def blocked_for() -> float:
    """Seconds until the provider may be called again after a 429 or exhausted headers (0 when free)."""
    return max(0.0, limits.backoff_until(BACKOFF_KEY) - time.time())


def reserve(budget: dict[str, Any], estimate: int) -> float:
    """Reserve one request of `estimate` tokens; returns 0, or seconds to wait (nothing reserved)."""
    wait = _reserve(budget, estimate)
    if wait > 0:
        metrics.record_llm_budget_deferral()
    return wait


def _reserve(budget: dict[str, Any], estimate: int) -> float:
    # One round trip: the shared backoff, the requests window and both token tallies, checked and taken at once.
    now = datetime.now(UTC)
    minute_ends = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day_ends = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    minute, day = _token_keys(now)
    tallies = [
        limits.Tally(minute, estimate, budget["tpm"], TOKENS_KEEP_S, max(1.0, (minute_ends - now).total_seconds())),
        limits.Tally(day, estimate, budget["daily_tokens"], TOKENS_KEEP_S, max(1.0, (day_ends - now).total_seconds())),
    ]
    return limits.reserve([limits.Window("llm:rpm", budget["rpm"], 60.0)], backoff=BACKOFF_KEY, tallies=tallies)


def _token_keys(now: datetime) -> tuple[str, str]:
    """The token tallies of the clock minute and the day."""
    return f"{TOKENS_KEY}min:{now:%Y%m%d%H%M}", f"{TOKENS_KEY}day:{now:%Y%m%d}"


def record(*, estimate: int, actual: int, headers: RateLimitInfo | None) -> None:
    """Correct the reservation with the real token count and obey the provider's rate-limit headers."""
    if actual != estimate:
        limits.tally_add(dict.fromkeys(_token_keys(datetime.now(UTC)), actual - estimate))
    if headers is None:
        return
    if headers.remaining_requests == 0 and headers.reset_requests_s:
        limits.backoff_set(BACKOFF_KEY, headers.reset_requests_s)
    if headers.remaining_tokens is not None and headers.remaining_tokens < LOW_TOKENS and headers.reset_tokens_s:
        limits.backoff_set(BACKOFF_KEY, headers.reset_tokens_s)


def rate_limited(retry_after: float) -> None:
    """Everyone waits after a 429."""
    limits.backoff_set(BACKOFF_KEY, retry_after)

"""LLM budget governor: keep requests and tokens per minute (and per day) under the configured limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.clients.llm.base import RateLimitInfo
from engine.redis import redis_connection
from engine.services import limits
from monitoring import metrics

BACKOFF_KEY = "llm"
TOKENS_KEY = "piyasa:llm:tokens:"
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
    wait = blocked_for()
    if wait > 0:
        return wait
    wait = limits.reserve([limits.Window("llm:rpm", budget["rpm"], 60.0)])
    if wait > 0:
        return wait
    now = datetime.now(UTC)
    for bucket, cap, ends in (
        (f"min:{now:%Y%m%d%H%M}", budget["tpm"], now.replace(second=0, microsecond=0) + timedelta(minutes=1)),
        (f"day:{now:%Y%m%d}", budget["daily_tokens"], now.replace(hour=0, minute=0, second=0) + timedelta(days=1)),
    ):
        if not _take_tokens(bucket, estimate, cap):
            return max(1.0, (ends - now).total_seconds())
    return 0.0


def _take_tokens(bucket: str, amount: int, cap: int) -> bool:
    key = TOKENS_KEY + bucket
    redis = redis_connection()
    used = int(redis.incrby(key, amount))
    redis.expire(key, 90000)
    if used > cap and used > amount:  # a single oversized request may still go when the bucket is empty
        redis.decrby(key, amount)
        return False
    return True


def record(*, estimate: int, actual: int, headers: RateLimitInfo | None) -> None:
    """Correct the reservation with the real token count and obey the provider's rate-limit headers."""
    now = datetime.now(UTC)
    redis = redis_connection()
    for bucket in (f"min:{now:%Y%m%d%H%M}", f"day:{now:%Y%m%d}"):
        redis.incrby(TOKENS_KEY + bucket, actual - estimate)
    if headers is None:
        return
    if headers.remaining_requests == 0 and headers.reset_requests_s:
        limits.backoff_set(BACKOFF_KEY, headers.reset_requests_s)
    if headers.remaining_tokens is not None and headers.remaining_tokens < LOW_TOKENS and headers.reset_tokens_s:
        limits.backoff_set(BACKOFF_KEY, headers.reset_tokens_s)


def rate_limited(retry_after: float) -> None:
    """Everyone waits after a 429."""
    limits.backoff_set(BACKOFF_KEY, retry_after)

"""A circuit breaker per LLM provider, shared by every worker process through Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from redis import Redis

from engine.clients.llm.base import LlmCircuitOpen

KEY_PREFIX = "piyasa:llm:breaker:"
# A clean breaker (no failures, not open) seen by this process is trusted this long without asking Redis
# again: a batch's calls cost one round trip, not one each. A failure recorded here forgets it at once; one
# recorded by another worker reaches this one's calls at most this late.
CLEAN_TRUSTED_S = 1.0

# Each script is atomic in Redis, so concurrent workers see one consistent state. Times are passed
# in from the caller's clock (injectable in tests) and kept as strings: Lua truncates returned numbers.
_ACQUIRE = """
local h = redis.call('HMGET', KEYS[1], 'open_until', 'trial_until', 'failures')
if not h[1] then return {h[3] and 'closed' or 'clean', '0'} end
local now = tonumber(ARGV[1])
local open_until = tonumber(h[1])
if now < open_until then return {'open', tostring(open_until - now)} end
local trial_until = tonumber(h[2] or '0')
if now < trial_until then return {'busy', tostring(trial_until - now)} end
redis.call('HSET', KEYS[1], 'trial_until', tostring(now + tonumber(ARGV[2])))
return {'trial', '0'}
"""

_FAIL = """
local now = tonumber(ARGV[1])
local reopen_at = now + math.max(tonumber(ARGV[3]), tonumber(ARGV[4]))
local open_until = redis.call('HGET', KEYS[1], 'open_until')
if open_until then
  reopen_at = math.max(reopen_at, tonumber(open_until))
  redis.call('HSET', KEYS[1], 'open_until', tostring(reopen_at), 'trial_until', '0')
  return 'open'
end
if redis.call('HINCRBY', KEYS[1], 'failures', 1) < tonumber(ARGV[2]) then return 'closed' end
redis.call('HSET', KEYS[1], 'open_until', tostring(reopen_at), 'trial_until', '0', 'failures', '0')
return 'open'
"""


class BreakerState(StrEnum):
    """Circuit states, as exported to metrics."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class CircuitBreaker:
    """closed → open after N consecutive failures → half-open after a cool-down (one trial) → closed or open."""

    def __init__(
        self,
        redis: Redis,
        name: str,
        *,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        trial_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self.trial_timeout_s = trial_timeout_s
        self._redis = redis
        self._key = KEY_PREFIX + name
        self._clock = clock
        self._acquire = redis.register_script(_ACQUIRE)
        self._fail = redis.register_script(_FAIL)
        self._clean_until = 0.0

    def before_call(self) -> bool:
        """Allow a call, or raise LlmCircuitOpen; in half-open only one trial call goes through.

        Returns whether the breaker holds state a success must clear (`record_success`): on a clean breaker,
        the usual case, a successful call costs one round trip, not two. (A failure recorded by another
        worker while this call was in flight is then cleared by the next success, not by this one.)
        A clean breaker is trusted for CLEAN_TRUSTED_S without another round trip.
        """
        now = self._clock()
        if now < self._clean_until:
            return False
        outcome, wait = (_text(part) for part in self._acquire(keys=[self._key], args=[now, self.trial_timeout_s]))
        if outcome == "clean":
            self._clean_until = now + CLEAN_TRUSTED_S
        if outcome == "open":
            raise LlmCircuitOpen(f"circuit for {self.name} is open", retry_after=max(float(wait), 0.0))
        if outcome == "busy":
            # Another worker's trial call is running; it settles within the LLM timeout.
            retry_after = min(float(wait), self.cooldown_s)
            raise LlmCircuitOpen(f"circuit for {self.name} is half-open, trial running", retry_after=retry_after)
        return outcome != "clean"

    def record_success(self) -> None:
        """The provider answered: close the circuit and forget past failures."""
        self._redis.delete(self._key)

    def record_failure(self, retry_after: float | None = None) -> None:
        """Count a transient failure; opens for max(cool-down, retry_after) at the threshold or in half-open."""
        self._clean_until = 0.0
        self._fail(keys=[self._key], args=[self._clock(), self.failure_threshold, self.cooldown_s, retry_after or 0.0])

    def state(self) -> BreakerState:
        """Current state (for metrics and the dashboard)."""
        open_until = self._redis.hget(self._key, "open_until")
        if open_until is None:
            return BreakerState.CLOSED
        return BreakerState.OPEN if self._clock() < float(_text(open_until)) else BreakerState.HALF_OPEN

"""Rate limits shared by every worker through Redis: sliding windows that tell how long to wait, never drop."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from redis.commands.core import Script

from engine.redis import redis_connection

PREFIX = "piyasa:limit:"

# Atomically: if the backoff key (when given) holds a time still ahead, return the seconds left; drop entries
# older than each window, and if any window lacks room for the events, note the seconds until enough of its
# entries leave; if any tally would pass its cap, note its wait; return the longest wait, or else record the
# events in every window and add to every tally, and return 0.
# KEYS: [backoff], windows..., tallies...  ARGV: now, member, #windows, #tallies, has backoff, #events,
# (limit, seconds) per window, (amount, cap, seconds to keep, wait when full) per tally.
RESERVE_SCRIPT = """
local now = tonumber(ARGV[1])
local windows, tallies, events = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local first = 1
if ARGV[5] == '1' then
  local until_at = tonumber(redis.call('GET', KEYS[1]) or '0')
  if until_at > now then return tostring(until_at - now) end
  first = 2
end
local wait = 0
for i = 0, windows - 1 do
  local key, limit, window = KEYS[first + i], tonumber(ARGV[7 + i * 2]), tonumber(ARGV[8 + i * 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count + events > limit then
    local leaving = count + events - limit - 1  -- the entry that must leave for the last event to fit
    local free_at = now + window
    if leaving < count then
      free_at = tonumber(redis.call('ZRANGE', key, leaving, leaving, 'WITHSCORES')[2]) + window
    end
    if free_at - now > wait then wait = free_at - now end
  end
end
local t = 7 + windows * 2
for j = 0, tallies - 1 do
  local used = tonumber(redis.call('GET', KEYS[first + windows + j]) or '0')
  local amount, cap, full = tonumber(ARGV[t + j * 4]), tonumber(ARGV[t + j * 4 + 1]), tonumber(ARGV[t + j * 4 + 3])
  -- a single oversized event may still go when the tally is empty
  if used > 0 and used + amount > cap and full > wait then wait = full end
end
if wait > 0 then return tostring(wait) end
for i = 0, windows - 1 do
  for n = 1, events do redis.call('ZADD', KEYS[first + i], now, ARGV[2] .. ':' .. n) end
  redis.call('PEXPIRE', KEYS[first + i], math.ceil(tonumber(ARGV[8 + i * 2]) * 1000))
end
for j = 0, tallies - 1 do
  local key = KEYS[first + windows + j]
  redis.call('INCRBY', key, ARGV[t + j * 4])
  redis.call('EXPIRE', key, ARGV[t + j * 4 + 2])
end
return '0'
"""


@dataclass(frozen=True)
class Window:
    """At most `limit` events per `seconds` for one key."""

    key: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class Tally:
    """A running total (tokens in a clock minute, say) that an event adds `amount` to, up to `cap`.

    A full tally makes the event wait `wait_s` (until its bucket ends); the key is kept `keep_s` seconds.
    """

    key: str
    amount: int
    cap: int
    keep_s: int
    wait_s: float


def _redis() -> Redis:
    return redis_connection()


_reserve_script: Script | None = None


def reserve(
    windows: list[Window],
    *,
    backoff: str | None = None,
    tallies: Sequence[Tally] = (),
    now: float | None = None,
    events: int = 1,
) -> float:
    """Record one event (or `events`) in every window and tally if all have room; else record nothing and return
    seconds to wait.

    With `backoff`, a backoff set on that key (see `backoff_set`) is checked first, in the same round trip.
    """
    if not windows and not tallies and backoff is None:
        return 0.0
    if any(window.limit <= 0 for window in windows):
        return 60.0
    keys = [f"{PREFIX}backoff:{backoff}"] if backoff is not None else []
    keys += [PREFIX + window.key for window in windows] + [PREFIX + tally.key for tally in tallies]
    args: list[str | float] = [now if now is not None else time.time(), uuid.uuid4().hex]
    args += [len(windows), len(tallies), int(backoff is not None), events]
    for window in windows:
        args += [window.limit, window.seconds]
    for tally in tallies:
        args += [tally.amount, tally.cap, tally.keep_s, tally.wait_s]
    global _reserve_script
    if _reserve_script is None:
        _reserve_script = _redis().register_script(RESERVE_SCRIPT)
    return float(_reserve_script(keys=keys, args=args))


def tally_add(amounts: dict[str, int]) -> None:
    """Correct tallies (an estimate that turned out high or low), in one round trip."""
    pipe = _redis().pipeline(transaction=False)
    for key, amount in amounts.items():
        pipe.incrby(PREFIX + key, amount)
    pipe.execute()


def telegram_windows(*, chat_id: int, bot_id: int) -> list[Window]:
    """Telegram's limits: ≤ 20 messages/min and ≤ 1/s per group, ≤ 30/s per bot token."""
    return [
        Window(f"tg:chat:{chat_id}:min", 20, 60.0),
        Window(f"tg:chat:{chat_id}:sec", 1, 1.0),
        Window(f"tg:bot:{bot_id}:sec", 30, 1.0),
    ]


def global_window(max_per_minute: int) -> Window:
    """The global cap on planned bot messages per minute, all chats together."""
    return Window("global:min", max_per_minute, 60.0)


def hour_key(moment: datetime) -> str:
    """The clock hour a per-bot hourly cap counts in."""
    return moment.strftime("%Y%m%d%H")


def hourly_cap(*, bot_id: int, hour: str, low: int, high: int) -> int:
    """A random cap in [low, high], fixed for each bot-hour (the same in every worker)."""
    return random.Random(f"{bot_id}:{hour}").randint(low, high)


def hourly_counts(bot_ids: list[int], hour: str) -> dict[int, int]:
    """Messages planned this hour per bot, in one round trip."""
    if not bot_ids:
        return {}
    values = _redis().mget([f"{PREFIX}bothour:{bot_id}:{hour}" for bot_id in bot_ids])
    return {bot_id: int(value or 0) for bot_id, value in zip(bot_ids, values, strict=True)}


def hourly_counts_add(bot_ids: list[int], hour: str) -> None:
    """Count one planned message in this hour for each bot listed (twice if listed twice), in one round trip."""
    if not bot_ids:
        return
    pipe = _redis().pipeline()
    for bot_id in bot_ids:
        key = f"{PREFIX}bothour:{bot_id}:{hour}"
        pipe.incr(key)
        pipe.expire(key, 7200)
    pipe.execute()


def backoff_until(key: str) -> float:
    """When a backoff set by `backoff_set` ends (0 when none)."""
    return backoffs_until([key])[0]


def backoffs_until(keys: list[str]) -> list[float]:
    """`backoff_until` for several keys, in one round trip."""
    if not keys:
        return []
    return [float(value) if value else 0.0 for value in _redis().mget([f"{PREFIX}backoff:{key}" for key in keys])]


def backoff_set(key: str, seconds: float) -> None:
    """Make everyone wait `seconds` on key (e.g. a bot token after Telegram's 429)."""
    until = time.time() + seconds
    _redis().set(f"{PREFIX}backoff:{key}", until, ex=max(1, int(seconds) + 1))

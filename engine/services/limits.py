"""Rate limits shared by every worker through Redis: sliding windows that tell how long to wait, never drop."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from redis import Redis
from redis.commands.core import Script

from engine.redis import redis_connection

PREFIX = "piyasa:limit:"

# Atomically, for each reservation in turn (a later one sees what an earlier one recorded): if its backoff key
# (when given) holds a time still ahead, its wait is the seconds left; else drop entries older than each window,
# and if any window lacks room for the events, note the seconds until enough of its entries leave; if any tally
# would pass its cap, note its wait; its wait is the longest, or else record the events in every window, add to
# every tally, and its wait is 0. Returns the waits, one per reservation.
# Per reservation, KEYS: [backoff], windows..., tallies...  ARGV: now, member, #windows, #tallies, has backoff,
# #events, (limit, seconds) per window, (amount, cap, seconds to keep, wait when full) per tally.
RESERVE_SCRIPT = """
local function reserve(k, a)
  local now, member = tonumber(ARGV[a]), ARGV[a + 1]
  local windows, tallies, events = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 5])
  local first, w, t = k, a + 6, a + 6 + windows * 2
  local used_keys, used_args = windows + tallies, 6 + windows * 2 + tallies * 4
  if ARGV[a + 4] == '1' then
    used_keys = used_keys + 1
    first = k + 1
    local until_at = tonumber(redis.call('GET', KEYS[k]) or '0')
    if until_at > now then return until_at - now, used_keys, used_args end
  end
  local wait = 0
  for i = 0, windows - 1 do
    local key, limit, window = KEYS[first + i], tonumber(ARGV[w + i * 2]), tonumber(ARGV[w + i * 2 + 1])
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
  for j = 0, tallies - 1 do
    local used = tonumber(redis.call('GET', KEYS[first + windows + j]) or '0')
    local amount, cap, full = tonumber(ARGV[t + j * 4]), tonumber(ARGV[t + j * 4 + 1]), tonumber(ARGV[t + j * 4 + 3])
    -- a single oversized event may still go when the tally is empty
    if used > 0 and used + amount > cap and full > wait then wait = full end
  end
  if wait > 0 then return wait, used_keys, used_args end
  for i = 0, windows - 1 do
    for n = 1, events do redis.call('ZADD', KEYS[first + i], now, member .. ':' .. n) end
    redis.call('PEXPIRE', KEYS[first + i], math.ceil(tonumber(ARGV[w + i * 2 + 1]) * 1000))
  end
  for j = 0, tallies - 1 do
    local key = KEYS[first + windows + j]
    redis.call('INCRBY', key, ARGV[t + j * 4])
    redis.call('EXPIRE', key, ARGV[t + j * 4 + 2])
  end
  return 0, used_keys, used_args
end
local waits, k, a = {}, 1, 1
while a <= #ARGV do
  local wait, used_keys, used_args = reserve(k, a)
  waits[#waits + 1] = tostring(wait)  -- as text: Lua truncates returned numbers
  k, a = k + used_keys, a + used_args
end
return waits
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


@dataclass(frozen=True)
class Reservation:
    """Events to record in every window and tally at once, if all have room (and the backoff key is not set)."""

    windows: Sequence[Window] = ()
    backoff: str | None = None
    tallies: Sequence[Tally] = ()
    events: int = 1


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
    return reserve_each([Reservation(windows, backoff, tallies, events)], now=now)[0]


def reserve_each(reservations: Sequence[Reservation], *, now: float | None = None) -> list[float]:
    """`reserve` for several reservations, in one round trip: each one's wait (0 when recorded), in order.

    Each is decided after the ones before it, as separate calls would be: two turns of one chat in a batch
    of sends cannot both take the chat's last slot.
    """
    waits = [60.0 if any(window.limit <= 0 for window in r.windows) else 0.0 for r in reservations]
    asked = [i for i, r in enumerate(reservations) if not waits[i] and (r.windows or r.tallies or r.backoff)]
    if not asked:
        return waits
    keys: list[str] = []
    args: list[str | float] = []
    moment = now if now is not None else time.time()
    for r in (reservations[i] for i in asked):
        keys += [f"{PREFIX}backoff:{r.backoff}"] if r.backoff is not None else []
        keys += [PREFIX + window.key for window in r.windows] + [PREFIX + tally.key for tally in r.tallies]
        args += [moment, uuid.uuid4().hex, len(r.windows), len(r.tallies), int(r.backoff is not None), r.events]
        for window in r.windows:
            args += [window.limit, window.seconds]
        for tally in r.tallies:
            args += [tally.amount, tally.cap, tally.keep_s, tally.wait_s]
    global _reserve_script
    if _reserve_script is None:
        _reserve_script = _redis().register_script(RESERVE_SCRIPT)
    for i, wait in zip(asked, _reserve_script(keys=keys, args=args), strict=True):
        waits[i] = float(wait)
    return waits


def windows_full(windows: Sequence[Window], *, now: float | None = None) -> list[bool]:
    """Whether each window lacks room for one more event, in one round trip (read only: to say why a reservation
    waited)."""
    moment = now if now is not None else time.time()
    pipe = _redis().pipeline(transaction=False)
    for window in windows:
        pipe.zcount(PREFIX + window.key, f"({moment - window.seconds}", "+inf")
    return [int(count) + 1 > window.limit for window, count in zip(windows, pipe.execute(), strict=True)]


def tally_add(amounts: dict[str, int]) -> None:
    """Correct tallies (an estimate that turned out high or low), in one round trip."""
    pipe = _redis().pipeline(transaction=False)
    for key, amount in amounts.items():
        pipe.incrby(PREFIX + key, amount)
    pipe.execute()


def telegram_windows(*, chat_id: int, bot_id: int, slow_mode_delay: int = 0) -> list[Window]:
    """Telegram's limits: ≤ 20 messages/min and ≤ 1/s per group, ≤ 30/s per bot token; in a group with slow mode,
    one message per `slow_mode_delay` seconds from each member (a bot that is not an admin too)."""
    windows = [
        Window(f"tg:chat:{chat_id}:min", 20, 60.0),
        Window(f"tg:chat:{chat_id}:sec", 1, 1.0),
        Window(f"tg:bot:{bot_id}:sec", 30, 1.0),
    ]
    if slow_mode_delay > 0:
        windows.append(Window(f"tg:chat:{chat_id}:bot:{bot_id}:slow", 1, float(slow_mode_delay)))
    return windows


def global_window(max_per_minute: int) -> Window:
    """The global cap on planned bot messages per minute, all chats together."""
    return Window("global:min", max_per_minute, 60.0)


def hour_key(moment: datetime) -> str:
    """The clock hour a per-bot hourly cap counts in."""
    return moment.strftime("%Y%m%d%H")


@lru_cache(maxsize=65_536)  # a tick asks for every due chat's bots: seeding a generator hashes the seed each time
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

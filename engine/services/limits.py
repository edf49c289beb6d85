"""Rate limits shared by every worker through Redis: sliding windows that tell how long to wait, never drop."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from redis.commands.core import Script

from engine.redis import redis_connection

PREFIX = "piyasa:limit:"

# Atomically: drop entries older than each window; if any window is full, return the seconds until
# its oldest relevant entry leaves; otherwise record the event in every window and return 0.
RESERVE_SCRIPT = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + i * 2])
  local window = tonumber(ARGV[2 + i * 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local free_at = tonumber(entry[2]) + window
    if free_at - now > wait then wait = free_at - now end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + i * 2]) * 1000))
end
return '0'
"""


@dataclass(frozen=True)
class Window:
    """At most `limit` events per `seconds` for one key."""

    key: str
    limit: int
    seconds: float


def _redis() -> Redis:
    return redis_connection()


_reserve_script: Script | None = None


def reserve(windows: list[Window], *, now: float | None = None) -> float:
    """Record one event in every window if all have room; else record nothing and return seconds to wait."""
    if not windows:
        return 0.0
    if any(window.limit <= 0 for window in windows):
        return 60.0
    args: list[str | float] = [now if now is not None else time.time(), uuid.uuid4().hex]
    for window in windows:
        args += [window.limit, window.seconds]
    global _reserve_script
    if _reserve_script is None:
        _reserve_script = _redis().register_script(RESERVE_SCRIPT)
    script = _reserve_script
    return float(script(keys=[PREFIX + window.key for window in windows], args=args))


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


def hourly_count_add(bot_id: int, hour: str) -> None:
    """Count one planned message for a bot in this hour."""
    key = f"{PREFIX}bothour:{bot_id}:{hour}"
    pipe = _redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, 7200)
    pipe.execute()


def backoff_until(key: str) -> float:
    """When a backoff set by `backoff_set` ends (0 when none)."""
    value = _redis().get(f"{PREFIX}backoff:{key}")
    return float(value) if value else 0.0


def backoff_set(key: str, seconds: float) -> None:
    """Make everyone wait `seconds` on key (e.g. a bot token after Telegram's 429)."""
    until = time.time() + seconds
    _redis().set(f"{PREFIX}backoff:{key}", until, ex=max(1, int(seconds) + 1))

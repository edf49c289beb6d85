"""The engine heartbeat: a timestamp in Redis written by the periodic cron job."""

from __future__ import annotations

import time

from engine.redis import redis_connection

HEARTBEAT_KEY = "piyasa:engine:heartbeat"


def heartbeat_record() -> float:
    """Store now as the last heartbeat; returns it."""
    now = time.time()
    redis_connection().set(HEARTBEAT_KEY, now)
    return now


def heartbeat_age_s() -> float | None:
    """Seconds since the last heartbeat, or None if there has been none."""
    raw = redis_connection().get(HEARTBEAT_KEY)
    return None if raw is None else max(0.0, time.time() - float(raw))

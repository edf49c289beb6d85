"""The engine's Redis client: one client and connection pool per process, reused by every job."""

from __future__ import annotations

from functools import cache

import django_rq
from redis import Redis


@cache
def redis_connection() -> Redis:
    """The process's client for the engine's own keys and for enqueueing.

    `django_rq.get_connection()` builds a new client and connection pool on every call
    (docs/decisions/004-redis-client-per-process.md).
    """
    return django_rq.get_connection("high")

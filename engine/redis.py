"""The engine's Redis client: one client and connection pool per process, reused by every job."""

from __future__ import annotations

from functools import cache

import django_rq
from redis import Redis


@cache
def redis_connection() -> Redis:
    """The process's client for the engine's own keys and for enqueueing.

    `django_rq.get_connection()` builds a new client and connection pool on every call: a new TCP
    connection, a handshake and (redis-py 8) a package-metadata lookup, ~1.5 ms of CPU each time.
    """
    return django_rq.get_connection("high")

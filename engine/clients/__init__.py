"""Clients of the services the engine talks to (LLM providers, Telegram's Bot API)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

# Network calls in flight per worker process: the LLM calls of a generate batch, or the Bot API calls of a
# send batch (never both at once: a worker runs one job at a time).
NETWORK_THREADS = 16


@cache
def network_threads() -> ThreadPoolExecutor:
    """The process's threads for the network calls of one job's batch, so their waits overlap.

    Kept for the life of the process (threads, event loops and HTTP pools are reused across jobs). They never
    touch the database: each worker keeps one connection however many calls are in flight.
    """
    return ThreadPoolExecutor(max_workers=NETWORK_THREADS, thread_name_prefix="network")

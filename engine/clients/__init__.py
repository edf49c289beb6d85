"""Clients of the services the engine talks to (LLM providers, Telegram's Bot API)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

# A job's batch of network calls runs on one of these threads' event loops (`loops.as_returned`); a worker runs
# one job at a time, so one is busy at a time, and an idle one is reused (with its loop's kept-alive pools).
NETWORK_THREADS = 2


@cache
def network_threads() -> ThreadPoolExecutor:
    """The process's threads for the network calls of a job's batch, awaited together on the thread's loop while
    the job's own thread records the calls that have returned.

    Kept for the life of the process (threads, event loops and HTTP pools are reused across jobs). They never
    touch the database: each worker keeps one connection however many calls are in flight.
    """
    return ThreadPoolExecutor(max_workers=NETWORK_THREADS, thread_name_prefix="network")

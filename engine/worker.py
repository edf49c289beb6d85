"""Piyasa's RQ worker: RQ's non-forking SimpleWorker, made to survive crashes of its peers and database restarts."""

from __future__ import annotations

import gc
from typing import Any

from django.db import close_old_connections
from redis import Redis
from rq.job import Job
from rq.queue import Queue
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE
from rq.worker import SimpleWorker

from engine import jobs
from engine.liveness import liveness_start

# RQ moves due `enqueue_at` jobs (every typing action and send) from the worker holding the scheduler lock.
# When that worker dies, its lock expires after 61 s, but the others only try to take over in their
# maintenance — every 10 minutes by default — and an idle worker blocks on BLPOP for worker_ttl - 15 s
# between checks: deliveries would stop for minutes after one crash (docs/decisions/026-liveness-recovery.md).
MAINTENANCE_INTERVAL_S = 15
DEQUEUE_TIMEOUT_S = 15
# A live scheduler refreshes its lock (TTL interval + 60 s) every interval (1 s); a lock not refreshed for
# this long belongs to a dead scheduler and is released, so a peer takes over in seconds instead of 61 s.
SCHEDULER_STALE_S = 15
# A batch's objects live through its LLM wait and outlive the default young generation; a larger one lets them
# die young instead of feeding full collections (docs/decisions/017-gc-tuning.md).
GC_YOUNG_THRESHOLD = 10_000
_RELEASE_STALE_LOCK = """
local ttl = redis.call('TTL', KEYS[1])
if ttl >= 0 and ttl < tonumber(ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0
"""


class EngineWorker(SimpleWorker):
    """SimpleWorker + scheduler take-over within seconds, a liveness mark for recovery, fresh DB connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL_S)
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        """Wake up this often when idle, to run maintenance (scheduler take-over)."""
        return DEQUEUE_TIMEOUT_S

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Mark this worker alive (engine.liveness), load the jobs' services, tune garbage collection, then work."""
        liveness_start(self.name)
        jobs.preload()  # before tune_gc, so the services are frozen with the rest
        tune_gc()
        return super().work(*args, **kwargs)

    def run_maintenance_tasks(self) -> None:
        """Release a dead scheduler's locks first, so RQ's maintenance can take them over now."""
        if self.scheduler is not None:
            full_ttl = self.scheduler.interval + 60
            for name in self.queue_names():
                release_stale_scheduler_lock(self.connection, name, full_ttl=full_ttl)
        super().run_maintenance_tasks()

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run the job on a usable DB connection, as Django does around each request."""
        # A connection broken by a database restart (or older than CONN_MAX_AGE) is replaced here;
        # without this a worker would fail every job on its dead connection until it is restarted.
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()


def tune_gc() -> None:
    """Collect garbage as a long-running job process should: what is loaded by now (Django, the apps) is frozen
    out of every later collection, and young collections come every GC_YOUNG_THRESHOLD allocations."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def release_stale_scheduler_lock(connection: Redis, queue_name: str, *, full_ttl: int) -> bool:
    """Delete the queue's scheduler lock if its holder has not refreshed it for SCHEDULER_STALE_S (atomic)."""
    key = SCHEDULER_LOCKING_KEY_TEMPLATE % queue_name
    return bool(connection.eval(_RELEASE_STALE_LOCK, 1, key, full_ttl - SCHEDULER_STALE_S))

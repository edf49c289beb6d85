from __future__ import annotations

import gc
import os
import subprocess
import sys
from datetime import timedelta
from unittest.mock import patch

import django_rq
from django.conf import settings
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE, RQScheduler
from rq.utils import now

from config.testing.cases import RedisSimpleTestCase
from engine import liveness
from engine.worker import (
    DEQUEUE_TIMEOUT_S,
    GC_YOUNG_THRESHOLD,
    MAINTENANCE_INTERVAL_S,
    SCHEDULER_STALE_S,
    EngineWorker,
    release_stale_scheduler_lock,
)


def worker() -> EngineWorker:
    queue = django_rq.get_queue("default")
    return EngineWorker([queue], connection=queue.connection)


class WorkerTestCase(RedisSimpleTestCase):
    """The garbage collector's thresholds are restored, and what a worker froze unfrozen, after each test."""

    def setUp(self) -> None:
        self.addCleanup(gc.set_threshold, *gc.get_threshold())
        self.addCleanup(gc.unfreeze)
        super().setUp()


class EngineWorkerTests(WorkerTestCase):
    """The worker class RQ runs: maintenance often, liveness, garbage collection, database connections."""

    def test_it_is_the_configured_worker_class(self) -> None:
        assert settings.RQ["WORKER_CLASS"] == "engine.worker.EngineWorker"

    def test_a_dead_schedulers_lock_is_taken_over_within_seconds_not_ten_minutes(self) -> None:
        # Scheduler take-over happens in maintenance; RQ's default runs it every 10 minutes and blocks an idle
        # worker on BLPOP for worker_ttl - 15 s between checks.
        engine_worker = worker()
        assert engine_worker.dequeue_timeout == DEQUEUE_TIMEOUT_S <= 15
        engine_worker.last_cleaned_at = now() - timedelta(seconds=MAINTENANCE_INTERVAL_S + 1)  # type: ignore[assignment]
        assert engine_worker.should_run_maintenance_tasks
        engine_worker.last_cleaned_at = now()  # type: ignore[assignment]
        assert not engine_worker.should_run_maintenance_tasks

    def test_work_marks_the_worker_alive_first(self) -> None:
        engine_worker = worker()
        with patch.object(liveness, "_worker_name", None), patch.object(liveness, "REFRESH_S", 3600):
            engine_worker.work(burst=True)
            assert liveness._worker_name == engine_worker.name
        assert engine_worker.connection.exists(liveness.ALIVE_PREFIX + engine_worker.name)

    def test_work_loads_the_jobs_services_before_the_first_job_and_before_freezing(self) -> None:
        calls: list[str] = []
        with (
            patch.object(liveness, "REFRESH_S", 3600),
            patch("engine.worker.jobs.preload", side_effect=lambda: calls.append("preload")),
            patch("engine.worker.tune_gc", side_effect=lambda: calls.append("tune_gc")),
        ):
            worker().work(burst=True)
        assert calls == ["preload", "tune_gc"]

    def test_preloading_imports_every_service_a_job_calls(self) -> None:
        code = (
            "import django, sys; django.setup(); from engine import jobs; "
            "names = [f'engine.services.{n}' for n in "
            "('delivery', 'dispatch', 'generation', 'news', 'planning', 'recovery', 'webhooks')]; "
            "print('engine.services.generation' in sys.modules, end=' '); jobs.preload(); "
            "print(all(name in sys.modules for name in names))"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert result.stdout.strip() == "False True"  # not loaded by importing the jobs; loaded by preload

    def test_work_freezes_what_is_loaded_and_collects_young_garbage_less_often(self) -> None:
        gc.unfreeze()
        with patch.object(liveness, "REFRESH_S", 3600):
            worker().work(burst=True)

        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD

    def test_each_job_runs_on_a_usable_database_connection(self) -> None:
        # A connection broken by a database restart would otherwise fail every later job of this worker.
        engine_worker = worker()
        calls: list[str] = []
        with (
            patch("engine.worker.close_old_connections", side_effect=lambda: calls.append("check")),
            patch("rq.worker.SimpleWorker.execute_job", side_effect=lambda job, queue: calls.append("job")),
        ):
            engine_worker.execute_job(None, None)  # type: ignore[arg-type]
        assert calls == ["check", "job", "check"]


class SchedulerLockTests(WorkerTestCase):
    """A dead scheduler's lock is released and taken over; a live one's is kept."""

    def test_a_scheduler_lock_not_refreshed_for_a_while_is_released(self) -> None:
        connection = django_rq.get_queue("default").connection
        key = SCHEDULER_LOCKING_KEY_TEMPLATE % "default"
        connection.set(key, "dead-scheduler", ex=61 - SCHEDULER_STALE_S - 1)  # last refreshed 16 s ago
        assert release_stale_scheduler_lock(connection, "default", full_ttl=61)
        assert connection.get(key) is None

    def test_a_live_schedulers_lock_is_kept(self) -> None:
        connection = django_rq.get_queue("default").connection
        key = SCHEDULER_LOCKING_KEY_TEMPLATE % "default"
        connection.set(key, "live-scheduler", ex=60)  # refreshed a second ago
        assert not release_stale_scheduler_lock(connection, "default", full_ttl=61)
        assert connection.get(key) == b"live-scheduler"
        connection.delete(key)
        assert not release_stale_scheduler_lock(connection, "default", full_ttl=61)  # no lock: nothing to do

    def test_maintenance_takes_over_a_dead_schedulers_lock(self) -> None:
        queue = django_rq.get_queue("default")
        key = SCHEDULER_LOCKING_KEY_TEMPLATE % "default"
        queue.connection.set(key, "dead-scheduler", ex=61 - SCHEDULER_STALE_S - 1)
        engine_worker = worker()
        engine_worker.scheduler = RQScheduler([queue], connection=queue.connection)
        engine_worker.last_cleaned_at = now()  # type: ignore[assignment]  # not the first maintenance
        with patch.object(RQScheduler, "start"):
            engine_worker.run_maintenance_tasks()
        assert queue.connection.get(key) == engine_worker.scheduler.name.encode()

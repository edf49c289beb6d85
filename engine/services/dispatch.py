"""Enqueueing the pipeline's jobs: always after the DB commit, delays scheduled (never slept in a worker)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import django_rq
from django.db import transaction
from rq import Queue

from engine.redis import redis_connection

HIGH, DEFAULT = "high", "default"
# A pipeline job's outcome lives on its Turn row, never in RQ: a finished job is deleted at once
# instead of storing its result, adding it to the finished registry and expiring it later.
RESULT_TTL = 0
# Turns of one tick per generate job: their LLM calls overlap on the worker's generation threads, so a few
# workers carry many chats instead of one process per in-flight LLM call (engine.services.generation).
GENERATE_BATCH = 8


def _queue(name: str) -> Queue:
    # "auto": this module already defers to on_commit itself, for scheduled jobs too.
    return django_rq.get_queue(name, commit_mode="auto", connection=redis_connection())


def _after_commit(action: Callable[[], Any]) -> None:
    transaction.on_commit(action)


def enqueue_generation(turn_ids: list[int], *, queue: str = DEFAULT) -> None:
    """Enqueue generate jobs for new turns, GENERATE_BATCH to a job, in one Redis round trip, after commit."""
    if not turn_ids:
        return
    batches = [turn_ids[start : start + GENERATE_BATCH] for start in range(0, len(turn_ids), GENERATE_BATCH)]

    def enqueue() -> None:
        target = _queue(queue)
        target.enqueue_many(
            [
                Queue.prepare_data("engine.jobs.generate_turns", args=(batch,), result_ttl=RESULT_TTL)
                for batch in batches
            ]
        )

    _after_commit(enqueue)


def schedule(func: str, *args: Any, at: datetime | None, queue: str = HIGH) -> None:
    """Run a job now (at=None) or at a time, after commit."""

    def enqueue() -> None:
        target = _queue(queue)
        if at is None:
            target.enqueue(func, *args, result_ttl=RESULT_TTL)
        else:
            target.enqueue_at(at, func, *args, result_ttl=RESULT_TTL)

    _after_commit(enqueue)

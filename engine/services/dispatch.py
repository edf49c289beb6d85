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


def _queue(name: str) -> Queue:
    # "auto": this module already defers to on_commit itself, for scheduled jobs too.
    return django_rq.get_queue(name, commit_mode="auto", connection=redis_connection())


def _after_commit(action: Callable[[], Any]) -> None:
    transaction.on_commit(action)


def enqueue_generation(turn_ids: list[int], *, queue: str = DEFAULT) -> None:
    """Enqueue generate jobs for new turns, in one Redis round trip, once the turns are committed."""
    if not turn_ids:
        return

    def enqueue() -> None:
        target = _queue(queue)
        target.enqueue_many(
            [
                Queue.prepare_data("engine.jobs.generate_turn", args=(turn_id,), result_ttl=RESULT_TTL)
                for turn_id in turn_ids
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

"""Enqueueing the pipeline's jobs: always after the DB commit, delays scheduled (never slept in a worker)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import django_rq
from django.db import transaction
from rq import Queue

from engine import jobs, liveness
from engine.liveness import CLAIM_PREFIX, CLAIM_TTL_S
from engine.queues import QueueName
from engine.redis import redis_connection

# A pipeline job's outcome lives on its Turn row, never in RQ: a finished job is deleted at once
# instead of storing its result, adding it to the finished registry and expiring it later.
RESULT_TTL = 0
# Turns of one tick per generate job: their LLM calls overlap on the process's network threads, so a few
# workers carry many chats (docs/decisions/006-generate-batches.md).
GENERATE_BATCH = 16
# Sends are batched too: a ready turn joins a sorted set of due sends, and one `send_due` job per second
# sends the turns due within it, up to SEND_BATCH (a job with more due starts another at once): RQ's own work
# per job is most of a send's cost (docs/decisions/008-send-slots.md). RQ schedules to the whole second (it
# drops the fraction), so a send job always ran up to a second before its turn was due; a slot's job keeps
# that timing: it starts at the slot's second and takes the turns due within it.
SENDS_KEY = "piyasa:sends"  # turn id → when it is due (epoch seconds)
SEND_BATCH = 16
SLOT_PREFIX = "piyasa:sends:slot:"  # present while a slot's job has not started: later turns of the slot join it
# Takes due sends and records the taking worker's claim on each in one step (engine.liveness): a worker that
# dies right after taking them cannot leave them unknown to the recovery sweep.
_TAKE_SENDS = """
redis.call('DEL', KEYS[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
if ARGV[3] ~= '' then
  for _, turn_id in ipairs(due) do redis.call('SET', ARGV[4] .. turn_id, ARGV[3], 'EX', tonumber(ARGV[5])) end
end
return {due, redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])}
"""


class JobQueue(Protocol):
    """What dispatch asks of a queue: RQ's, or a simulated run's (engine/replay/scheduler.py)."""

    def enqueue(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def enqueue_at(self, datetime: datetime, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def enqueue_many(self, job_datas: list[Any], pipeline: Any = None, group_id: Any = None) -> Any: ...


_simulated: Callable[[QueueName], JobQueue] | None = None


def queues_simulate(queues: Callable[[QueueName], JobQueue] | None) -> None:
    """Hand every job to `queues` instead of RQ (a simulated run runs them itself, in simulated time); None: RQ."""
    global _simulated
    _simulated = queues


def _queue(name: QueueName) -> JobQueue:
    if _simulated is not None:
        return _simulated(name)
    # "auto": this module already defers to on_commit itself, for scheduled jobs too.
    return django_rq.get_queue(name, commit_mode="auto", connection=redis_connection())


def _after_commit(action: Callable[[], Any]) -> None:
    transaction.on_commit(action)


def enqueue_generation(turn_ids: list[int]) -> None:
    """Enqueue generate jobs for new turns, GENERATE_BATCH to a job, in one Redis round trip, after commit."""
    if not turn_ids:
        return
    batches = [turn_ids[start : start + GENERATE_BATCH] for start in range(0, len(turn_ids), GENERATE_BATCH)]

    def enqueue() -> None:
        target = _queue(QueueName.DEFAULT)
        target.enqueue_many(
            [Queue.prepare_data(jobs.generate_turns, args=(batch,), result_ttl=RESULT_TTL) for batch in batches]
        )

    _after_commit(enqueue)


def enqueue(job: Callable[..., Any], *args: Any, queue: QueueName, at: datetime | None = None) -> None:
    """After commit, run a job of `engine.jobs` now (at=None) or at a time."""

    def put() -> None:
        target = _queue(queue)
        if at is None:
            target.enqueue(job, *args, result_ttl=RESULT_TTL)
        else:
            target.enqueue_at(at, job, *args, result_ttl=RESULT_TTL)

    _after_commit(put)


def schedule_send(turn_id: int, *, at: datetime | None) -> None:
    """After commit: add a ready turn to the sends due at `at` (now when None); its slot's job sends it.

    The first turn of a slot schedules the slot's `send_due` job; the others only join the set. A turn added
    once that job has taken its turns finds the slot's mark gone and schedules another job for it.
    """
    schedule_sends({turn_id: at})


def schedule_sends(due: dict[int, datetime | None]) -> None:
    """`schedule_send` for several turns (turn id → when), in one round trip to Redis."""

    def enqueue() -> None:
        now = time.time()
        times = {turn_id: at.timestamp() if at is not None else now for turn_id, at in due.items()}
        slots = sorted({math.floor(moment) for moment in times.values()})
        with redis_connection().pipeline(transaction=False) as pipe:
            pipe.zadd(SENDS_KEY, {str(turn_id): moment for turn_id, moment in times.items()})
            for slot in slots:
                pipe.set(f"{SLOT_PREFIX}{slot}", 1, nx=True, ex=max(0, math.ceil(slot + 1 - now)) + 3600)
            _, *first_of_slot = pipe.execute()
        for slot, first in zip(slots, first_of_slot, strict=True):
            if first:
                enqueue_send_due(slot)

    if due:
        _after_commit(enqueue)


def enqueue_send_due(slot: int) -> None:
    """Enqueue the job of a second's sends: at that second, or now if it has begun."""
    target = _queue(QueueName.HIGH)
    if slot <= time.time():
        target.enqueue(jobs.send_due, slot, result_ttl=RESULT_TTL)
    else:
        target.enqueue_at(datetime.fromtimestamp(slot, UTC), jobs.send_due, slot, result_ttl=RESULT_TTL)


def take_sends(slot: int) -> list[int]:
    """Take up to SEND_BATCH sends due by the slot's end or now (atomically: no two jobs get a turn).

    More due than that: another job is enqueued at once, for another worker.
    """
    until, claimant = max(time.time(), slot + 1), liveness.claimant() or ""
    taken, left = redis_connection().eval(
        _TAKE_SENDS, 2, SENDS_KEY, f"{SLOT_PREFIX}{slot}", until, SEND_BATCH, claimant, CLAIM_PREFIX, CLAIM_TTL_S
    )
    if left:
        enqueue_send_due(slot)
    return [int(turn_id) for turn_id in taken]

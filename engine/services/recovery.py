"""Recovery sweep: every turn reaches a terminal status, even when a worker dies or Redis loses its jobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from engine import jobs, liveness
from engine.models import Turn
from engine.queues import QueueName
from engine.services.dispatch import enqueue
from engine.services.turns import turn_transition

# A send claimed this long ago without a result: the worker died between the API call and the DB
# write. Telegram may have the message, so it is never resent. Longer than the `high` job timeout.
SENDING_TIMEOUT = timedelta(minutes=3)
GENERATING_TIMEOUT = timedelta(minutes=5)  # no side effect yet: generate again
LOST_JOB_GRACE = timedelta(minutes=2)  # planned/ready turns whose job should have run by now
EXPIRY = timedelta(minutes=30)  # a turn this old is no longer worth sending
LOST_SEND = "send result unknown (worker lost during the send); not resent"
DEAD_SEND = "send result unknown (its worker or job died during the send); not resent"
CLAIMED = frozenset({Turn.Status.GENERATING, Turn.Status.SENDING})
Job = Callable[[int], Any]  # a job of engine.jobs that takes one turn id


def recover_turns() -> dict[str, int]:
    """Mark stale sends unconfirmed, retry stale generations, re-enqueue lost jobs, expire old turns."""
    now = timezone.now()
    counts = {"unconfirmed": 0, "regenerate": 0, "requeued": 0, "expired": 0}
    stale = Turn.objects.filter(status=Turn.Status.SENDING, sending_at__lt=now - SENDING_TIMEOUT)
    for turn_id in stale.values_list("pk", flat=True):
        counts["unconfirmed"] += _end(turn_id, Turn.Status.SENDING, Turn.Status.UNCONFIRMED, LOST_SEND)
    dead = _turns_of_dead_workers(now)
    for turn_id in dead[Turn.Status.SENDING]:
        counts["unconfirmed"] += _end(turn_id, Turn.Status.SENDING, Turn.Status.UNCONFIRMED, DEAD_SEND)
    counts["regenerate"] += sum(_regenerate(turn_id, now) for turn_id in dead[Turn.Status.GENERATING])
    # Their job died with the worker before claiming the turn: run it again (a duplicate cannot claim twice).
    _reschedule(dead[Turn.Status.PLANNED], jobs.generate_turn, QueueName.DEFAULT, now)
    _reschedule(dead[Turn.Status.READY], jobs.send_turn, QueueName.HIGH, now)
    counts["requeued"] += len(dead[Turn.Status.PLANNED]) + len(dead[Turn.Status.READY])
    liveness.claims_forget([turn_id for turn_ids in dead.values() for turn_id in turn_ids])
    counts["expired"] += _expire(now)
    counts["regenerate"] += _requeue_generation(now)
    counts["requeued"] += _requeue_sends(now)
    return counts


def _end(turn_id: int, from_status: str, to_status: str, error: str) -> bool:
    """Move a turn to a terminal status, if it is still in from_status."""
    return turn_transition(turn_id=turn_id, from_status=from_status, to_status=to_status, error=error)


def _turns_of_dead_workers(now: datetime) -> dict[str, list[int]]:
    """Unfinished turns no live job works on (engine.liveness), by status.

    generating/sending: the worker died or its job crashed after the claim. planned/ready (only when due):
    the worker died after taking the job from the queue, before the claim.
    """
    in_flight = Turn.objects.exclude(status__in=Turn.TERMINAL).exclude(
        status__in=[Turn.Status.PLANNED, Turn.Status.READY], next_run_at__gt=now
    )
    rows = list(in_flight.values_list("pk", "status"))
    orphans = liveness.orphaned_claims([pk for pk, _ in rows])
    by_status: dict[str, list[int]] = {status: [] for status in Turn.TRANSITIONS}
    for pk, status in rows:
        if orphans.get(pk) == "dead" or (orphans.get(pk) == "done" and status in CLAIMED):
            by_status[status].append(pk)
    return by_status


def _regenerate(turn_id: int, now: datetime) -> bool:
    """Return a generating turn to planned and enqueue its generation (no side effect happened yet)."""
    if not turn_transition(
        turn_id=turn_id, from_status=Turn.Status.GENERATING, to_status=Turn.Status.PLANNED, next_run_at=now
    ):
        return False
    enqueue(jobs.generate_turn, turn_id, queue=QueueName.DEFAULT)
    return True


def _expire(now: datetime) -> int:
    expired = 0
    for status in (Turn.Status.PLANNED, Turn.Status.READY):
        old = Turn.objects.filter(status=status, created_at__lt=now - EXPIRY)
        for turn_id in old.values_list("pk", flat=True):
            expired += _end(turn_id, status, Turn.Status.SKIPPED, "expired before it could be delivered")
    return expired


def _requeue_generation(now: datetime) -> int:
    count = 0
    stale = Turn.objects.filter(status=Turn.Status.GENERATING, generating_at__lt=now - GENERATING_TIMEOUT)
    for turn_id in stale.values_list("pk", flat=True):
        count += _regenerate(turn_id, now)
    return count + _requeue(Turn.Status.PLANNED, jobs.generate_turn, QueueName.DEFAULT, now)


def _requeue_sends(now: datetime) -> int:
    return _requeue(Turn.Status.READY, jobs.send_turn, QueueName.HIGH, now)


def _requeue(status: str, job: Job, queue: QueueName, now: datetime) -> int:
    # A job that should have run a while ago was lost; a duplicate is harmless, since only one
    # job can claim the turn. Stale-generation turns reset above are picked up here too.
    lost = Turn.objects.filter(status=status, next_run_at__lt=now - LOST_JOB_GRACE)
    turn_ids = list(lost.values_list("pk", flat=True))
    _reschedule(turn_ids, job, queue, now, status=status)
    return len(turn_ids)


def _reschedule(turn_ids: list[int], job: Job, queue: QueueName, now: datetime, *, status: str | None = None) -> None:
    """Enqueue the turns' job again now; next_run_at moves to now, so the grace period starts over."""
    if not turn_ids:
        return
    rows = Turn.objects.filter(pk__in=turn_ids)
    (rows if status is None else rows.filter(status=status)).update(next_run_at=now)
    for turn_id in turn_ids:
        enqueue(job, turn_id, queue=queue)

"""Recovery sweep: every turn reaches a terminal status, even when a worker dies or Redis loses its jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from engine.models import Turn
from engine.services.dispatch import schedule
from engine.services.turns import turn_transition

# A send claimed this long ago without a result: the worker died between the API call and the DB
# write. Telegram may have the message, so it is never resent. Longer than the `high` job timeout.
SENDING_TIMEOUT = timedelta(minutes=3)
GENERATING_TIMEOUT = timedelta(minutes=5)  # no side effect yet: generate again
LOST_JOB_GRACE = timedelta(minutes=2)  # planned/ready turns whose job should have run by now
EXPIRY = timedelta(minutes=30)  # a turn this old is no longer worth sending


def recover_turns() -> dict[str, int]:
    """Mark stale sends unconfirmed, retry stale generations, re-enqueue lost jobs, expire old turns."""
    now = timezone.now()
    counts = {"unconfirmed": 0, "regenerate": 0, "requeued": 0, "expired": 0}
    stale = Turn.objects.filter(status=Turn.Status.SENDING, sending_at__lt=now - SENDING_TIMEOUT)
    lost = "send result unknown (worker lost during the send); not resent"
    for turn_id in stale.values_list("pk", flat=True):
        counts["unconfirmed"] += _end(turn_id, Turn.Status.SENDING, Turn.Status.UNCONFIRMED, lost)
    counts["expired"] += _expire(now)
    counts["regenerate"] += _requeue_generation(now)
    counts["requeued"] += _requeue_sends(now)
    return counts


def _end(turn_id: int, from_status: str, to_status: str, error: str) -> bool:
    """Move a turn to a terminal status, if it is still in from_status."""
    return turn_transition(turn_id=turn_id, from_status=from_status, to_status=to_status, error=error)


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
        if turn_transition(
            turn_id=turn_id, from_status=Turn.Status.GENERATING, to_status=Turn.Status.PLANNED, next_run_at=now
        ):
            schedule("engine.jobs.generate_turn", turn_id, at=None, queue="default")
            count += 1
    return count + _requeue(Turn.Status.PLANNED, "engine.jobs.generate_turn", "default", now)


def _requeue_sends(now: datetime) -> int:
    return _requeue(Turn.Status.READY, "engine.jobs.send_turn", "high", now)


def _requeue(status: str, job: str, queue: str, now: datetime) -> int:
    # A job that should have run a while ago was lost; a duplicate is harmless, since only one
    # job can claim the turn. Stale-generation turns reset above are picked up here too.
    lost = Turn.objects.filter(status=status, next_run_at__lt=now - LOST_JOB_GRACE)
    turn_ids = list(lost.values_list("pk", flat=True))
    Turn.objects.filter(pk__in=turn_ids, status=status).update(next_run_at=now)
    for turn_id in turn_ids:
        schedule(job, turn_id, at=None, queue=queue)
    return len(turn_ids)

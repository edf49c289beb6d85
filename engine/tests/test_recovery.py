from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import django_rq
from django.utils import timezone

from bots.services import bot_create
from chats.services import chat_create
from config.testing.cases import RedisTransactionTestCase
from engine import liveness
from engine.models import Turn
from engine.services.recovery import EXPIRY, GENERATING_TIMEOUT, LOST_JOB_GRACE, SENDING_TIMEOUT, recover_turns


def turn(status: str, **fields: object) -> Turn:
    chat, bot = chat_create(title="A"), bot_create(name="B")
    return Turn.objects.create(chat=chat, bot=bot, status=status, due_at=timezone.now(), **fields)


def queued(queue: str) -> list[tuple[str | None, tuple[object, ...]]]:
    return [(job.func_name, tuple(job.args)) for job in django_rq.get_queue(queue).jobs]


def claimed_by(worker: str, *turns: Turn) -> None:
    """Record the claims as that worker would (engine.liveness)."""
    with patch.object(liveness, "_worker_name", worker):
        for item in turns:
            liveness.claim_record(item.pk)


class TimeoutRecoveryTests(RedisTransactionTestCase):
    """Turns stuck past their timeout, lost jobs, and turns too old to deliver."""

    def test_a_send_that_never_finished_becomes_unconfirmed(self) -> None:
        stale = turn(Turn.Status.SENDING, sending_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
        fresh = turn(Turn.Status.SENDING, sending_at=timezone.now())
        assert recover_turns()["unconfirmed"] == 1
        stale.refresh_from_db()
        fresh.refresh_from_db()
        assert (stale.status, fresh.status) == (Turn.Status.UNCONFIRMED, Turn.Status.SENDING)
        assert "not resent" in stale.error
        assert not queued("high")

    def test_a_stale_generation_is_generated_again(self) -> None:
        stale = turn(Turn.Status.GENERATING, generating_at=timezone.now() - GENERATING_TIMEOUT - timedelta(seconds=1))
        assert recover_turns()["regenerate"] == 1
        stale.refresh_from_db()
        assert stale.status == Turn.Status.PLANNED
        assert queued("default") == [("engine.jobs.generate_turn", (stale.pk,))]

    def test_lost_jobs_are_requeued_but_scheduled_retries_are_left_alone(self) -> None:
        late = timezone.now() - LOST_JOB_GRACE - timedelta(seconds=1)
        lost_planned = turn(Turn.Status.PLANNED, next_run_at=late)
        lost_ready = turn(Turn.Status.READY, next_run_at=late, text="x")
        turn(Turn.Status.PLANNED, next_run_at=timezone.now() + timedelta(minutes=1))  # a retry waiting for its time
        counts = recover_turns()
        assert (counts["regenerate"], counts["requeued"]) == (1, 1)
        assert queued("default") == [("engine.jobs.generate_turn", (lost_planned.pk,))]
        assert queued("high") == [("engine.jobs.send_turn", (lost_ready.pk,))]
        # Re-enqueued turns wait another grace period before being re-enqueued again.
        assert recover_turns()["requeued"] == 0

    def test_turns_too_old_to_matter_expire(self) -> None:
        old = turn(Turn.Status.READY, text="x")
        Turn.objects.filter(pk=old.pk).update(created_at=timezone.now() - EXPIRY - timedelta(seconds=1))
        assert recover_turns()["expired"] == 1
        old.refresh_from_db()
        assert (old.status, old.error) == (Turn.Status.SKIPPED, "expired before it could be delivered")


class DeadWorkerRecoveryTests(RedisTransactionTestCase):
    """Turns claimed by a worker that died, or whose job ended without settling them (engine.liveness)."""

    def test_a_dead_workers_send_becomes_unconfirmed_without_waiting_for_the_timeout(self) -> None:
        sending = turn(Turn.Status.SENDING, sending_at=timezone.now())
        claimed_by("dead-worker", sending)  # its liveness mark was never set (or expired): the worker is gone
        assert recover_turns()["unconfirmed"] == 1
        sending.refresh_from_db()
        assert sending.status == Turn.Status.UNCONFIRMED
        assert "died during the send" in sending.error
        assert not queued("high")  # never resent

    def test_a_dead_workers_generation_is_generated_again_at_once(self) -> None:
        generating = turn(Turn.Status.GENERATING, generating_at=timezone.now())
        claimed_by("dead-worker", generating)
        assert recover_turns()["regenerate"] == 1
        generating.refresh_from_db()
        assert generating.status == Turn.Status.PLANNED
        assert queued("default") == [("engine.jobs.generate_turn", (generating.pk,))]

    def test_a_live_workers_claims_are_left_alone(self) -> None:
        sending = turn(Turn.Status.SENDING, sending_at=timezone.now())
        generating = turn(Turn.Status.GENERATING, generating_at=timezone.now())
        unclaimed = turn(Turn.Status.SENDING, sending_at=timezone.now())  # claimed outside a worker: timeouts only
        claimed_by("live-worker", sending, generating)
        liveness._refresh("live-worker")
        assert recover_turns() == {"unconfirmed": 0, "regenerate": 0, "requeued": 0, "expired": 0}
        mine = Turn.objects.filter(pk__in=[sending.pk, generating.pk, unclaimed.pk])
        assert sorted(mine.values_list("status", flat=True)) == ["generating", "sending", "sending"]

    def test_a_due_turn_whose_worker_died_before_claiming_it_is_requeued_at_once(self) -> None:
        # The job was taken from the queue, then the worker died: nothing would run it before LOST_JOB_GRACE.
        planned = turn(Turn.Status.PLANNED, next_run_at=timezone.now())
        ready = turn(Turn.Status.READY, next_run_at=timezone.now(), text="x")
        waiting = turn(Turn.Status.PLANNED, next_run_at=timezone.now() + timedelta(minutes=1))  # a scheduled retry
        claimed_by("dead-worker", planned, ready, waiting)
        assert recover_turns()["requeued"] == 2
        assert queued("default") == [("engine.jobs.generate_turn", (planned.pk,))]
        assert queued("high") == [("engine.jobs.send_turn", (ready.pk,))]
        # Judged once: the next sweep leaves them to their new jobs.
        assert recover_turns()["requeued"] == 0

    def test_a_claimed_turn_whose_job_crashed_is_recovered_although_the_worker_lives(self) -> None:
        # E.g. the database restarted during the job: the turn stays generating/sending, the worker goes on.
        generating = turn(Turn.Status.GENERATING, generating_at=timezone.now())
        sending = turn(Turn.Status.SENDING, sending_at=timezone.now())
        ready = turn(Turn.Status.READY, next_run_at=timezone.now(), text="x")  # its generate job ended normally
        liveness._refresh("live-worker")
        with patch.object(liveness, "_worker_name", "live-worker"):
            for item in (generating, sending, ready):
                with liveness.working_on(item.pk):
                    pass
        counts = recover_turns()
        assert (counts["regenerate"], counts["unconfirmed"], counts["requeued"]) == (1, 1, 0)
        assert queued("default") == [("engine.jobs.generate_turn", (generating.pk,))]
        assert not queued("high")

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from bots.services import bot_create
from chats.services import chat_create
from engine.models import Turn
from engine.services.recovery import EXPIRY, GENERATING_TIMEOUT, LOST_JOB_GRACE, SENDING_TIMEOUT, recover_turns

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("redis_conn")]


def turn(status: str, **fields: object) -> Turn:
    chat, bot = chat_create(title="A"), bot_create(name="B")
    return Turn.objects.create(chat=chat, bot=bot, status=status, due_at=timezone.now(), **fields)


def queued(queue: str) -> list[tuple[str | None, tuple[object, ...]]]:
    return [(job.func_name, tuple(job.args)) for job in django_rq.get_queue(queue).jobs]


def test_a_send_that_never_finished_becomes_unconfirmed() -> None:
    stale = turn(Turn.Status.SENDING, sending_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
    fresh = turn(Turn.Status.SENDING, sending_at=timezone.now())
    assert recover_turns()["unconfirmed"] == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (Turn.Status.UNCONFIRMED, Turn.Status.SENDING)
    assert "not resent" in stale.error
    assert not queued("high")


def test_a_stale_generation_is_generated_again() -> None:
    stale = turn(Turn.Status.GENERATING, generating_at=timezone.now() - GENERATING_TIMEOUT - timedelta(seconds=1))
    assert recover_turns()["regenerate"] == 1
    stale.refresh_from_db()
    assert stale.status == Turn.Status.PLANNED
    assert queued("default") == [("engine.jobs.generate_turn", (stale.pk,))]


def test_lost_jobs_are_requeued_but_scheduled_retries_are_left_alone() -> None:
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


def test_turns_too_old_to_matter_expire() -> None:
    old = turn(Turn.Status.READY, text="x")
    Turn.objects.filter(pk=old.pk).update(created_at=timezone.now() - EXPIRY - timedelta(seconds=1))
    assert recover_turns()["expired"] == 1
    old.refresh_from_db()
    assert (old.status, old.error) == (Turn.Status.SKIPPED, "expired before it could be delivered")

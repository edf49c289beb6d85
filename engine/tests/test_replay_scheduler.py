"""A simulated run's job queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.test import SimpleTestCase
from rq import Queue

from engine.queues import QueueName
from engine.replay.scheduler import Scheduler

ran: list[tuple[str, Any]] = []


def job_a(value: Any) -> None:
    ran.append(("a", value))


def job_b(value: Any) -> None:
    ran.append(("b", value))


class SchedulerTests(SimpleTestCase):
    def setUp(self) -> None:
        ran.clear()
        self.now = 100.0
        self.scheduler = Scheduler(lambda: self.now)

    def drain(self) -> None:
        while self.scheduler.next_at() is not None:
            self.scheduler.run_next()

    def test_jobs_run_by_time_then_by_name_and_arguments_not_enqueue_order(self) -> None:
        queue = self.scheduler.queue(QueueName.HIGH)
        queue.enqueue_at(datetime.fromtimestamp(150, UTC), job_a, 1)
        queue.enqueue(job_b, 2)
        queue.enqueue(job_a, 3)
        queue.enqueue_many([Queue.prepare_data(job_a, args=([5, 4],))])
        self.assertEqual(self.scheduler.next_at(), 100.0)
        self.drain()
        self.assertEqual(ran, [("a", 3), ("a", [5, 4]), ("b", 2), ("a", 1)])  # "(3,)" < "([5, 4],)"

    def test_the_same_jobs_enqueued_in_another_order_run_in_the_same_order(self) -> None:
        for job, value in ((job_b, 1), (job_a, 2), (job_a, 1)):
            self.scheduler.enqueue(job, value)
        self.drain()
        first = list(ran)
        ran.clear()
        for job, value in ((job_a, 1), (job_a, 2), (job_b, 1)):
            self.scheduler.enqueue(job, value)
        self.drain()
        self.assertEqual(ran, first)

"""A simulated run's job queue: jobs wait in simulated time and run one at a time, in an order fixed by their data."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.queues import QueueName

Job = Callable[..., Any]


@dataclass(frozen=True, order=True)
class Due:
    """One job at its time. Ties go by the job's name and arguments, never by who enqueued first: a batch's
    calls return in network order, and the jobs they enqueue must still run in one order."""

    at: float
    name: str
    key: str  # the arguments' repr: comparable whatever their types
    job: Job = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)


class Scheduler:
    """Every job the engine enqueues (engine.services.dispatch.queues_simulate), in simulated time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.due: list[Due] = []

    def queue(self, name: QueueName) -> Scheduler:
        """The one queue for every name: a simulated run has one worker."""
        return self

    def enqueue(self, f: Job, *args: Any, **kwargs: Any) -> None:
        """Run `f(*args)` now (after what is already due)."""
        self._put(self.clock(), f, args)

    def enqueue_at(self, datetime: datetime, f: Job, *args: Any, **kwargs: Any) -> None:
        """Run `f(*args)` at `datetime`."""
        self._put(datetime.timestamp(), f, args)

    def enqueue_many(self, job_datas: list[Any], pipeline: Any = None, group_id: Any = None) -> None:
        """Run each of RQ's prepared jobs (`Queue.prepare_data`) now."""
        for data in job_datas:
            self._put(self.clock(), data.func, tuple(data.args or ()))

    def next_at(self) -> float | None:
        """When the next job is due (None: nothing is queued)."""
        return self.due[0].at if self.due else None

    def run_next(self) -> None:
        """Run the earliest job (an exception is the run's: a simulated run stops at the first crash)."""
        due = heapq.heappop(self.due)
        due.job(*due.args)

    def _put(self, at: float, job: Job, args: tuple[Any, ...]) -> None:
        name = f"{job.__module__}.{job.__qualname__}"
        heapq.heappush(self.due, Due(at, name, repr(args), job, args))

"""The process's clock, simulated for a replayable run: `timezone.now()` and `time.time()` read the simulated time.

Both are replaced, not wrapped at every call site: Django's `auto_now` fields read `timezone.now` themselves, and
the engine's limits and send slots read `time.time` (docs/decisions/032-deterministic-replay.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.utils import timezone


class SimulatedClock:
    """A clock that stands still until it is moved forward (never back)."""

    def __init__(self, start: datetime) -> None:
        self.seconds = start.timestamp()

    def now(self) -> datetime:
        """The simulated time as an aware datetime (UTC)."""
        return datetime.fromtimestamp(self.seconds, UTC)

    def time(self) -> float:
        """The simulated time in epoch seconds."""
        return self.seconds

    def advance_to(self, seconds: float) -> None:
        """Move to `seconds` (epoch) when it is later; an earlier moment leaves the clock where it is."""
        self.seconds = max(self.seconds, seconds)


@contextmanager
def simulated(start: datetime) -> Iterator[SimulatedClock]:
    """Inside, the whole process reads the simulated clock; the real one is back on the way out."""
    clock = SimulatedClock(start)
    real_now, real_time = timezone.now, time.time
    timezone.now, time.time = clock.now, clock.time
    try:
        yield clock
    finally:
        timezone.now, time.time = real_now, real_time

"""The simulated clock of a replayable run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.test import SimpleTestCase
from django.utils import timezone

from engine import clock

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class SimulatedClockTests(SimpleTestCase):
    def test_the_process_reads_the_simulated_time_inside_and_the_real_one_after(self) -> None:
        with clock.simulated(START) as sim:
            self.assertEqual((timezone.now(), time.time()), (START, START.timestamp()))
            sim.advance_to(START.timestamp() + 90)
            self.assertEqual(timezone.now(), datetime(2026, 1, 5, 7, 1, 30, tzinfo=UTC))
        self.assertGreater(timezone.now().year, 2025)
        self.assertGreater(abs(time.time() - START.timestamp()), 60)

    def test_it_never_goes_back(self) -> None:
        with clock.simulated(START) as sim:
            sim.advance_to(START.timestamp() - 10)
            self.assertEqual(sim.now(), START)

from __future__ import annotations

from datetime import UTC, datetime, time

from django.test import SimpleTestCase

from engine.services.activity import activity_level, in_range, is_active

PRIME = ["09:30-12:00", "14:00-18:00"]


class ActivityTests(SimpleTestCase):
    def test_ranges_may_wrap_midnight(self) -> None:
        self.assertTrue(in_range(time(23, 30), time(22, 0), time(2, 0)))
        self.assertTrue(in_range(time(1, 59), time(22, 0), time(2, 0)))
        self.assertFalse(in_range(time(2, 0), time(22, 0), time(2, 0)))

    def test_active_hours_are_evaluated_in_istanbul_time(self) -> None:
        # 07:30 UTC is 10:30 in Istanbul (UTC+3, no DST since 2016).
        morning_utc = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
        self.assertTrue(is_active(morning_utc, "Europe/Istanbul", ["10:00-11:00"]))
        self.assertFalse(is_active(morning_utc, "UTC", ["10:00-11:00"]))
        self.assertTrue(is_active(morning_utc, "Europe/Istanbul", []))

    def test_prime_hours_boost_and_night_damping(self) -> None:
        def level(hour: int) -> float:
            moment = datetime(2026, 11, 24, hour, 0, tzinfo=UTC)
            return activity_level(moment, "Europe/Istanbul", prime_hours=PRIME, prime_boost=True)

        self.assertEqual(level(8), 1.5)  # 11:00 Istanbul
        self.assertEqual(level(10), 1.0)  # 13:00
        self.assertEqual(level(23), 0.3)  # 02:00
        moment = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
        self.assertEqual(activity_level(moment, "Europe/Istanbul", prime_hours=PRIME, prime_boost=False), 1.0)

from __future__ import annotations

from datetime import UTC, datetime, time

from django.test import SimpleTestCase

from engine.services.activity import activity_level, in_range, is_active, quiet_hours

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


class QuietHoursTests(SimpleTestCase):
    # The demo crowd's active hours: one bot (no ranges) is always awake.
    CROWD = [["08:00-23:00"], [], ["08:30-19:00", "21:00-23:30"], ["07:30-09:00", "18:00-01:30"], ["09:00-19:00"]]

    def test_at_night_the_note_says_how_many_bots_are_awake_and_why(self) -> None:
        four_am = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 04:00 in Istanbul
        note = quiet_hours(four_am, "Europe/Istanbul", self.CROWD)
        assert note is not None
        assert str(note) == "1 of 5 bots active now: night in Europe/Istanbul"

    def test_in_the_day_the_note_names_the_local_time(self) -> None:
        lunch = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 13:00 in Istanbul: the newbie is out
        assert str(quiet_hours(lunch, "Europe/Istanbul", self.CROWD)) == (
            "4 of 5 bots active now: outside their active hours at 13:00 in Europe/Istanbul"
        )

    def test_no_note_when_every_bot_may_speak(self) -> None:
        morning = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 09:00 in Istanbul
        assert quiet_hours(morning, "Europe/Istanbul", [["08:00-23:00"], []]) is None
        assert quiet_hours(morning, "Europe/Istanbul", []) is None

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import SimpleTestCase

from engine.services.stance_drift import (
    FLIP_COOLDOWN,
    MEMBER_MAX_STRENGTH,
    RISK_BANDS,
    Push,
    StanceState,
    argument_strength,
    certainty,
    drift,
    risk_band,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MEDIUM = RISK_BANDS["medium"]
LOW = RISK_BANDS["low"]


class DriftTests(SimpleTestCase):
    def test_an_argument_for_the_view_raises_confidence_by_at_most_a_step(self) -> None:
        result = drift(StanceState("bullish", 0.6), Push("bullish", 1.0), MEDIUM, now=NOW)
        assert result is not None
        self.assertEqual(result.polarity, "bullish")
        self.assertAlmostEqual(result.confidence, 0.6 + MEDIUM.step)

    def test_an_argument_against_the_view_lowers_it_by_its_strength(self) -> None:
        result = drift(StanceState("bullish", 0.6), Push("bearish", 0.5), MEDIUM, now=NOW)
        assert result is not None
        self.assertAlmostEqual(result.confidence, 0.6 - MEDIUM.step / 2)
        self.assertAlmostEqual(result.moved, MEDIUM.step / 2)

    def test_confidence_never_passes_the_risk_profiles_ceiling(self) -> None:
        result = drift(StanceState("bearish", LOW.ceiling - 0.01), Push("bearish", 1.0), LOW, now=NOW)
        assert result is not None
        self.assertEqual(result.confidence, LOW.ceiling)
        self.assertIsNone(drift(StanceState("bearish", LOW.ceiling), Push("bearish", 1.0), LOW, now=NOW))

    def test_a_value_an_operator_set_above_the_ceiling_is_never_lowered_by_agreement(self) -> None:
        self.assertIsNone(drift(StanceState("bullish", 0.95), Push("bullish", 1.0), LOW, now=NOW))

    def test_a_conservative_persona_moves_less_than_a_risky_one(self) -> None:
        low = drift(StanceState("bullish", 0.6), Push("bearish", 1.0), risk_band("low"), now=NOW)
        high = drift(StanceState("bullish", 0.6), Push("bearish", 1.0), risk_band("high"), now=NOW)
        assert low is not None
        assert high is not None
        self.assertLess(low.moved, high.moved)

    def test_an_unknown_risk_profile_gets_the_medium_band(self) -> None:
        self.assertEqual(risk_band("reckless"), MEDIUM)

    def test_the_daily_cap_bounds_what_is_left_of_the_day(self) -> None:
        state = StanceState("bullish", 0.6, moved_today=MEDIUM.daily_cap - 0.01)
        result = drift(state, Push("bearish", 1.0), MEDIUM, now=NOW)
        assert result is not None
        self.assertAlmostEqual(result.moved, 0.01)
        spent = StanceState("bullish", 0.6, moved_today=MEDIUM.daily_cap)
        self.assertIsNone(drift(spent, Push("bearish", 1.0), MEDIUM, now=NOW))

    def test_a_neutral_push_changes_nothing(self) -> None:
        self.assertIsNone(drift(StanceState("bullish", 0.6), Push("neutral", 1.0), MEDIUM, now=NOW))

    def test_a_neutral_stance_is_weakened_by_either_side(self) -> None:
        for side in ("bullish", "bearish"):
            result = drift(StanceState("neutral", 0.6), Push(side, 1.0), MEDIUM, now=NOW)
            assert result is not None
            self.assertEqual(result.polarity, "neutral")
            self.assertAlmostEqual(result.confidence, 0.6 - MEDIUM.step)


class FlipTests(SimpleTestCase):
    def test_it_flips_below_the_floor_once_the_cooldown_has_passed(self) -> None:
        state = StanceState("bullish", MEDIUM.floor + 0.01, cooldown_until=NOW - timedelta(minutes=1))
        result = drift(state, Push("bearish", 1.0), MEDIUM, now=NOW)
        assert result is not None
        self.assertEqual(result.polarity, "bearish")
        self.assertEqual(result.cooldown_until, NOW + FLIP_COOLDOWN)
        self.assertTrue(MEDIUM.floor < result.confidence < MEDIUM.ceiling)

    def test_a_stance_never_cooled_down_may_flip(self) -> None:
        result = drift(StanceState("bearish", MEDIUM.floor), Push("bullish", 1.0), MEDIUM, now=NOW)
        assert result is not None
        self.assertEqual(result.polarity, "bullish")

    def test_before_its_cooldown_it_stays_at_the_floor(self) -> None:
        state = StanceState("bullish", MEDIUM.floor + 0.01, cooldown_until=NOW + timedelta(minutes=1))
        result = drift(state, Push("bearish", 1.0), MEDIUM, now=NOW)
        assert result is not None
        self.assertEqual((result.polarity, result.confidence), ("bullish", MEDIUM.floor))
        at_floor = StanceState("bullish", MEDIUM.floor, cooldown_until=NOW + timedelta(minutes=1))
        self.assertIsNone(drift(at_floor, Push("bearish", 1.0), MEDIUM, now=NOW))

    def test_a_neutral_stance_flips_to_the_side_that_pushed_it(self) -> None:
        result = drift(StanceState("neutral", MEDIUM.floor), Push("bearish", 1.0), MEDIUM, now=NOW)
        assert result is not None
        self.assertEqual(result.polarity, "bearish")

    def test_the_flip_counts_toward_the_daily_cap(self) -> None:
        state = StanceState("bullish", MEDIUM.floor, moved_today=MEDIUM.daily_cap)
        self.assertIsNone(drift(state, Push("bearish", 1.0), MEDIUM, now=NOW))


class StrengthTests(SimpleTestCase):
    def test_certainty_words_persuade_more_than_hedges(self) -> None:
        self.assertGreater(certainty("THYAO kesin yükselecek"), certainty("THYAO yükselir"))
        self.assertGreater(certainty("THYAO yükselir"), certainty("belki THYAO yükselir"))
        self.assertEqual(certainty("maybe BTC will rally"), certainty("belki yükselir"))

    def test_a_surer_speaker_persuades_more(self) -> None:
        weak = argument_strength(text="yükselecek", speaker_confidence=0.3, member=False, seed="s")
        strong = argument_strength(text="yükselecek", speaker_confidence=0.9, member=False, seed="s")
        self.assertGreater(strong, weak)

    def test_the_same_seed_gives_the_same_strength(self) -> None:
        first = argument_strength(text="yükselecek", speaker_confidence=0.8, member=False, seed="1:2:3")
        again = argument_strength(text="yükselecek", speaker_confidence=0.8, member=False, seed="1:2:3")
        other = argument_strength(text="yükselecek", speaker_confidence=0.8, member=False, seed="1:2:4")
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)

    def test_a_member_never_pushes_harder_than_the_member_cap(self) -> None:
        for seed in map(str, range(50)):
            strength = argument_strength(text="KESİN uçacak, garanti!", speaker_confidence=1.0, member=True, seed=seed)
            self.assertLessEqual(strength, MEMBER_MAX_STRENGTH)

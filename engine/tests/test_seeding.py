"""The engine's one seedable source of randomness."""

from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from engine import seeding


def draws(*about: object, unseeded: int | None = None) -> list[float]:
    rng = seeding.rng(*about, unseeded=unseeded)
    return [rng.random() for _ in range(3)]


class SeedingTests(SimpleTestCase):
    def tearDown(self) -> None:
        seeding.use(None)

    def test_a_seeded_decision_repeats_and_differs_by_what_it_is_about(self) -> None:
        seeding.use(5)
        self.assertEqual(draws("turn", 1), draws("turn", 1))
        self.assertNotEqual(draws("turn", 1), draws("turn", 2))
        first = draws("turn", 1)
        seeding.use(6)
        self.assertNotEqual(draws("turn", 1), first)

    def test_unseeded_it_falls_back_to_the_callers_seed_or_fresh_entropy(self) -> None:
        self.assertIsNone(seeding.seed())
        self.assertEqual(draws("turn", 1, unseeded=1), draws("x", unseeded=1))  # Random(1), as before
        self.assertNotEqual(draws("tick"), draws("tick"))

    @override_settings(ENGINE_SEED=9)
    def test_the_setting_seeds_a_process(self) -> None:
        self.assertEqual(seeding.seed(), 9)
        self.assertEqual(draws("tick", 1.0), draws("tick", 1.0))
        seeding.use(4)
        self.assertEqual(seeding.seed(), 4)

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase

from bots.schemas import ActiveHours, Emotion, Persona, Speed, defaults, validate_with


class SchemaTestCase(SimpleTestCase):
    def assert_error(self, schema: object, field: str, value: object, expected: str) -> None:
        with self.assertRaises(ValidationError) as caught:
            validate_with(schema, field, value)
        self.assertTrue(any(expected in message for message in caught.exception.messages), caught.exception.messages)


class PersonaSchemaTests(SchemaTestCase):
    def test_it_accepts_the_defaults(self) -> None:
        self.assertEqual(validate_with(Persona, "persona", defaults(Persona)).tone, "professional")

    def test_it_rejects_a_tone_outside_the_closed_set(self) -> None:
        self.assert_error(Persona, "persona", {"tone": "angry pirate"}, "persona.tone:")

    def test_it_rejects_a_wrong_risk_profile(self) -> None:
        self.assert_error(Persona, "persona", {"risk_profile": "extreme"}, "persona.risk_profile:")

    def test_it_names_the_bad_watchlist_entry(self) -> None:
        self.assert_error(Persona, "persona", {"watchlist": ["BIST:AKBNK", "not a symbol"]}, "persona.watchlist.1:")

    def test_it_normalises_watchlist_symbols(self) -> None:
        persona = validate_with(Persona, "persona", {"watchlist": [" bist:akbnk", "btcusdt"]})
        self.assertEqual(persona.watchlist, ["BIST:AKBNK", "BTCUSDT"])

    def test_it_rejects_a_nested_style_error(self) -> None:
        self.assert_error(Persona, "persona", {"style": {"length": "huge"}}, "persona.style.length:")

    def test_it_rejects_unknown_keys(self) -> None:
        self.assert_error(Persona, "persona", {"tonee": "veteran"}, "persona.tonee:")

    def test_it_rejects_a_non_object(self) -> None:
        self.assert_error(Persona, "persona", ["veteran"], "persona:")


class EmotionSchemaTests(SchemaTestCase):
    def test_it_requires_empathy_to_be_a_number_in_range(self) -> None:
        self.assert_error(Emotion, "emotion", {"empathy": 1.5}, "emotion.empathy:")
        self.assert_error(Emotion, "emotion", {"empathy": "high"}, "emotion.empathy:")

    def test_it_rejects_a_wrong_energy(self) -> None:
        self.assert_error(Emotion, "emotion", {"energy": "hyper"}, "emotion.energy:")

    def test_it_accepts_a_single_emoji_including_modifiers(self) -> None:
        for emoji in ("📈", "👍🏽", "❤️"):
            self.assertEqual(validate_with(Emotion, "emotion", {"signature_emoji": emoji}).signature_emoji, emoji)

    def test_it_rejects_text_as_emoji(self) -> None:
        self.assert_error(Emotion, "emotion", {"signature_emoji": "ok"}, "emotion.signature_emoji: must be a single")

    def test_it_rejects_a_non_list_of_phrases(self) -> None:
        self.assert_error(Emotion, "emotion", {"signature_phrases": "hadi bakalım"}, "emotion.signature_phrases:")


class SpeedSchemaTests(SchemaTestCase):
    def test_it_rejects_an_inverted_delay_range(self) -> None:
        self.assert_error(Speed, "speed", {"min_delay_s": 30, "max_delay_s": 5}, "min_delay_s/max_delay_s")

    def test_it_rejects_superhuman_typing(self) -> None:
        self.assert_error(Speed, "speed", {"typing_cps": [3, 500]}, "speed.typing_cps.1:")

    def test_it_rejects_negative_delays(self) -> None:
        self.assert_error(Speed, "speed", {"base_delay_s": -1}, "speed.base_delay_s:")


class ActiveHoursSchemaTests(SchemaTestCase):
    def test_it_accepts_ranges_that_wrap_midnight(self) -> None:
        self.assertEqual(validate_with(ActiveHours, "active_hours", ["22:00-02:00"]), ["22:00-02:00"])

    def test_it_rejects_impossible_times(self) -> None:
        self.assert_error(ActiveHours, "active_hours", ["09:00-18:00", "24:00-25:00"], "active_hours.1:")

    def test_it_rejects_a_string_instead_of_a_list(self) -> None:
        self.assert_error(ActiveHours, "active_hours", "09:00-18:00", "active_hours:")

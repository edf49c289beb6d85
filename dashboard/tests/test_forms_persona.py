"""Persona forms: the fields round-trip the schemas' JSON, and each wrong value is an error at its own field."""

from __future__ import annotations

from typing import Any

from django.test import SimpleTestCase, TestCase

from bots.demo import DEMO_BOTS
from bots.models import Bot
from bots.schemas import ActiveHours, Emotion, Persona, Speed, adapter
from bots.symbols import asset_class, suggested_symbols
from dashboard.forms_bots import BotForm
from dashboard.forms_persona import parts_of, schema_error_field
from dashboard.tests.edit_helpers import persona_fields_data

DOCUMENTS = ("persona", "emotion", "speed", "active_hours")


def bound(documents: dict[str, Any] | None = None, **changes: Any) -> BotForm:
    """A new-bot form as the fields view submits it, from documents (default ones), with some inputs changed."""
    source = Bot(name="Ayşe")
    values = {name: getattr(source, name) for name in DOCUMENTS} | (documents or {})
    data = {"name": "Ayşe", "talkativeness": "0.5", "llm_model": ""} | persona_fields_data(values) | changes
    return BotForm(data)


class PersonaFieldsRoundTripTests(TestCase):
    def test_each_demo_persona_comes_back_as_the_schemas_json(self) -> None:
        for demo in DEMO_BOTS:
            documents = {
                "persona": demo.persona.model_dump(mode="json"),
                "emotion": demo.emotion.model_dump(mode="json"),
                "speed": demo.speed.model_dump(mode="json"),
                "active_hours": list(demo.active_hours),
            }
            form = bound(documents)
            self.assertTrue(form.is_valid(), (demo.username, form.errors))
            self.assertEqual(form.persona_documents(), documents, demo.username)

    def test_edited_fields_build_the_documents(self) -> None:
        form = bound(
            persona_tone="veteran",
            persona_risk_profile="low",
            persona_watchlist=["thyao", "", "btcusdt"],
            persona_never_do=["Kesin kazanç vaat etmek", "  "],
            persona_language="",
            emotion_signature_emoji="",
            emotion_anecdotes=["2001 krizinde her şeyi kaybettim."],
            speed_typing_cps_0="2",
            speed_typing_cps_1="6",
            active_hours_ranges_from=["22:00", ""],
            active_hours_ranges_to=["02:00", ""],
        )
        self.assertTrue(form.is_valid(), form.errors)
        documents = form.persona_documents()
        self.assertEqual(
            {key: documents["persona"][key] for key in ("tone", "risk_profile", "watchlist", "never_do", "language")},
            {"tone": "veteran", "risk_profile": "low", "watchlist": ["THYAO", "BTCUSDT"],
             "never_do": ["Kesin kazanç vaat etmek"], "language": None},
        )  # fmt: skip
        self.assertEqual(documents["emotion"]["signature_emoji"], None)
        self.assertEqual(documents["emotion"]["anecdotes"], ["2001 krizinde her şeyi kaybettim."])
        self.assertEqual(documents["speed"]["typing_cps"], [2.0, 6.0])
        self.assertEqual(documents["active_hours"], ["22:00-02:00"])  # overnight, as the schema allows

    def test_an_unticked_checkbox_and_no_rows_are_false_and_empty(self) -> None:
        data = dict(bound().data)
        data.pop("persona_style_emojis")
        form = BotForm(data | {"active_hours_ranges_from": [], "active_hours_ranges_to": []})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertIs(form.persona_documents()["persona"]["style"]["emojis"], False)
        self.assertEqual(form.persona_documents()["active_hours"], [])


class PersonaFieldErrorTests(TestCase):
    def errors(self, **changes: Any) -> dict[str, list[str]]:
        form = bound(**changes)
        self.assertFalse(form.is_valid())
        return {name: [str(message) for message in messages] for name, messages in form.errors.items()}

    def test_an_unknown_or_malformed_symbol_is_named_at_the_watchlist(self) -> None:
        errors = self.errors(persona_watchlist=["BIST:THYAO", "AAPLX", "no such!"])
        self.assertEqual(list(errors), ["persona_watchlist"])
        self.assertIn("'AAPLX' is not a symbol we know", errors["persona_watchlist"][0])
        self.assertIn("'no such!' is not a symbol like BIST:AKBNK", errors["persona_watchlist"][1])

    def test_a_range_whose_minimum_is_above_its_maximum_is_an_error_at_the_range(self) -> None:
        errors = self.errors(speed_delay_s_0="50", speed_delay_s_1="5")
        self.assertEqual(errors, {"speed_delay_s": ["the lower bound 50 is above the upper bound 5"]})

    def test_schema_errors_are_shown_at_the_field_holding_the_value(self) -> None:
        cases: dict[str, tuple[dict[str, Any], str]] = {
            "speed_typing_cps": ({"speed_typing_cps_0": "0.1"}, "Input should be greater than or equal to 0.5"),
            "emotion_empathy": ({"emotion_empathy": "2"}, "Input should be less than or equal to 1"),
            "emotion_signature_emoji": ({"emotion_signature_emoji": "ab"}, "must be a single emoji"),
            "persona_never_do": ({"persona_never_do": ["ok", "x" * 301]}, "row 2: String should have at most 300"),
            "persona_tone": ({"persona_tone": "pirate"}, "Select a valid choice."),
            "speed_base_delay_s": ({"speed_base_delay_s": "-1"}, "Input should be greater than or equal to 0"),
        }
        for field, (changes, message) in cases.items():
            errors = self.errors(**changes)
            self.assertEqual(list(errors), [field], changes)
            self.assertIn(message, errors[field][0], field)

    def test_a_range_with_one_end_is_an_error_naming_its_row(self) -> None:
        errors = self.errors(active_hours_ranges_from=["09:00", "13:00"], active_hours_ranges_to=["12:00", ""])
        self.assertEqual(errors, {"active_hours_ranges": ["row 2: give both the start and the end"]})

    def test_nothing_is_built_while_a_field_is_wrong(self) -> None:
        form = bound(speed_delay_s_0="50", speed_delay_s_1="5")
        self.assertFalse(form.is_valid())
        self.assertNotIn("speed", form.persona_documents())


class SchemaErrorFieldTests(SimpleTestCase):
    def test_a_whole_model_check_goes_to_the_field_of_the_keys_it_names(self) -> None:
        parts = parts_of(("speed",))
        message = "min_typing_s/max_typing_s: lower bound 9.0 is above upper bound 2.0"
        self.assertEqual(
            schema_error_field(parts, (), message), ("speed_typing_s", "lower bound 9.0 is above upper bound 2.0")
        )
        self.assertEqual(schema_error_field(parts, ("max_delay_s",), "too big"), ("speed_delay_s", "too big"))
        self.assertEqual(schema_error_field(parts, ("pace",), "unknown"), ("", "unknown"))

    def test_the_schemas_and_the_fields_cover_the_same_keys(self) -> None:
        for name, schema in (("persona", Persona), ("emotion", Emotion), ("speed", Speed)):
            keys = {key.split(".")[0] for part in parts_of((name,)) for key in part.keys}
            self.assertEqual(keys, set(schema.model_fields), name)
        self.assertEqual(adapter(ActiveHours).validate_python([]), [])


class JSONViewTests(TestCase):
    def test_the_json_view_has_the_textareas_and_no_fields_and_the_fields_view_the_reverse(self) -> None:
        self.assertEqual([f.name for f in BotForm(json_view=True).json_fields], list(DOCUMENTS))
        self.assertNotIn("persona_tone", BotForm(json_view=True).fields)
        self.assertEqual(BotForm().json_fields, [])
        self.assertIn("persona_tone", BotForm().fields)

    def test_a_submitted_json_view_is_validated_as_json(self) -> None:
        data = {"name": "Ayşe", "talkativeness": "0.5", "edit_as": "json", "persona": '{"tone": "newbie"}'}
        form = BotForm(data | {"emotion": '{"tone": "calm"}', "speed": '{"base_delay_s": 5}', "active_hours": "[]"})
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.persona_documents()["persona"]["tone"], "newbie")


class SuggestedSymbolTests(SimpleTestCase):
    def test_every_suggestion_is_a_symbol_the_watchlist_accepts(self) -> None:
        symbols = suggested_symbols()
        self.assertEqual([s for s in symbols if asset_class(s) is None], [])
        self.assertEqual(len(symbols), len(set(symbols)))
        self.assertIn("BIST:THYAO", symbols)

"""The turn-kind table: every kind has a row, and every row names things that exist."""

from django.test import SimpleTestCase

from engine.kinds import KINDS, Target, TurnKind, kind_spec
from engine.models import Turn
from engine.queues import QueueName
from engine.services import delivery
from monitoring import metrics


class TurnKindTableTests(SimpleTestCase):
    def test_every_turn_kind_has_exactly_one_spec(self):
        self.assertEqual(set(KINDS), set(TurnKind.values))
        for kind in TurnKind:
            with self.subTest(kind=kind):
                self.assertIs(kind_spec(kind).kind, kind)

    def test_the_turn_model_stores_the_table_s_kinds(self):
        self.assertEqual(Turn.Kind, TurnKind)
        self.assertEqual(list(Turn._meta.get_field("kind").choices or ()), TurnKind.choices)

    def test_each_kind_is_delivered_by_a_bot_api_method_delivery_and_metrics_know(self):
        for spec in KINDS.values():
            with self.subTest(kind=spec.kind):
                self.assertIn(spec.bot_api_method, delivery.API_METHODS)
                self.assertIn(spec.bot_api_method, metrics.TELEGRAM_METHODS)

    def test_each_kind_runs_on_a_known_queue(self):
        for spec in KINDS.values():
            with self.subTest(kind=spec.kind):
                self.assertIn(spec.queue, QueueName)

    def test_metrics_label_turns_by_the_table_s_kinds(self):
        self.assertEqual(set(metrics.TURN_KINDS), set(KINDS))

    def test_only_kinds_that_write_text_show_typing_or_send_messages(self):
        for spec in KINDS.values():
            with self.subTest(kind=spec.kind):
                if not spec.writes_text:
                    self.assertFalse(spec.shows_typing)
                    self.assertNotEqual(spec.bot_api_method, "sendMessage")
                else:
                    self.assertEqual(spec.bot_api_method, "sendMessage")

    def test_only_a_new_message_has_no_target(self):
        for spec in KINDS.values():
            with self.subTest(kind=spec.kind):
                self.assertEqual(spec.target is Target.NONE, spec.kind == TurnKind.PROACTIVE)

    def test_an_unknown_kind_is_a_key_error(self):
        with self.assertRaises(KeyError):
            kind_spec("monologue")

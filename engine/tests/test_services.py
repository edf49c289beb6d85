from __future__ import annotations

from django.core.exceptions import ValidationError
from django.test import TestCase
from django.utils import timezone

from bots.services import bot_create
from chats.services import chat_create
from engine.models import Setting, Turn
from engine.selectors import setting_get, settings_all
from engine.services import setting_reset, setting_set, settings_update, turn_transition


class SettingServiceTests(TestCase):
    def test_it_returns_defaults_until_a_value_is_stored(self) -> None:
        self.assertIs(setting_get("simulation_active"), False)
        setting_set(key="simulation_active", value=True)
        self.assertIs(setting_get("simulation_active"), True)
        setting_reset(key="simulation_active")
        self.assertIs(setting_get("simulation_active"), False)

    def test_it_reads_all_settings_in_one_query(self) -> None:
        setting_set(key="batch_size", value=9)
        with self.assertNumQueries(1):
            values = settings_all()
        self.assertEqual((values["batch_size"], values["max_msgs_per_min"]), (9, 6))

    def test_it_stores_nothing_when_one_value_of_a_batch_is_invalid(self) -> None:
        with self.assertRaises(ValidationError):
            settings_update(values={"batch_size": 3, "max_msgs_per_min": "lots"})
        self.assertFalse(Setting.objects.exists())

    def test_it_rejects_unknown_keys(self) -> None:
        with self.assertRaises(ValidationError):
            setting_set(key="turbo", value=True)
        with self.assertRaises(ValidationError):
            setting_reset(key="turbo")

    def test_model_validation_names_the_key(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            Setting(key="max_msgs_per_min", value="six").full_clean()
        self.assertIn("max_msgs_per_min:", caught.exception.message_dict["value"][0])


class TurnTransitionTests(TestCase):
    def setUp(self) -> None:
        self.turn = Turn.objects.create(chat=chat_create(title="A"), bot=bot_create(name="B"), due_at=timezone.now())

    def test_it_claims_a_turn_once(self) -> None:
        first = turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="generating")
        second = turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="generating")
        self.assertEqual((first, second), (True, False))

    def test_it_stamps_each_transition(self) -> None:
        turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="generating")
        turn_transition(turn_id=self.turn.pk, from_status="generating", to_status="ready", text="Merhaba")
        turn_transition(turn_id=self.turn.pk, from_status="ready", to_status="sending")
        turn_transition(turn_id=self.turn.pk, from_status="sending", to_status="sent")
        self.turn.refresh_from_db()
        stamps = [self.turn.generating_at, self.turn.ready_at, self.turn.sending_at, self.turn.finished_at]
        self.assertTrue(all(stamps))
        self.assertEqual(stamps, sorted(stamps))
        self.assertEqual((self.turn.status, self.turn.text, self.turn.is_terminal), ("sent", "Merhaba", True))

    def test_it_refuses_transitions_outside_the_status_machine(self) -> None:
        with self.assertRaises(ValueError):
            turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="sent")
        with self.assertRaises(ValueError):
            turn_transition(turn_id=self.turn.pk, from_status="sent", to_status="sending")

    def test_a_terminal_turn_cannot_be_claimed_again(self) -> None:
        turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="failed", error="no members")
        self.assertFalse(turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="generating"))
        self.turn.refresh_from_db()
        self.assertEqual((self.turn.status, self.turn.error), ("failed", "no members"))

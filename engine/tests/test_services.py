from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.test import TestCase, TransactionTestCase
from django.utils import timezone
from prometheus_client import REGISTRY

from bots.services import bot_create
from chats.models import Message
from chats.services import chat_create
from engine.models import Setting, Turn
from engine.selectors import setting_get, settings_all
from engine.services import setting_reset, setting_set, settings_update, turn_transition
from engine.services.turns import turns_transition, turns_transition_each


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
            values = settings_all().values()
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

    def test_it_writes_every_kind_of_value_as_the_orm_would(self) -> None:
        from decimal import Decimal

        from chats.models import Message

        target = Message.objects.create(chat=self.turn.chat, sender_name="Ali", text="?")
        turn_transition(turn_id=self.turn.pk, from_status="planned", to_status="generating")
        at = timezone.now()
        moved = turn_transition(
            turn_id=self.turn.pk,
            from_status="generating",
            to_status="ready",
            text="Merhaba",
            inputs={"topic": "BIST", "memories": [1, 2], "headline": None},
            reply_to=target,
            cost_usd=Decimal("0.00012345"),
            llm_latency_ms=None,
            send_at=at,
        )
        self.turn.refresh_from_db()
        self.assertTrue(moved)
        self.assertEqual(
            (self.turn.inputs, self.turn.reply_to_id, self.turn.cost_usd, self.turn.llm_latency_ms, self.turn.send_at),
            ({"topic": "BIST", "memories": [1, 2], "headline": None}, target.pk, Decimal("0.00012345"), None, at),
        )
        self.assertFalse(
            turn_transition(turn_id=self.turn.pk, from_status="generating", to_status="ready", text="again")
        )
        turn_transition(turn_id=self.turn.pk, from_status="ready", to_status="sending", increments={"attempts": 1})
        self.turn.refresh_from_db()
        self.assertEqual((self.turn.status, self.turn.attempts, self.turn.text), ("sending", 1, "Merhaba"))


class TurnsClaimTests(TestCase):
    def setUp(self) -> None:
        chat, bot = chat_create(title="A"), bot_create(name="B")
        self.ids = [Turn.objects.create(chat=chat, bot=bot, due_at=timezone.now()).pk for _ in range(4)]

    def test_it_claims_the_turns_still_in_the_status_in_one_query_and_says_which(self) -> None:
        turn_transition(turn_id=self.ids[1], from_status="planned", to_status="generating")
        with self.assertNumQueries(1):
            won = turns_transition(turn_ids=self.ids[::-1], from_status="planned", to_status="generating")
        self.assertEqual(won, [self.ids[3], self.ids[2], self.ids[0]])
        self.assertEqual(turns_transition(turn_ids=self.ids, from_status="planned", to_status="generating"), [])
        turns = Turn.objects.filter(pk__in=self.ids)
        self.assertEqual({turn.status for turn in turns}, {"generating"})
        self.assertTrue(all(turn.generating_at for turn in turns))

    def test_it_writes_the_fields_given_with_the_claim(self) -> None:
        turns_transition(turn_ids=self.ids[:2], from_status="planned", to_status="generating")
        won = turns_transition(
            turn_ids=self.ids, from_status="generating", to_status="ready", text="Selam", increments={"attempts": 2}
        )
        self.assertEqual(won, self.ids[:2])
        rows = Turn.objects.filter(pk__in=self.ids).order_by("pk").values_list("status", "text", "attempts")
        self.assertEqual(list(rows), [("ready", "Selam", 2)] * 2 + [("planned", "", 0)] * 2)

    def test_an_expression_is_refused_with_the_way_to_count_instead(self) -> None:
        with self.assertRaisesMessage(TypeError, "attempts: an expression; add to a counter with increments="):
            turns_transition(
                turn_ids=self.ids, from_status="planned", to_status="generating", attempts=F("attempts") + 1
            )
        self.assertEqual(set(Turn.objects.values_list("status", "attempts")), {("planned", 0)})

    def test_it_refuses_to_leave_the_status_machine(self) -> None:
        with self.assertRaises(ValueError):
            turns_transition(turn_ids=self.ids, from_status="planned", to_status="sending")
        with self.assertNumQueries(0):
            self.assertEqual(turns_transition(turn_ids=[], from_status="planned", to_status="generating"), [])

    def test_ending_turns_counts_each_moved_turns_outcome_once_committed(self) -> None:
        turn_transition(turn_id=self.ids[0], from_status="planned", to_status="failed", error="gone")
        before = REGISTRY.get_sample_value("piyasa_turns_total", {"kind": "proactive", "outcome": "skipped"}) or 0
        kinds = dict.fromkeys(self.ids, "proactive")
        with self.captureOnCommitCallbacks(execute=True):
            won = turns_transition(turn_ids=self.ids, from_status="planned", to_status="skipped", kinds=kinds)
        self.assertEqual(won, self.ids[1:])
        after = REGISTRY.get_sample_value("piyasa_turns_total", {"kind": "proactive", "outcome": "skipped"})
        self.assertEqual(after, before + 3)
        finished = Turn.objects.filter(pk__in=won).values_list("finished_at", flat=True)
        self.assertTrue(all(finished))


class TurnsEachTests(TestCase):
    def setUp(self) -> None:
        chat, bot = chat_create(title="A"), bot_create(name="B")
        self.target = Message.objects.create(chat=chat, sender_name="Ayşe", text="BIST?")
        self.ids = [Turn.objects.create(chat=chat, bot=bot, due_at=timezone.now()).pk for _ in range(3)]
        turns_transition(turn_ids=self.ids, from_status="planned", to_status="generating")

    def row(self, n: int) -> dict[str, object]:
        at = timezone.now().replace(microsecond=0) + timedelta(seconds=n)
        return {
            "text": f"Mesaj {n}",
            "inputs": {"topic": "BIST", "memories": [n]},
            "cost_usd": Decimal("0.000123") * n,
            "reply_to_id": self.target.pk if n else None,
            "send_at": at,
            "llm_latency_ms": None if n else 12,
        }

    def test_each_turn_gets_its_own_values_in_one_query_and_only_those_still_in_the_status_move(self) -> None:
        turn_transition(turn_id=self.ids[1], from_status="generating", to_status="failed", error="swept")
        rows = {turn_id: self.row(n) for n, turn_id in enumerate(self.ids)}
        with self.assertNumQueries(1):
            won = turns_transition_each(rows=rows, from_status="generating", to_status="ready")
        self.assertEqual(won, [self.ids[0], self.ids[2]])
        for n in (0, 2):
            turn = Turn.objects.get(pk=self.ids[n])
            got = {name: getattr(turn, name) for name in rows[self.ids[n]]}
            self.assertEqual((turn.status, got), ("ready", rows[self.ids[n]]))
            self.assertIsNotNone(turn.ready_at)
        self.assertEqual(Turn.objects.get(pk=self.ids[1]).text, "")

    def test_nothing_to_write_is_no_query(self) -> None:
        with self.assertNumQueries(0):
            self.assertEqual(turns_transition_each(rows={}, from_status="generating", to_status="ready"), [])


def _claim_after(barrier: threading.Barrier, batch: list[int], won: list[list[int]]) -> None:
    try:
        barrier.wait()
        won.append(turns_transition(turn_ids=batch, from_status="planned", to_status="generating"))
    finally:
        connection.close()


class ConcurrentClaimTests(TransactionTestCase):
    """Claims from worker threads, each on its own committed connection."""

    def test_workers_claiming_overlapping_batches_never_share_a_turn(self) -> None:
        chat, bot = chat_create(title="A"), bot_create(name="B")
        for _round in range(5):
            ids = [Turn.objects.create(chat=chat, bot=bot, due_at=timezone.now()).pk for _ in range(12)]
            barrier, won = threading.Barrier(3, timeout=10), list[list[int]]()
            batches = [ids[start : start + 6] for start in (0, 3, 6)]  # every turn but the ends is in two
            workers = [threading.Thread(target=_claim_after, args=(barrier, batch, won)) for batch in batches]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            claimed = [turn_id for batch in won for turn_id in batch]
            assert len(won) == 3
            assert sorted(claimed) == sorted(set(claimed))  # no turn twice
            assert set(claimed) == set(ids)  # and every turn by someone

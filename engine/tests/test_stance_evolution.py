from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Sum
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.models import Bot, Stance, StanceChange
from bots.tests.factories import BotFactory, StanceFactory
from chats.models import Message
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from engine import jobs
from engine.models import Watermark
from engine.runtime_settings import RuntimeConfig
from engine.services import settings_update
from engine.services.stance_drift import FLIP_COOLDOWN, MEMBER_MAX_STRENGTH, RISK_BANDS
from engine.services.stance_evolution import FLIP_TEXTS, MAX_AGE, apply_event, stances_evolve

ON = RuntimeConfig()
OFF = RuntimeConfig(stance_evolution_enabled=False)
MEDIUM = RISK_BANDS["medium"]


def later() -> datetime:
    """A moment after the messages just written have settled."""
    return timezone.now() + timedelta(seconds=30)


def moved_total(stance: Stance) -> float:
    """What the stance's changes counted toward its daily cap."""
    return float(StanceChange.objects.filter(stance=stance).aggregate(total=Sum("moved"))["total"] or 0.0)


class ArgumentTests(TestCase):
    def setUp(self) -> None:
        self.chat = ChatFactory.create()
        self.bull, self.bear = BotFactory.create(name="Boğa"), BotFactory.create(name="Ayı")
        for bot in (self.bull, self.bear):
            MembershipFactory.create(chat=self.chat, bot=bot)
        self.bull_view = StanceFactory.create(bot=self.bull, topic="BIST", polarity="bullish", confidence=0.8)
        self.bear_view = StanceFactory.create(bot=self.bear, topic="BIST", polarity="bearish", confidence=0.6)

    def say(self, text: str, *, bot: Bot | None = None, **fields: object) -> Message:
        name = bot.name if bot else "Ayşe"
        return MessageFactory.create(
            chat=self.chat, bot=bot, sender_user_id=None if bot else 77, sender_name=name, text=text, **fields
        )

    def test_an_opposite_argument_lowers_a_listeners_confidence_and_is_recorded(self) -> None:
        message = self.say("BIST kesin yükselecek, bence ralli başlıyor", bot=self.bull)
        changes = stances_evolve(config=ON, now=later())
        self.assertEqual(len(changes), 1)
        self.bear_view.refresh_from_db()
        self.assertLess(self.bear_view.confidence, 0.6)
        change = StanceChange.objects.get()
        self.assertEqual((change.bot_id, change.topic, change.cause_kind), (self.bear.pk, "BIST", "argument"))
        self.assertEqual((change.speaker_bot_id, change.message_id), (self.bull.pk, message.pk))
        self.assertEqual((change.old_confidence, change.new_confidence), (0.6, self.bear_view.confidence))
        self.assertTrue(change.cause.startswith("Boğa: BIST kesin"))

    def test_an_agreeing_argument_raises_confidence_but_not_the_speakers_own(self) -> None:
        ally = StanceFactory.create(topic="BIST", polarity="bullish", confidence=0.6)
        MembershipFactory.create(chat=self.chat, bot=ally.bot)
        self.say("BIST kesin yükselecek", bot=self.bull)
        stances_evolve(config=ON, now=later())
        ally.refresh_from_db()
        self.assertGreater(ally.confidence, 0.6)
        self.bull_view.refresh_from_db()
        self.assertEqual(self.bull_view.confidence, 0.8)  # its own message does not persuade it

    def test_a_bot_outside_the_chat_hears_nothing(self) -> None:
        outsider = StanceFactory.create(bot=BotFactory.create(), topic="BIST", polarity="bearish", confidence=0.6)
        self.say("BIST kesin yükselecek", bot=self.bull)
        stances_evolve(config=ON, now=later())
        outsider.refresh_from_db()
        self.assertEqual(outsider.confidence, 0.6)

    def test_neutral_or_off_topic_messages_move_nothing(self) -> None:
        self.say("BIST bugün sakin, bakalım", bot=self.bull)
        self.say("Kripto uçacak!", bot=self.bull)
        self.assertEqual(stances_evolve(config=ON, now=later()), [])

    def test_the_messages_topic_counts_even_unnamed(self) -> None:
        self.say("bence yükselecek", bot=self.bull, metadata={"topic": "BIST"})
        self.assertEqual(len(stances_evolve(config=ON, now=later())), 1)

    def test_a_member_nudges_at_most_the_member_cap_and_repeating_counts_once(self) -> None:
        for _ in range(5):
            self.say("BIST KESİN ÇÖKECEK, garanti!!")
        changes = stances_evolve(config=ON, now=later())
        self.assertEqual(sorted(c.stance_id for c in changes), [self.bull_view.pk, self.bear_view.pk])  # once each
        for change in changes:
            self.assertLessEqual(change.moved, MEMBER_MAX_STRENGTH * MEDIUM.step + 1e-9)
            self.assertIsNone(change.speaker_bot_id)
            self.assertIn("member «Ayşe»", change.cause)

    def test_a_batch_is_read_once(self) -> None:
        self.say("BIST kesin yükselecek", bot=self.bull)
        now = later()
        self.assertEqual(len(stances_evolve(config=ON, now=now)), 1)
        self.assertEqual(stances_evolve(config=ON, now=now), [])
        self.assertEqual(StanceChange.objects.count(), 1)

    def test_a_batch_another_worker_claimed_changes_nothing(self) -> None:
        message = self.say("BIST kesin yükselecek", bot=self.bull)
        Watermark.objects.create(name=Watermark.Name.STANCE_EVOLUTION, position=0)
        Watermark.objects.update(position=message.pk)  # as if another worker claimed it meanwhile
        self.assertEqual(stances_evolve(config=ON, now=later()), [])

    def test_old_messages_are_not_argued_again(self) -> None:
        self.say("BIST kesin yükselecek", bot=self.bull)
        self.assertEqual(stances_evolve(config=ON, now=later() + MAX_AGE), [])

    def test_the_daily_cap_holds_over_many_batches(self) -> None:
        now = later()
        for index in range(30):
            speaker = BotFactory.create()
            MembershipFactory.create(chat=self.chat, bot=speaker)
            self.say(f"BIST kesin yükselecek ({index})", bot=speaker)
            stances_evolve(config=ON, now=now + timedelta(seconds=index))
        moved = moved_total(self.bear_view)
        self.assertLessEqual(moved, MEDIUM.daily_cap + 1e-9)
        self.assertGreater(moved, MEDIUM.daily_cap - 0.01)

    def test_a_stance_at_its_floor_flips_after_its_cooldown_with_a_new_one(self) -> None:
        Stance.objects.filter(pk=self.bear_view.pk).update(confidence=MEDIUM.floor, cooldown_until=None)
        self.say("BIST kesin yükselecek", bot=self.bull)
        now = later()
        (change,) = stances_evolve(config=ON, now=now)
        self.bear_view.refresh_from_db()
        self.assertEqual(self.bear_view.polarity, "bullish")
        self.assertEqual(self.bear_view.cooldown_until, now + FLIP_COOLDOWN)
        self.assertEqual(self.bear_view.stance, FLIP_TEXTS[("tr", "bullish")])
        self.assertTrue(change.flipped)

    def test_an_english_persona_says_it_turned_in_english(self) -> None:
        self.bear.persona = {**self.bear.persona, "language": "en"}
        self.bear.save()
        Stance.objects.filter(pk=self.bear_view.pk).update(confidence=MEDIUM.floor)
        self.say("BIST will rally, definitely", bot=self.bull)
        stances_evolve(config=ON, now=later())
        self.bear_view.refresh_from_db()
        self.assertEqual(self.bear_view.stance, FLIP_TEXTS[("en", "bullish")])

    def test_a_stance_in_its_cooldown_does_not_flip(self) -> None:
        cooldown = timezone.now() + timedelta(hours=1)
        Stance.objects.filter(pk=self.bear_view.pk).update(confidence=MEDIUM.floor + 0.01, cooldown_until=cooldown)
        self.say("BIST kesin yükselecek", bot=self.bull)
        stances_evolve(config=ON, now=later())
        self.bear_view.refresh_from_db()
        self.assertEqual((self.bear_view.polarity, self.bear_view.confidence), ("bearish", MEDIUM.floor))

    def test_a_conservative_persona_stays_within_its_band(self) -> None:
        self.bear.persona = {**self.bear.persona, "risk_profile": "low"}
        self.bear.save()
        Stance.objects.filter(pk=self.bear_view.pk).update(confidence=RISK_BANDS["low"].ceiling - 0.01)
        self.say("BIST düşecek, kesin", bot=self.bull)
        stances_evolve(config=ON, now=later())
        self.bear_view.refresh_from_db()
        self.assertEqual(self.bear_view.confidence, RISK_BANDS["low"].ceiling)

    def test_the_setting_off_changes_nothing(self) -> None:
        self.say("BIST kesin yükselecek", bot=self.bull)
        self.assertEqual(stances_evolve(config=OFF, now=later()), [])
        self.assertFalse(Watermark.objects.exists())
        self.bear_view.refresh_from_db()
        self.assertEqual(self.bear_view.confidence, 0.6)

    def test_a_batch_runs_the_same_queries_whatever_its_size(self) -> None:
        def queries_for(count: int) -> int:
            StanceChange.objects.all().delete()
            for index in range(count):
                self.say(f"BIST kesin yükselecek {index}", bot=self.bull if index % 2 else None)
            with CaptureQueriesContext(connection) as captured:
                stances_evolve(config=ON, now=later())
            return len(captured)

        queries_for(1)  # the first batch creates the watermark
        self.assertEqual(queries_for(2), queries_for(20))


class EventTests(TestCase):
    def setUp(self) -> None:
        self.chat = ChatFactory.create()
        self.bull = StanceFactory.create(topic="BIST", polarity="bullish", confidence=0.7)
        self.bear = StanceFactory.create(topic="BIST", polarity="bearish", confidence=0.5)
        self.symbol = StanceFactory.create(topic="BIST:THYAO", polarity="bullish", confidence=0.7)
        self.crypto = StanceFactory.create(topic="Kripto", polarity="bullish", confidence=0.7)
        MembershipFactory.create(chat=self.chat, bot=self.bull.bot)

    def test_a_rate_hike_lowers_bist_bulls_and_strengthens_bears(self) -> None:
        changes = apply_event(["BIST"], "bearish", 1.0, timezone.now(), event_id=42, cause="TCMB faizi 500 bp artırdı")
        self.assertEqual({c.stance_id for c in changes}, {self.bull.pk, self.bear.pk, self.symbol.pk})
        for stance in (self.bull, self.bear, self.symbol, self.crypto):
            stance.refresh_from_db()
        self.assertAlmostEqual(self.bull.confidence, 0.7 - MEDIUM.step)
        self.assertAlmostEqual(self.bear.confidence, 0.5 + MEDIUM.step)
        self.assertEqual(self.crypto.confidence, 0.7)
        change = StanceChange.objects.get(stance=self.bull)
        self.assertEqual((change.cause_kind, change.event_id, change.cause), ("event", 42, "TCMB faizi 500 bp artırdı"))

    def test_the_intensity_scales_the_push(self) -> None:
        (change,) = apply_event(["Kripto"], "bearish", 0.5, timezone.now())
        self.assertAlmostEqual(change.moved, MEDIUM.step / 2)

    def test_target_chats_limit_it_to_their_bots(self) -> None:
        changes = apply_event(["BIST"], "bearish", 1.0, timezone.now(), chat_ids=[self.chat.pk])
        self.assertEqual([c.stance_id for c in changes], [self.bull.pk])

    def test_events_share_the_daily_cap_with_arguments(self) -> None:
        for _ in range(20):
            apply_event(["BIST"], "bearish", 1.0, timezone.now())
        moved = moved_total(self.bear)
        self.assertAlmostEqual(moved, MEDIUM.daily_cap)

    def test_the_setting_off_or_no_direction_changes_nothing(self) -> None:
        self.assertEqual(apply_event(["BIST"], "bearish", 1.0, timezone.now(), config=OFF), [])
        self.assertEqual(apply_event(["BIST"], "neutral", 1.0, timezone.now()), [])
        self.assertFalse(StanceChange.objects.exists())


class JobTests(TestCase):
    def test_the_job_reports_what_it_moved(self) -> None:
        chat = ChatFactory.create()
        speaker, listener = BotFactory.create(), BotFactory.create()
        for bot in (speaker, listener):
            MembershipFactory.create(chat=chat, bot=bot)
        StanceFactory.create(bot=listener, topic="BIST", polarity="bearish", confidence=0.6)
        MessageFactory.create(chat=chat, bot=speaker, sender_user_id=None, text="BIST kesin yükselecek")
        Message.objects.update(created_at=timezone.now() - timedelta(minutes=1))
        self.assertEqual(jobs.evolve_stances(), {"changes": 1, "flips": 0})

    def test_the_job_does_nothing_when_the_setting_is_off(self) -> None:
        settings_update(values={"stance_evolution_enabled": False})
        self.assertEqual(jobs.evolve_stances(), {"stance_evolution_enabled": False})

"""The demo crowd: six valid Turkish personas in a sandbox chat, created idempotently."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import models
from django.test import TestCase

from bots.demo import DEMO_BOTS, DEMO_CHAT_TITLE
from bots.models import Bot, Holding, Memory, Stance
from bots.schemas import ActiveHours, Emotion, Persona, PersonaTone, Speed, validate_with
from bots.symbols import parse_symbol, symbols_match
from chats.models import Chat, Membership
from chats.schemas import DEFAULT_TOPICS

# Per model, the columns that change when a row is re-saved or edited (updated_at where the model has one).
SNAPSHOT_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Bot: ("pk", "updated_at"),
    Stance: ("pk", "updated_at"),
    Holding: ("pk", "updated_at"),
    Memory: ("pk", "content", "relevance"),
    Chat: ("pk", "updated_at"),
    Membership: ("pk", "is_enabled", "talkativeness"),
}
USERNAMES = {spec.username for spec in DEMO_BOTS}


def run_command() -> str:
    out = StringIO()
    call_command("create_demo_crowd", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[Any]]:
    return {
        model.__name__: list(model._default_manager.order_by("pk").values_list(*fields))
        for model, fields in SNAPSHOT_FIELDS.items()
    }


def topic_of(symbol: str) -> str:
    """The chat topic a symbol belongs to: BIST, Kripto, or FX (currencies and gold)."""
    parsed = parse_symbol(symbol)
    if parsed.exchange == "BIST":
        return "BIST"
    return "Kripto" if parsed.ticker.endswith("USDT") else "FX"


class CreateDemoCrowdTests(TestCase):
    def test_it_creates_six_demo_bots_without_tokens(self) -> None:
        output = run_command()

        bots = Bot.objects.all()
        self.assertEqual(set(bots.values_list("username", flat=True)), USERNAMES)
        self.assertEqual(len(USERNAMES), 6)
        self.assertFalse(any(bot.has_token for bot in bots))
        self.assertTrue(all(bot.is_enabled for bot in bots))
        self.assertIn("Bots created: 6 of 6", output)

    def test_it_gives_each_bot_a_valid_persona_emotion_and_speed(self) -> None:
        run_command()

        for bot in Bot.objects.all():
            with self.subTest(bot=bot.username):
                persona = validate_with(Persona, "persona", bot.persona)
                validate_with(Emotion, "emotion", bot.emotion)
                validate_with(Speed, "speed", bot.speed)
                validate_with(ActiveHours, "active_hours", bot.active_hours)
                bot.full_clean()
                self.assertEqual(persona.language, "tr")
                self.assertTrue(persona.bio and persona.never_do and persona.watchlist)
                self.assertTrue(bot.emotion["signature_emoji"] and bot.emotion["signature_phrases"])
                self.assertTrue(bot.emotion["anecdotes"])

    def test_it_seeds_stances_holdings_and_memories_for_each_bot(self) -> None:
        run_command()

        for bot in Bot.objects.all():
            with self.subTest(bot=bot.username):
                self.assertGreaterEqual(bot.stances.count(), 2)
                self.assertGreaterEqual(bot.holdings.count(), 1)
                self.assertGreaterEqual(bot.memories.count(), 3)
                for row in [*bot.stances.all(), *bot.holdings.all(), *bot.memories.all()]:
                    row.full_clean()

    def test_it_creates_one_sandbox_chat_with_all_six_bots_enabled(self) -> None:
        run_command()

        chat = Chat.objects.get()
        self.assertEqual(chat.title, DEMO_CHAT_TITLE)
        self.assertEqual(chat.transport, Chat.Transport.SANDBOX)
        self.assertIsNotNone(chat.telegram_chat_id)
        self.assertEqual((chat.language, chat.timezone, chat.topics), ("tr", "Europe/Istanbul", DEFAULT_TOPICS))
        self.assertEqual(chat.cadence, 2.0)
        memberships = chat.memberships.all()
        self.assertEqual({m.bot.username for m in memberships}, USERNAMES)
        self.assertTrue(all(m.is_enabled for m in memberships))

    def test_it_changes_nothing_on_a_second_run(self) -> None:
        run_command()
        before = snapshot()

        output = run_command()

        self.assertEqual(snapshot(), before)
        self.assertEqual({name: len(rows) for name, rows in before.items()}["Bot"], 6)
        self.assertIn("already exists", output)

    def test_it_keeps_operator_edits_on_a_rerun(self) -> None:
        run_command()
        bot = Bot.objects.get(username="piyasa_demo_burak_bot")
        bot.talkativeness = 0.1
        bot.save()
        Stance.objects.filter(bot=bot, topic="Kripto").update(stance="Artık kriptodan uzak duruyorum.")
        bot.memories.order_by("pk")[0].delete()
        Membership.objects.filter(bot=bot).delete()
        before = snapshot()

        run_command()

        bot.refresh_from_db()
        self.assertEqual(bot.talkativeness, 0.1)
        self.assertEqual(bot.stances.get(topic="Kripto").stance, "Artık kriptodan uzak duruyorum.")
        self.assertFalse(Membership.objects.filter(bot=bot).exists())
        self.assertEqual(snapshot(), before)

    def test_it_recreates_only_a_deleted_demo_bot(self) -> None:
        run_command()
        Bot.objects.filter(username="piyasa_demo_mert_bot").delete()
        chat = Chat.objects.get()
        others = snapshot()["Bot"]

        output = run_command()

        recreated = Bot.objects.get(username="piyasa_demo_mert_bot")
        self.assertEqual(Bot.objects.count(), 6)
        self.assertEqual(Chat.objects.get(), chat)
        self.assertTrue(chat.memberships.filter(bot=recreated, is_enabled=True).exists())
        self.assertEqual([row for row in snapshot()["Bot"] if row[0] != recreated.pk], others)
        self.assertIn("Bots created: 1 of 6", output)


class DemoPersonasTests(TestCase):
    def test_it_gives_the_six_personas_distinct_tones(self) -> None:
        tones = [spec.persona.tone for spec in DEMO_BOTS]

        self.assertEqual(len(tones), 6)
        self.assertEqual(
            set(tones),
            {
                PersonaTone.VETERAN,
                PersonaTone.STREET,
                PersonaTone.ACADEMIC,
                PersonaTone.NEWBIE,
                PersonaTone.TECHNICAL,
                PersonaTone.CONSERVATIVE,
            },
        )

    def test_it_gives_each_bot_a_distinct_talkativeness(self) -> None:
        levels = [spec.talkativeness for spec in DEMO_BOTS]

        self.assertEqual(len(set(levels)), len(levels))

    def test_it_paces_the_scalper_faster_than_the_retiree(self) -> None:
        speeds = {spec.persona.tone: spec.speed for spec in DEMO_BOTS}
        scalper, retiree = speeds[PersonaTone.STREET], speeds[PersonaTone.CONSERVATIVE]

        self.assertGreater(scalper.typing_cps[0], retiree.typing_cps[1])
        self.assertLess(scalper.base_delay_s, retiree.base_delay_s)
        for speed in speeds.values():
            # Characters per second of a person typing on a phone, not words or milliseconds.
            self.assertTrue(1.5 <= speed.typing_cps[0] <= speed.typing_cps[1] <= 9.0, speed.typing_cps)

    def test_any_demo_bot_can_open_the_chat_within_a_minute_of_make_run(self) -> None:
        # An empty chat's first turn is proactive: the bot's shortest reading delay, then at most its longest
        # typing; the first tick comes within 2 s of the start. `make run` must show a message within 60 s.
        for spec in DEMO_BOTS:
            self.assertLessEqual(spec.speed.min_delay_s + spec.speed.max_typing_s, 55, spec.name)

    def test_it_keeps_holdings_consistent_with_stances(self) -> None:
        for spec in DEMO_BOTS:
            bearish = [stance.topic for stance in spec.stances if stance.polarity == Stance.Polarity.BEARISH]
            for holding in spec.holdings:
                with self.subTest(bot=spec.username, symbol=holding.symbol):
                    self.assertNotIn(topic_of(holding.symbol), bearish)
                    self.assertFalse(any(symbols_match(holding.symbol, topic) for topic in bearish if ":" in topic))

    def test_it_gives_the_crowd_topics_to_disagree_about(self) -> None:
        polarities: dict[str, set[str]] = {}
        for spec in DEMO_BOTS:
            for stance in spec.stances:
                polarities.setdefault(stance.topic, set()).add(stance.polarity)

        contested = [topic for topic, seen in polarities.items() if {"bullish", "bearish"} <= seen]
        self.assertGreaterEqual(len(contested), 2, contested)

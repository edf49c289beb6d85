"""How the crowd takes a market event: in the context and prompt of each turn, in the offline provider's text, and
measured on a whole run with the quality evaluator's stance figures."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from bots.models import Bot, Stance
from bots.tests.factories import StanceFactory
from chats.models import Chat, Message
from chats.tests.factories import ChatFactory
from config.testing.cases import RedisTransactionTestCase
from engine import jobs
from engine.clients.llm.base import EventHint, GenerationHints, StanceHint
from engine.clients.llm.offline import compose
from engine.quality import talk
from engine.quality.loading import transcript_load
from engine.quality.text import direction
from engine.services import postprocess, prompts, settings_update
from engine.services.events import event_create
from engine.tests.factories import TurnFactory
from engine.tests.pipeline import FAST_SPEED, drain
from engine.tests.test_context import _config, _context
from engine.tests.test_prompts import _bot
from engine.tests.test_prompts import _context as _prompt_context

RATE_HIKE = "TCMB politika faizini 500 baz puan artırdı"
STORY = "2001 krizinde bankalar bir gecede kapandı, sabredenler kazandı"


def _hints(polarity: str, *, tone: str = "professional", direction: str = "down", **fields: Any) -> GenerationHints:
    return GenerationHints(
        persona_tone=tone, topic="BIST", symbol="BIST:THYAO", stances=[StanceHint("BIST:THYAO", polarity, "…")],  # type: ignore[arg-type]
        event=EventHint(RATE_HIKE, direction, 0.9), length="short", emojis=False, **fields,
    )  # fmt: skip


class EventContextTests(TestCase):
    """A fresh event is the turn's subject, with the bot's stance on it."""

    def test_a_turn_in_the_chat_reacts_to_the_event_with_its_view_on_the_symbol(self) -> None:
        bot = _bot()
        chat, other = ChatFactory.create(), ChatFactory.create()
        StanceFactory.create(bot=bot, topic="BIST:THYAO", polarity=Stance.Polarity.BEARISH)
        StanceFactory.create(bot=bot, topic="BTCUSDT", polarity=Stance.Polarity.BULLISH)
        event = event_create(text=RATE_HIKE, direction="up", intensity=0.9, symbols=["THYAO"], chats=[chat])
        config, rng = _config(), random.Random(1)
        context = _context(TurnFactory.create(chat=chat, bot=bot), config=config, rng=rng)
        assert context.event is not None
        assert context.event.pk == event.pk
        assert (context.symbol, context.topic) == ("BIST:THYAO", "BIST")
        assert [s.topic for s in context.stances] == ["BIST:THYAO"]
        prompt = prompts.user_prompt(context)
        assert f"«{RATE_HIKE}»" in prompt
        assert "Sorulan sembol" not in prompt
        assert prompts.hints(context).event == (RATE_HIKE, "up", 0.9)
        elsewhere = _context(TurnFactory.create(chat=other, bot=bot), config=config, rng=rng)
        assert elsewhere.event is None
        assert RATE_HIKE not in prompts.user_prompt(elsewhere)

    def test_the_newbie_is_told_to_ask_and_the_veteran_to_recall_a_crisis(self) -> None:
        chat = ChatFactory.create()
        event_create(text=RATE_HIKE, direction="up", intensity=0.2, chats=[chat])
        from engine.services.events import fresh_events

        (event,) = fresh_events([chat.pk], now=timezone.now(), scale=1.0)[chat.pk]
        veteran = prompts.user_prompt(_prompt_context(_bot(), chat, event=event))
        newbie = prompts.user_prompt(_prompt_context(_bot(persona={"tone": "newbie"}), chat, event=event))
        assert "geçmiş bir krizi hatırla" in veteran
        assert "şiddet: hafif" in veteran
        assert "gruba ne anlama geldiğini sor" in newbie
        assert "krizi" not in newbie


class OfflineEventTests(TestCase):
    """The offline provider's take on an event keeps each bot's view and voice."""

    def test_bulls_and_bears_diverge_on_the_same_news_and_never_contradict_themselves(self) -> None:
        for event_direction in ("up", "down", "mixed"):
            for polarity in ("bullish", "bearish"):
                texts = [compose(_hints(polarity, direction=event_direction), random.Random(s)) for s in range(30)]
                stance = [("BIST:THYAO", polarity)]
                assert Counter(direction(text) for text in texts).most_common(1)[0][0] == polarity, texts
                assert not [text for text in texts if postprocess.stance_problems(text, stance)]

    def test_the_newbie_asks_and_the_veteran_recalls_its_story(self) -> None:
        newbie = [compose(_hints("neutral", tone="newbie"), random.Random(s)) for s in range(10)]
        veteran = [compose(_hints("bullish", tone="veteran", anecdotes=[STORY]), random.Random(s)) for s in range(10)]
        assert all("?" in text for text in newbie)
        assert sum(STORY in text for text in veteran) >= 8
        plain = [compose(_hints("bullish"), random.Random(s)) for s in range(10)]
        assert not any(STORY in text for text in plain)


class EventRunTests(RedisTransactionTestCase):
    """A whole crowd after an event, measured with engine.quality's stance figures."""

    def test_after_an_event_bulls_and_bears_diverge_by_the_stance_figures(self) -> None:
        call_command("create_demo_crowd", stdout=open("/dev/null", "w"))  # noqa: SIM115
        chat = Chat.objects.get()
        Chat.objects.update(cadence=30)
        Bot.objects.update(speed=FAST_SPEED, active_hours=[])
        Stance.objects.filter(topic__in=["BIST", "BIST:THYAO"]).delete()
        views = {}
        for index, bot in enumerate(Bot.objects.order_by("name")):
            views[bot.pk] = "bullish" if index % 2 else "bearish"
            StanceFactory.create(bot=bot, topic="BIST:THYAO", polarity=views[bot.pk], confidence=0.8)
        limits = {"max_msgs_per_min": 600, "bot_hourly_msg_limit": {"min": 100, "max": 100}}
        settings_update(values={"simulation_active": True, "scale_factor": 10.0, **limits})
        event = event_create(text=RATE_HIKE, direction="up", intensity=0.9, symbols=["THYAO"], chats=[chat])
        assert event.fired_at is not None
        deadline = time.monotonic() + 90
        while Message.objects.filter(chat=chat, bot__isnull=False).count() < 16:
            assert time.monotonic() < deadline, "the crowd did not react in time"
            jobs.tick()
            drain(0.3)
        transcript = transcript_load(
            chat_ids=[chat.pk], since=event.fired_at, until=timezone.now() + timedelta(seconds=1)
        )
        entropy, contradictions = talk.stance_entropy(transcript), talk.stance_contradictions(transcript)
        assert entropy.value is not None
        assert entropy.value >= 0.5, entropy
        assert contradictions.value == 0.0, contradictions
        convergence = talk.convergence(transcript).value
        assert convergence is not None
        assert convergence <= 0.75
        said = Counter((line.bot_id, direction(line.text)) for line in transcript.bot_lines)
        for bot_id, polarity in views.items():
            opposite = "bearish" if polarity == "bullish" else "bullish"
            assert said[(bot_id, opposite)] == 0, (bot_id, polarity, said)

"""The demo crowd argues for a while with stance evolution on: stances move, and the crowd does not collapse into
one view (the quality evaluator's convergence figure stays out of its red band)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from bots.demo import demo_crowd_create
from bots.models import Bot, Stance, StanceChange
from chats.models import Chat, Message
from engine.clients.llm import GenerationHints, LlmRequest, OfflineProvider, StanceHint
from engine.clients.loops import run
from engine.quality import talk
from engine.quality.loading import transcript_load
from engine.quality.report import FIGURES_BY_KEY, Band
from engine.runtime_settings import RuntimeConfig
from engine.services.context import relevant_stances
from engine.services.stance_evolution import stances_evolve

MESSAGES = 240
BATCH = 6  # messages between two runs of the evolution job
SEED = 7
REPLY_SHARE = 0.5


def _write(bot: Bot, stances: list[Stance], topic: str, target: Message | None, seed: int) -> str:
    """One message of the bot, by the offline provider, from its current stances on the topic."""
    hints = GenerationHints(
        language="tr",
        persona_tone=str(bot.persona["tone"]),
        emotion_tone=str(bot.emotion["tone"]),
        bot_name=bot.name,
        mode="reply" if target else "new",
        reply_to_name=target.sender_name if target else None,
        reply_to_text=target.text if target else None,
        topic=topic,
        stances=[StanceHint(s.topic, s.polarity, s.stance) for s in relevant_stances(stances, topic)],  # type: ignore[arg-type]
    )
    request = LlmRequest(messages=[{"role": "user", "content": "yaz"}], seed=seed, hints=hints)
    return run(OfflineProvider().complete(request)).text


def simulate(chat: Chat, bots: list[Bot], *, config: RuntimeConfig) -> None:
    """The crowd talks: a seeded speaker on a seeded topic, replying half the time; evolution runs every BATCH."""
    rng, last = random.Random(SEED), None
    for index in range(MESSAGES):
        bot, topic = rng.choice(bots), rng.choice(chat.topics)
        stances = list(Stance.objects.filter(bot=bot))  # read again: what the engine's next batch load reads
        target = last if last is not None and last.bot_id != bot.pk and rng.random() < REPLY_SHARE else None
        text = _write(bot, stances, topic, target, seed=index)
        last = Message.objects.create(
            chat=chat, bot=bot, sender_name=bot.name, text=text, reply_to=target, metadata={"topic": topic}
        )
        if index % BATCH == BATCH - 1:
            stances_evolve(config=config, now=timezone.now() + timedelta(seconds=30), seed=str(SEED))


def majority_share(bots: list[Bot]) -> float:
    """Over topics three or more bots hold a stance on: the bots holding the topic's commonest polarity."""
    by_topic: dict[str, list[str]] = {}
    for stance in Stance.objects.filter(bot__in=bots):
        by_topic.setdefault(stance.topic, []).append(stance.polarity)
    polled = [views for views in by_topic.values() if len(views) >= 3]
    return sum(Counter(views).most_common(1)[0][1] for views in polled) / sum(map(len, polled))


class EvolvingCrowdTests(TestCase):
    def setUp(self) -> None:
        demo = demo_crowd_create()
        self.chat, self.bots = demo.chat, demo.bots
        self.start = timezone.now() - timedelta(minutes=1)

    def convergence(self) -> float | None:
        transcript = transcript_load(
            chat_ids=[self.chat.pk], since=self.start, until=timezone.now() + timedelta(minutes=1)
        )
        return talk.convergence(transcript).value

    def test_stances_move_and_the_crowd_keeps_its_disagreement(self) -> None:
        before = majority_share(self.bots)
        simulate(self.chat, self.bots, config=RuntimeConfig())
        changes = StanceChange.objects.filter(cause_kind=StanceChange.Cause.ARGUMENT)
        self.assertGreater(changes.count(), 20)
        convergence = self.convergence()
        self.assertIsNotNone(convergence)
        bands = FIGURES_BY_KEY["convergence"].bands
        assert bands is not None
        self.assertNotEqual(bands.of(convergence), Band.RED, convergence)
        # Unbounded (no daily cap or cooldown, big steps) this crowd ends at 0.875 with four flips.
        self.assertLessEqual(majority_share(self.bots), max(before, 0.85))

    def test_with_evolution_off_nothing_moves(self) -> None:
        simulate(self.chat, self.bots, config=RuntimeConfig(stance_evolution_enabled=False))
        self.assertFalse(StanceChange.objects.exists())

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from bots.models import Stance, StanceChange
from bots.tests.factories import StanceFactory
from chats.models import Chat
from chats.tests.factories import ChatFactory, MembershipFactory
from config.testing.cases import RedisTestCase, RedisTransactionTestCase
from engine.models import MarketEvent, Turn
from engine.services.events import (
    BURST_DECAY_S,
    FRESH_S,
    event_cancel,
    event_create,
    event_fire,
    events_fire_due,
    excitement,
    fresh_events,
    parse_intensity,
)
from engine.services.planning import NEXT_AT_KEY, plan_tick
from engine.tests.test_planning import NOW, _bots, _chat, _config

RATE_HIKE = "TCMB politika faizini 500 baz puan artırdı"


def scheduled(chat_ids: list[int] | None = None, *, minutes: float = 30) -> MarketEvent:
    """An event scheduled `minutes` from now for the given chats (every enabled chat: None)."""
    chats = Chat.objects.filter(pk__in=chat_ids or [])
    return event_create(
        text=RATE_HIKE, direction="up", intensity=0.9, symbols=["THYAO"], chats=chats,
        fire_at=timezone.now() + timedelta(minutes=minutes),
    )  # fmt: skip


class EventCreateTests(RedisTestCase):
    """Injecting an event."""

    def test_symbols_are_stored_canonical_and_an_event_due_now_fires_at_once(self) -> None:
        chat = ChatFactory.create()
        event = event_create(text=RATE_HIKE, direction="up", intensity=0.9, symbols=["thyao", "BTCUSDT", "THYAO"])
        assert event.symbols == ["BIST:THYAO", "BTCUSDT"]
        assert event.fired_at is not None
        assert event.status == "fired"
        assert list(event.chats.all()) == [chat]  # none chosen: every enabled chat when it fired
        assert float(self.redis.hget(NEXT_AT_KEY, str(chat.pk)) or 0) == pytest.approx(event.fired_at.timestamp())

    def test_an_unknown_symbol_is_refused_and_names_itself(self) -> None:
        with pytest.raises(ValidationError, match="'\\$\\$\\$'"):
            event_create(text=RATE_HIKE, direction="up", intensity=0.5, symbols=["$$$"])
        assert not MarketEvent.objects.exists()

    def test_intensity_is_a_unit_number_or_a_level(self) -> None:
        assert [parse_intensity(v) for v in ("high", "Low", 0.25, "1")] == [0.9, 0.3, 0.25, 1.0]
        for bad in (1.5, -0.1, "huge", None):
            with pytest.raises(ValidationError):
                parse_intensity(bad)

    def test_a_scheduled_event_waits_until_its_time(self) -> None:
        event = scheduled(minutes=30)
        assert event.fired_at is None
        assert events_fire_due() == 0
        assert events_fire_due(now=timezone.now() + timedelta(minutes=31)) == 1
        event.refresh_from_db()
        assert event.status == "fired"
        assert events_fire_due(now=timezone.now() + timedelta(minutes=32)) == 0  # once

    def test_a_cancelled_event_never_fires_and_a_fired_one_cannot_be_cancelled(self) -> None:
        event = scheduled(minutes=1)
        assert event_cancel(event=event) is True
        assert events_fire_due(now=timezone.now() + timedelta(minutes=2)) == 0
        assert event_cancel(event=event) is False
        fired = event_create(text=RATE_HIKE, direction="down", intensity=0.2)
        assert event_cancel(event=fired) is False
        assert fired.status == "fired"


class FreshEventsTests(RedisTestCase):
    """What planning and the prompts read."""

    def test_only_fired_fresh_events_of_the_chat_are_read_in_one_query(self) -> None:
        chat, other = ChatFactory.create(), ChatFactory.create()
        now = timezone.now()
        mine = event_create(text=RATE_HIKE, direction="up", intensity=0.9, chats=[chat])
        event_create(text="Başka grup", direction="down", intensity=0.9, chats=[other])
        stale = event_create(text="Eski haber", direction="down", intensity=0.9, chats=[chat])
        MarketEvent.objects.filter(pk=stale.pk).update(fired_at=now - timedelta(seconds=FRESH_S + 5))
        scheduled([chat.pk])
        with self.assertNumQueries(1):
            found = fresh_events([chat.pk, other.pk], now=timezone.now(), scale=1.0)
        assert [event.pk for event in found[chat.pk]] == [mine.pk]
        assert found[chat.pk][0].symbols == ()
        assert fresh_events([chat.pk], now=timezone.now() + timedelta(seconds=FRESH_S / 10 + 1), scale=10.0) == {}

    def test_the_pace_boost_decays_with_the_simulated_time(self) -> None:
        chat = ChatFactory.create()
        event_create(text=RATE_HIKE, direction="up", intensity=1.0, chats=[chat])
        fired = MarketEvent.objects.get().fired_at
        assert fired is not None
        (event,) = fresh_events([chat.pk], now=fired, scale=1.0)[chat.pk]
        boosts = [excitement([event], now=fired + timedelta(seconds=s), scale=1.0) for s in (0, BURST_DECAY_S, 900)]
        assert boosts[0] == pytest.approx(5.0)
        assert boosts[0] > boosts[1] > boosts[2] > 1.0
        assert excitement([event], now=fired + timedelta(seconds=BURST_DECAY_S / 10), scale=10.0) == boosts[1]


class BurstTests(RedisTestCase):
    """The crowd speaks up after an event, then calms down."""

    def test_more_turns_follow_an_event_than_preceded_it_and_the_burst_decays(self) -> None:
        bots = _bots(4, active_hours=[])
        chat = _chat(*bots, cadence=1.0)
        event = event_create(
            text=RATE_HIKE, direction="up", intensity=1.0, chats=[chat], fire_at=NOW + timedelta(days=3650)
        )
        config, rng, fired_at = _config(scale_factor=1.0), random.Random(7), NOW + timedelta(minutes=10)
        per_minute: Counter[int] = Counter()
        for step in range(0, 40 * 60, 2):
            now = NOW + timedelta(seconds=step)
            if now == fired_at:
                assert event_fire(event_id=event.pk, now=now)
            Turn.objects.filter(status=Turn.Status.PLANNED).update(status=Turn.Status.SENT)
            per_minute[step // 60] += plan_tick(config=config, now=now, rng=rng).planned
        before = sum(per_minute[m] for m in range(0, 10)) / 2  # per five minutes
        first, second = (sum(per_minute[m] for m in range(start, start + 5)) for start in (10, 15))
        late = sum(per_minute[m] for m in range(35, 40))
        assert first > 2 * before
        assert first > second > late
        assert late < 2 * max(before, 1)


class SingleFiringTests(RedisTransactionTestCase):
    """However many processes try, an event fires once."""

    def test_two_concurrent_claimers_fire_it_once(self) -> None:
        chat = ChatFactory.create()
        event = scheduled([chat.pk], minutes=0.01)
        start, results = threading.Barrier(2), []

        def claim() -> None:
            try:
                start.wait()
                results.append(event_fire(event_id=event.pk))
            finally:
                connection.close()

        workers = [threading.Thread(target=claim) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(results) == [False, True]
        event.refresh_from_db()
        assert event.fired_at is not None
        assert list(event.chats.all()) == [chat]


class EventStanceTests(RedisTestCase):
    """A fired event moves the stances of its chats' bots on its symbols, once, each change recorded."""

    def setUp(self) -> None:
        super().setUp()
        self.chat = ChatFactory.create()
        self.bull = StanceFactory.create(topic="BIST:THYAO", polarity=Stance.Polarity.BULLISH, confidence=0.6)
        self.bear = StanceFactory.create(topic="BIST:THYAO", polarity=Stance.Polarity.BEARISH, confidence=0.6)
        self.elsewhere = StanceFactory.create(topic="BIST:THYAO", polarity=Stance.Polarity.BULLISH, confidence=0.6)
        for stance in (self.bull, self.bear):
            MembershipFactory.create(chat=self.chat, bot=stance.bot)
        MembershipFactory.create(chat=ChatFactory.create(), bot=self.elsewhere.bot)

    def confidences(self) -> tuple[float, float, float]:
        for stance in (self.bull, self.bear, self.elsewhere):
            stance.refresh_from_db()
        return self.bull.confidence, self.bear.confidence, self.elsewhere.confidence

    def test_good_news_firms_the_bulls_and_shakes_the_bears_of_its_chats_only(self) -> None:
        event = event_create(text=RATE_HIKE, direction="up", intensity=0.9, symbols=["THYAO"], chats=[self.chat])
        bull, bear, elsewhere = self.confidences()
        assert bull > 0.6 > bear
        assert elsewhere == 0.6
        changes = StanceChange.objects.filter(event_id=event.pk)
        assert sorted(changes.values_list("stance_id", flat=True)) == sorted([self.bull.pk, self.bear.pk])
        assert set(changes.values_list("cause_kind", "cause")) == {(StanceChange.Cause.EVENT, RATE_HIKE)}
        assert not event_fire(event_id=event.pk)  # fired once: a second claim moves nothing
        assert StanceChange.objects.count() == 2

    def test_a_mixed_event_moves_nobody(self) -> None:
        event_create(text=RATE_HIKE, direction="mixed", intensity=0.9, symbols=["THYAO"], chats=[self.chat])
        assert self.confidences() == (0.6, 0.6, 0.6)
        assert not StanceChange.objects.exists()

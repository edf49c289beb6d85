from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from redis import Redis

from bots.models import Bot, Stance
from bots.tests.factories import BotFactory, StanceFactory
from chats.models import Chat, Message
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from config.testing.cases import RedisTestCase
from engine.models import Turn
from engine.runtime_settings import RuntimeConfig
from engine.selectors import settings_all
from engine.services import limits
from engine.services.activity import PRIME_BOOST
from engine.services.planning import (
    MIN_GAP_S,
    NEXT_AT_KEY,
    DueChat,
    Speaker,
    TickResult,
    choose_kind,
    choose_speaker,
    choose_thread,
    next_gap_s,
    plan_tick,
)

# A Monday, 11:00 in Istanbul (UTC+3): inside market hours.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
GLOBAL_KEY = limits.PREFIX + limits.global_window(1).key


def _config(**overrides: Any) -> RuntimeConfig:
    """Simulation on, and no cap in the way unless a test asks for one."""
    uncapped = {
        "simulation_active": True,
        "max_msgs_per_min": 10_000,
        "bot_hourly_msg_limit": {"min": 1000, "max": 1000},
    }
    return settings_all().replace(**{**uncapped, **overrides})


def _chat(*bots: Bot, **fields: Any) -> Chat:
    chat = ChatFactory.create(**fields)
    for bot in bots:
        MembershipFactory.create(chat=chat, bot=bot)
    return chat


def _bots(count: int, **fields: Any) -> list[Bot]:
    return [BotFactory.create(**fields) for _ in range(count)]


def _tick(redis: Redis, *, seed: int, now: datetime = NOW, **config: Any) -> TickResult:
    """One tick after the previous turns went out: nothing in flight, every chat due."""
    Turn.objects.filter(status=Turn.Status.PLANNED).update(status=Turn.Status.SENT)
    redis.delete(NEXT_AT_KEY)
    return plan_tick(config=_config(**config), now=now, rng=random.Random(seed))


def _speakers(redis: Redis, ticks: int, **config: Any) -> Counter[int]:
    for seed in range(ticks):
        _tick(redis, seed=seed, **config)
    return Counter(Turn.objects.values_list("bot_id", flat=True))


@contextmanager
def _case(redis: Redis) -> Iterator[None]:
    """One case of a test run for several values, on its own as if a separate test: Redis empty at its start, and
    its database writes rolled back at its end (to a savepoint inside the test's transaction)."""
    redis.flushdb()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _due_chat(*, last_bot_id: int | None, last_message_id: int | None = 1) -> DueChat:
    return DueChat(
        1,
        "Europe/Istanbul",
        1.0,
        ["BIST"],
        last_bot_id=last_bot_id,
        last_message_id=last_message_id,
        config=RuntimeConfig(),
    )


def _speaker(bot_id: int, talkativeness: float = 0.5, interests: list[str] | None = None) -> Speaker:
    return Speaker(bot_id, f"Bot {bot_id}", "", talkativeness, [], {}, interests or [])


def _kinds(chat: DueChat, speaker: Speaker, config: RuntimeConfig, draws: int = 4000) -> Counter[str]:
    rng = random.Random(5)
    return Counter(choose_kind(chat, speaker=speaker, config=config, rng=rng)[0] for _ in range(draws))


def _planning_queries(redis: Redis, size: int) -> int:
    Turn.objects.all().delete()
    Message.objects.all().delete()
    Chat.objects.all().delete()
    bots = _bots(size)
    chat = _chat(*bots)
    for bot in bots:
        StanceFactory.create(bot=bot, topic="BIST:THYAO", polarity=Stance.Polarity.BULLISH)
    MessageFactory.create(chat=chat, bot=bots[0], sender_name="", metadata={"topic": "BIST:THYAO"})
    redis.delete(NEXT_AT_KEY)
    with CaptureQueriesContext(connection) as queries:
        assert plan_tick(config=_config(), now=NOW, rng=random.Random(1)).planned == 1
    return len(queries)


class PlanTickTests(RedisTestCase):
    """A tick plans one turn for each due chat that has an eligible bot and no turn in flight."""

    def test_a_due_chat_gets_one_planned_turn(self) -> None:
        chat = _chat(*_bots(3))
        result = plan_tick(config=_config(), now=NOW, rng=random.Random(1))
        assert result.planned == 1
        turn = Turn.objects.get()
        assert (turn.chat_id, turn.status) == (chat.pk, Turn.Status.PLANNED)
        assert turn.due_at >= NOW
        assert self.redis.hget(NEXT_AT_KEY, str(chat.pk)) is not None

    def test_a_chat_with_no_active_bot_is_deferred(self) -> None:
        _chat(BotFactory.create(active_hours=["20:00-22:00"]))
        result = _tick(self.redis, seed=1)
        assert (result.planned, result.deferred) == (0, {"no_eligible_bot": 1})

    def test_a_chat_with_a_turn_in_flight_gets_no_new_turn(self) -> None:
        for status in (Turn.Status.PLANNED, Turn.Status.GENERATING, Turn.Status.READY, Turn.Status.SENDING):
            with self.subTest(status=status), _case(self.redis):
                bot = BotFactory.create()
                chat = _chat(bot)
                Turn.objects.create(chat=chat, bot=bot, status=status, due_at=NOW)
                assert plan_tick(config=_config(), now=NOW, rng=random.Random(1)).planned == 0
                assert Turn.objects.count() == 1

    def test_a_finished_turn_does_not_block_the_chat(self) -> None:
        for status in (Turn.Status.SENT, Turn.Status.SKIPPED, Turn.Status.FAILED, Turn.Status.UNCONFIRMED):
            with self.subTest(status=status), _case(self.redis):
                bot = BotFactory.create()
                chat = _chat(bot)
                Turn.objects.create(chat=chat, bot=bot, status=status, due_at=NOW)
                assert plan_tick(config=_config(), now=NOW, rng=random.Random(1)).planned == 1

    def test_a_chat_is_not_planned_again_before_it_is_due(self) -> None:
        _chat(BotFactory.create())
        assert plan_tick(config=_config(), now=NOW, rng=random.Random(1)).planned == 1
        Turn.objects.update(status=Turn.Status.SENT)
        assert plan_tick(config=_config(), now=NOW, rng=random.Random(2)).planned == 0

    def test_disabled_chats_memberships_and_bots_are_never_planned(self) -> None:
        speaker, kicked, disabled = BotFactory.create(), BotFactory.create(), BotFactory.create(is_enabled=False)
        chat = ChatFactory.create()
        MembershipFactory.create(chat=chat, bot=speaker)
        MembershipFactory.create(chat=chat, bot=kicked, is_enabled=False, disabled_reason="bot was kicked")
        MembershipFactory.create(chat=chat, bot=disabled)
        paused = _chat(BotFactory.create(), is_enabled=False)
        _chat(kicked, disabled).memberships.filter(bot=kicked).update(is_enabled=False)
        _chat(BotFactory.create(), cadence=0.0)
        counts = _speakers(self.redis, 30)
        assert set(counts) == {speaker.pk}
        assert not Turn.objects.filter(chat=paused).exists()

    def test_nothing_is_planned_while_the_llm_asks_everyone_to_wait(self) -> None:
        from engine.services import budget

        _chat(*_bots(3))
        budget.rate_limited(30)
        result = plan_tick(config=_config(), now=NOW, rng=random.Random(1))
        assert (result.planned, result.deferred) == (0, {"llm_budget": 1})
        assert not Turn.objects.exists()

    def test_planning_queries_do_not_grow_with_the_number_of_bots(self) -> None:
        assert _planning_queries(self.redis, 10) == _planning_queries(self.redis, 100)


class SpeakerTests(RedisTestCase):
    """Who speaks: not twice in a row, by talkativeness and topic fit, within their active hours."""

    def test_no_bot_speaks_twice_in_a_row_when_others_are_eligible(self) -> None:
        bots = _bots(3)
        chat = _chat(*bots)
        rng = random.Random(7)
        for seed in range(40):
            last = rng.choice(bots)
            MessageFactory.create(chat=chat, bot=last, sender_name="")
            _tick(self.redis, seed=seed)
            assert Turn.objects.order_by("-id").first().bot_id != last.pk  # type: ignore[union-attr]

    def test_the_last_speaker_may_speak_again_when_nobody_else_is_eligible(self) -> None:
        talker, sleeper = BotFactory.create(), BotFactory.create(active_hours=["01:00-02:00"])
        chat = _chat(talker, sleeper)
        MessageFactory.create(chat=chat, bot=talker, sender_name="")
        _tick(self.redis, seed=1)
        assert Turn.objects.get().bot_id == talker.pk

    def test_the_only_eligible_bot_speaks_at_most_twice_in_a_row_and_the_chat_rests(self) -> None:
        talker, sleeper = BotFactory.create(), BotFactory.create(active_hours=["01:00-02:00"])
        chat = _chat(talker, sleeper)
        MessageFactory.create(chat=chat, bot=talker, sender_name="")
        MessageFactory.create(chat=chat, bot=talker, sender_name="")
        result = _tick(self.redis, seed=1)
        assert (result.planned, result.deferred, result.resting) == (0, {"alone": 1}, {chat.pk})
        assert not Turn.objects.exists()
        rested_until = float(self.redis.hget(NEXT_AT_KEY, str(chat.pk)))  # type: ignore[arg-type]
        assert rested_until >= NOW.timestamp() + MIN_GAP_S  # not retried every tick: the chat slows down
        MessageFactory.create(chat=chat, sender_name="Ali", text="Kimse yok mu?")
        assert _tick(self.redis, seed=2).planned == 1  # someone else spoke: the bot may answer

    def test_at_night_in_istanbul_the_demo_crowds_one_awake_bot_never_talks_three_times_in_a_row(self) -> None:
        from bots.demo import demo_crowd_create

        chat = demo_crowd_create().chat
        night = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 04:00 in Istanbul
        speakers: list[int | None] = []
        for seed in range(12):
            _tick(self.redis, seed=seed, now=night)
            turn = Turn.objects.filter(status=Turn.Status.PLANNED).first()
            speakers.append(turn.bot_id if turn is not None else None)
            if turn is not None:
                MessageFactory.create(chat=chat, bot_id=turn.bot_id, sender_name="")
        spoken = [bot for bot in speakers if bot is not None]
        assert len(set(spoken)) == 1  # Burak alone is awake
        assert len(spoken) == 2  # twice, then he waits
        assert Message.objects.filter(chat=chat).count() == 2

    def test_speakers_are_weighted_by_talkativeness(self) -> None:
        chatty, quiet = BotFactory.create(talkativeness=0.9), BotFactory.create(talkativeness=0.1)
        _chat(chatty, quiet)
        counts = _speakers(self.redis, 150)
        assert counts[chatty.pk] > 120
        assert counts[quiet.pk] > 0

    def test_the_membership_talkativeness_overrides_the_bots(self) -> None:
        chatty, quiet = BotFactory.create(talkativeness=0.9), BotFactory.create(talkativeness=0.1)
        chat = ChatFactory.create()
        MembershipFactory.create(chat=chat, bot=chatty, talkativeness=0.1)
        MembershipFactory.create(chat=chat, bot=quiet, talkativeness=0.9)
        counts = _speakers(self.redis, 100)
        assert counts[quiet.pk] > 75

    def test_topic_fit_boosts_a_bot_interested_in_the_current_topic(self) -> None:
        for interest in ("watchlist", "stance"):
            with self.subTest(interest=interest), _case(self.redis):
                if interest == "watchlist":
                    fan = BotFactory.create(persona={"watchlist": ["BIST:THYAO"]})
                else:
                    fan = BotFactory.create()
                    StanceFactory.create(bot=fan, topic="BIST:THYAO")
                others = _bots(2)
                chat = _chat(fan, *others)
                MessageFactory.create(chat=chat, text="THYAO nereye?", metadata={"topic": "THYAO"})
                counts = _speakers(self.redis, 150)
                # Equal talkativeness: 1/3 without the boost, 1/2 with it.
                assert counts[fan.pk] > 60

    def test_bots_outside_their_active_hours_in_istanbul_are_never_chosen(self) -> None:
        morning = BotFactory.create(active_hours=["09:00-12:00"])
        afternoon = BotFactory.create(active_hours=["13:00-18:00"])
        _chat(morning, afternoon, timezone="Europe/Istanbul")
        # 08:00 UTC is 11:00 in Istanbul; 11:00 UTC is 14:00 there (and 11:00 UTC would be "morning" in UTC).
        assert set(_speakers(self.redis, 20, now=NOW)) == {morning.pk}
        Turn.objects.all().delete()
        assert set(_speakers(self.redis, 20, now=NOW + timedelta(hours=3))) == {afternoon.pk}


class CapTests(RedisTestCase):
    """The per-bot hourly cap and the global per-minute cap, counted on the tick's clock."""

    def test_the_per_bot_hourly_cap_holds(self) -> None:
        bots = _bots(3)
        _chat(*bots)
        _chat(*bots)  # the cap counts across chats
        counts = _speakers(self.redis, 40, bot_hourly_msg_limit={"min": 2, "max": 4})
        hour = limits.hour_key(NOW)
        caps = {bot.pk: limits.hourly_cap(bot_id=bot.pk, hour=hour, low=2, high=4) for bot in bots}
        assert counts == Counter(caps)  # every bot used its cap, none went over it
        assert _tick(self.redis, seed=99, bot_hourly_msg_limit={"min": 2, "max": 4}).deferred == {"no_eligible_bot": 2}

    def test_the_next_hour_has_a_fresh_cap(self) -> None:
        bot = BotFactory.create()
        _chat(bot)
        _speakers(self.redis, 5, bot_hourly_msg_limit={"min": 1, "max": 1})
        assert Turn.objects.count() == 1
        assert _tick(
            self.redis, seed=1, now=NOW + timedelta(hours=1), bot_hourly_msg_limit={"min": 1, "max": 1}
        ).planned

    def test_the_global_cap_defers_chats_to_a_later_tick_and_drops_none(self) -> None:
        chats = [_chat(BotFactory.create()) for _ in range(5)]
        config = _config(max_msgs_per_min=2)
        first = plan_tick(config=config, now=NOW, rng=random.Random(1))
        assert first.planned == 2
        assert first.deferred.get("global_cap")
        assert plan_tick(config=config, now=NOW, rng=random.Random(2)).planned == 0
        for seed in range(3, 6):
            self.redis.delete(GLOBAL_KEY)  # a minute went by
            plan_tick(config=config, now=NOW, rng=random.Random(seed))
        assert sorted(Turn.objects.values_list("chat_id", flat=True)) == sorted(chat.pk for chat in chats)

    def test_the_global_cap_counts_minutes_on_the_tick_clock(self) -> None:
        chats = [_chat(BotFactory.create()) for _ in range(3)]
        config = _config(max_msgs_per_min=1)
        later = datetime.now(UTC) + timedelta(days=1)
        for minute in range(3):
            Turn.objects.update(status=Turn.Status.SENT)
            plan_tick(config=config, now=later + timedelta(minutes=minute, seconds=1), rng=random.Random(minute))
        assert sorted(Turn.objects.values_list("chat_id", flat=True)) == sorted(chat.pk for chat in chats)

    def test_the_next_due_time_is_counted_from_the_tick_clock(self) -> None:
        chat = _chat(BotFactory.create())
        later = datetime.now(UTC) + timedelta(days=1)
        plan_tick(config=_config(), now=later, rng=random.Random(1))
        next_at = float(self.redis.hget(NEXT_AT_KEY, str(chat.pk)) or 0)
        assert next_at >= later.timestamp() + MIN_GAP_S
        Turn.objects.update(status=Turn.Status.SENT)
        assert plan_tick(config=_config(), now=later + timedelta(seconds=1), rng=random.Random(2)).planned == 0

    def test_under_a_saturated_global_cap_no_chat_starves(self) -> None:
        chats = [_chat(BotFactory.create(), cadence=20.0) for _ in range(4)]
        config = _config(max_msgs_per_min=2)
        start = datetime.now(UTC)
        for minute in range(4):
            Turn.objects.update(status=Turn.Status.SENT)
            self.redis.delete(GLOBAL_KEY)  # a minute went by (whatever clock the limiter reads)
            plan_tick(config=config, now=start + timedelta(minutes=minute), rng=random.Random(minute))
        planned = Counter(Turn.objects.values_list("chat_id", flat=True))
        assert set(planned) == {chat.pk for chat in chats}


class ChooseKindTests(RedisTestCase):
    """choose_kind: a reaction, a reply or a proactive message, by the configured probabilities."""

    def test_choose_kind_follows_the_configured_probabilities(self) -> None:
        config = _config(short_reaction_probability=0.2, reply_to_bots_probability=0.5, reply_probability=0.75)
        after_bot = _kinds(_due_chat(last_bot_id=2), _speaker(1), config)
        assert after_bot[Turn.Kind.REACTION] / 4000 == pytest.approx(0.2, abs=0.03)
        assert after_bot[Turn.Kind.REPLY] / 4000 == pytest.approx(0.8 * 0.5, abs=0.03)
        assert after_bot[Turn.Kind.PROACTIVE] / 4000 == pytest.approx(0.8 * 0.5, abs=0.03)
        after_member = _kinds(_due_chat(last_bot_id=None), _speaker(1), config)
        assert after_member[Turn.Kind.REPLY] / 4000 == pytest.approx(0.8 * 0.75, abs=0.03)

    def test_choose_kind_reacts_to_the_latest_message_of_someone_else_only(self) -> None:
        config = _config(short_reaction_probability=1.0)
        kind, target = choose_kind(
            _due_chat(last_bot_id=2, last_message_id=42), speaker=_speaker(1), config=config, rng=random.Random(1)
        )
        assert (kind, target) == (Turn.Kind.REACTION, 42)
        assert Turn.Kind.REACTION not in _kinds(_due_chat(last_bot_id=1), _speaker(1), config, draws=200)

    def test_where_reactions_are_off_the_turn_is_a_text_one_instead(self) -> None:
        config = _config(short_reaction_probability=1.0, reply_to_bots_probability=1.0)
        chat = _due_chat(last_bot_id=2)
        chat.can_react = False
        assert set(_kinds(chat, _speaker(1), config, draws=200)) == {Turn.Kind.REPLY}

    def test_a_tick_reads_whether_each_chat_allows_reactions_with_its_chats(self) -> None:
        bots = _bots(2)
        off, on = _chat(*bots, available_reactions=[]), _chat(*bots, available_reactions=["👍"])
        for chat in (off, on):
            MessageFactory.create(chat=chat, bot=None, sender_name="Ayşe")
        for seed in range(20):
            _tick(self.redis, seed=seed, short_reaction_probability=1.0)
        kinds = Counter(Turn.objects.values_list("chat_id", "kind"))
        assert kinds[(off.pk, Turn.Kind.REACTION)] == 0
        assert kinds[(on.pk, Turn.Kind.REACTION)] > 0

    def test_an_empty_chat_gets_a_proactive_message(self) -> None:
        config = _config(short_reaction_probability=1.0, reply_probability=1.0)
        assert set(_kinds(_due_chat(last_bot_id=None, last_message_id=None), _speaker(1), config, 200)) == {
            Turn.Kind.PROACTIVE
        }


class ChatOverridesTests(RedisTestCase):
    """A chat's overrides of the runtime settings steer its own turns only."""

    def test_a_chat_with_reply_probability_zero_never_replies_while_another_does(self) -> None:
        quiet = _chat(*_bots(2), settings_overrides={"reply_probability": 0, "reply_to_bots_probability": 0})
        chatty = _chat(*_bots(2))
        for chat in (quiet, chatty):
            MessageFactory.create(chat=chat, sender_name="Ayşe", text="BIST ne olur?")
        for seed in range(20):
            _tick(self.redis, seed=seed, reply_probability=1, reply_to_bots_probability=1, short_reaction_probability=0)
        kinds = {
            chat.pk: set(Turn.objects.filter(chat=chat).values_list("kind", flat=True)) for chat in (quiet, chatty)
        }
        assert kinds[quiet.pk] == {Turn.Kind.PROACTIVE}
        assert Turn.Kind.REPLY in kinds[chatty.pk]

    def test_a_chats_prime_hours_set_its_own_activity(self) -> None:
        own_hours = {"prime_hours": ["10:00-12:00"]}  # NOW is 11:00 in Istanbul
        _chat(BotFactory.create(), cadence=1.0, settings_overrides=own_hours)
        _chat(BotFactory.create(), cadence=2.0)
        _chat(BotFactory.create(), cadence=3.0, settings_overrides={**own_hours, "prime_hours_boost": False})
        with patch("engine.services.planning.next_gap_s", wraps=next_gap_s) as gaps:
            _tick(self.redis, seed=1, prime_hours=["20:00-21:00"])
        activity = {call.args[0]: call.kwargs["activity"] for call in gaps.call_args_list}  # by cadence
        assert activity == {1.0: PRIME_BOOST, 2.0: 1.0, 3.0: 1.0}

    def test_overrides_cost_the_tick_no_query(self) -> None:
        plain = _planning_queries(self.redis, 10)
        Chat.objects.update(settings_overrides={"reply_probability": 0.2})
        Turn.objects.all().delete()
        self.redis.delete(NEXT_AT_KEY)
        with CaptureQueriesContext(connection) as queries:
            assert plan_tick(config=_config(), now=NOW, rng=random.Random(1)).planned == 1
        assert len(queries) == plain


class ChooseSpeakerTests(RedisTestCase):
    """choose_speaker on its own."""

    def test_choose_speaker_weights_talkativeness_and_topic_fit(self) -> None:
        rng = random.Random(11)
        chatty, quiet, fan = _speaker(1, 0.6), _speaker(2, 0.2), _speaker(3, 0.2, ["BIST:THYAO"])
        picks = Counter(
            choose_speaker([chatty, quiet, fan], last_bot_id=None, topic="THYAO", rng=rng).bot_id for _ in range(5000)
        )
        # Weights 0.6, 0.2 and 0.2 × 2 (topic fit): 60 %, 20 %, 40 % of 1.0.
        assert picks[1] / 5000 == pytest.approx(0.6 / 1.2, abs=0.03)
        assert picks[3] / 5000 == pytest.approx(0.4 / 1.2, abs=0.03)
        assert 3 not in {choose_speaker([chatty, fan], last_bot_id=3, topic="THYAO", rng=rng).bot_id for _ in range(50)}


class ChooseThreadTests(RedisTestCase):
    """choose_thread: where a forum's proactive post goes."""

    THREADS = [
        {"thread_id": 12, "name": "Kripto", "topic": "Kripto", "closed": False},
        {"thread_id": 14, "name": "Borsa", "topic": "BIST", "closed": False},
        {"thread_id": 16, "name": "Kapalı", "topic": "FX", "closed": True},
        {"thread_id": 18, "name": "Sohbet", "topic": None, "closed": False},
    ]

    def test_an_open_mapped_thread_is_chosen_by_the_bot_s_fit_with_its_topic(self) -> None:
        rng = random.Random(3)
        picks = Counter(
            choose_thread(self.THREADS, speaker=_speaker(1, interests=["Kripto"]), rng=rng) for _ in range(3000)
        )
        assert set(picks) == {12, 14}  # never a closed thread, nor one without a topic
        assert picks[12] / 3000 == pytest.approx(2 / 3, abs=0.04)

    def test_a_forum_without_open_mapped_threads_and_a_chat_without_topics_post_in_general(self) -> None:
        closed = [{**thread, "closed": True} for thread in self.THREADS[:3]]
        assert choose_thread(closed, speaker=_speaker(1), rng=random.Random(1)) is None
        assert choose_thread([], speaker=_speaker(1), rng=random.Random(1)) is None

    def test_a_tick_plans_a_forum_s_post_into_a_mapped_thread_and_a_plain_chat_s_without_one(self) -> None:
        forum = _chat(*_bots(2), is_forum=True, forum_threads=self.THREADS[:2])
        plain = _chat(*_bots(2), forum_threads=self.THREADS[:2])  # not a forum (any more): no threads
        assert plan_tick(config=_config(short_reaction_probability=0.0), now=NOW, rng=random.Random(1)).planned == 2
        assert Turn.objects.get(chat=forum).thread_id in {12, 14}
        assert Turn.objects.get(chat=plain).thread_id is None


class NextGapTests(RedisTestCase):
    """The gaps between a chat's messages."""

    def test_next_gaps_average_the_cadence_without_poisson_bursts(self) -> None:
        from engine.services.planning import next_gap_s

        rng = random.Random(7)
        gaps = [next_gap_s(2.0, scale=1.0, activity=1.0, rng=rng) for _ in range(4000)]
        mean = sum(gaps) / len(gaps)
        assert 28.0 < mean < 32.0  # 2 messages a minute
        # Exponential gaps would put ~5 % beyond three times the mean; gamma(3) puts ~0.6 % there.
        assert sum(gap > 90 for gap in gaps) / len(gaps) < 0.02
        assert min(gaps) >= 1.0

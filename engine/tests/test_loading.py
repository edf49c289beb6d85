from __future__ import annotations

import random

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceFactory
from chats.models import Message
from chats.tests.factories import ChatFactory, MessageFactory
from engine.models import Turn
from engine.selectors import settings_all
from engine.services.context import build_context
from engine.services.loading import HOLDINGS_LIMIT, OWN_TEXTS_LIMIT, bot_facts, latest_messages, load_batch
from engine.tests.factories import TurnFactory, crowd, say


def _busy_chat_turn(*, old_target: bool = False) -> Turn:
    """A reply turn in a chat with a long history, whose bot has stances, holdings, memories and past statements."""
    chat, (me, other) = crowd(2)
    for n in range(25):
        say(chat, f"BIST {n} ne olur?", bot=other if n % 2 else None, sender_name="Ayşe", minutes_ago=30 - n)
    say(chat, "BIST yorumum", bot=me, metadata={"topic": "BIST"}, minutes_ago=31)
    StanceFactory.create(bot=me, topic="BIST")
    HoldingFactory.create(bot=me, symbol="BIST:THYAO")
    MemoryFactory.create(bot=me, content="BIST hatırası")
    target = say(chat, "Eski soru?", sender_name="Ali", minutes_ago=120) if old_target else None
    kind = Turn.Kind.PRIORITY_REPLY if old_target else Turn.Kind.REPLY
    return TurnFactory.create(chat=chat, bot=me, kind=kind, reply_to=target)


class HistoryTests(TestCase):
    def test_latest_messages_are_the_newest_n_oldest_first(self) -> None:
        chat = ChatFactory.create()
        say(ChatFactory.create(), "another chat", minutes_ago=0)
        for n in range(30):
            say(chat, f"message {n}", minutes_ago=30 - n)
        assert [m.text for m in latest_messages(chat.pk)] == [f"message {n}" for n in range(10, 30)]
        assert [m.text for m in latest_messages(chat.pk, limit=3)] == ["message 27", "message 28", "message 29"]

    def test_latest_messages_break_timestamp_ties_by_id(self) -> None:
        chat = ChatFactory.create()
        messages = [MessageFactory.create(chat=chat, text=f"m{n}") for n in range(5)]
        Message.objects.filter(chat=chat).update(created_at=timezone.now())
        assert [m.pk for m in latest_messages(chat.pk, limit=3)] == [m.pk for m in messages[2:]]


class LoadBatchTests(TestCase):
    def test_a_batch_of_one_and_a_batch_of_sixteen_cost_the_same_queries(self) -> None:
        config = settings_all()
        one = [_busy_chat_turn(old_target=True).pk]
        sixteen = [_busy_chat_turn(old_target=n % 2 == 0).pk for n in range(16)]
        counts = []
        for turn_ids in (one, sixteen):
            with CaptureQueriesContext(connection) as queries:
                loaded = load_batch(turn_ids, config=config)
            counts.append(len(queries))
            assert [item.turn.pk for item in loaded] == turn_ids
        # turns with chats and bots, memberships; each chat's oldest kept time, the messages since; the targets
        # older than the histories; stances, holdings, memories; the chats' recent bot texts, and the texts of
        # those stored without their normal form (these factories' messages); the chats' fresh market events.
        assert counts == [11, 11]

    def test_each_turn_carries_its_chats_config_at_no_extra_query(self) -> None:
        config = settings_all().replace(reply_probability=0.5)
        plain, own = _busy_chat_turn(), _busy_chat_turn()
        Message.objects.update(text_normalized="normalised")  # no second read of unfolded texts
        with CaptureQueriesContext(connection) as before:
            load_batch([plain.pk, own.pk], config=config)
        own.chat.settings_overrides = {"mention_probability": 1, "compliance_guard_enabled": False}
        own.chat.save()
        with CaptureQueriesContext(connection) as queries:
            loaded = {item.turn.pk: item.config for item in load_batch([plain.pk, own.pk], config=config)}
        assert len(queries) == len(before)
        assert loaded[plain.pk] is config
        assert (loaded[own.pk].mention_probability, loaded[own.pk].compliance_guard_enabled) == (1.0, False)
        assert loaded[own.pk].reply_probability == 0.5

    def test_forum_turns_read_their_own_thread_in_the_same_queries(self) -> None:
        config = settings_all()
        plain = _busy_chat_turn(old_target=True)
        forum, (me, other) = crowd(2)
        for n in range(24):
            say(forum, f"thread {n % 3} line {n}", bot=other if n % 2 else None, thread_id=[None, 12, 14][n % 3])
        say(forum, "thread 1 mine", bot=me, thread_id=12, minutes_ago=5, text_normalized="thread 1 mine")
        turns = [TurnFactory.create(chat=forum, bot=me, kind=Turn.Kind.REPLY, thread_id=thread) for thread in (12, 14)]
        with CaptureQueriesContext(connection) as plain_only:
            load_batch([plain.pk], config=config)
        with CaptureQueriesContext(connection) as queries:
            loaded = load_batch([plain.pk, *[turn.pk for turn in turns]], config=config)
        assert len(queries) == len(plain_only)  # as for chats without topics
        in_12, in_14 = loaded[1], loaded[2]
        assert {m.text[:8] for m in in_12.history} == {"thread 1"}
        assert {m.text[:8] for m in in_14.history} == {"thread 2"}
        assert in_12.own_texts == ["thread 1 mine"]  # dedup and the bot's own texts: the thread's
        assert in_14.own_texts == []
        assert "thread 1 mine" in in_12.recent_texts
        assert "thread 1 mine" not in in_14.recent_texts
        assert len(loaded[0].history) == 20

    def test_what_a_batch_loads_is_what_the_turn_loaded_alone_gets(self) -> None:
        config = settings_all()
        turn = _busy_chat_turn()
        others = [_busy_chat_turn(old_target=True).pk for _ in range(3)]
        (alone,) = load_batch([turn.pk], config=config)
        together = {item.turn.pk: item for item in load_batch([*others, turn.pk], config=config)}[turn.pk]
        assert together.history == alone.history
        assert len(together.history) == 20
        assert together.facts == alone.facts
        assert (together.target, together.refresh, together.recent_texts) == (
            alone.target,
            alone.refresh,
            alone.recent_texts,
        )
        built = [build_context(item, config=config, rng=random.Random(5)) for item in (alone, together)]
        assert built[0].target == built[1].target
        assert built[0].topic == built[1].topic

    def test_a_target_older_than_the_history_is_loaded_with_the_batch(self) -> None:
        turn = _busy_chat_turn(old_target=True)
        (loaded,) = load_batch([turn.pk], config=settings_all())
        assert loaded.target is not None
        assert (loaded.target.pk, loaded.target.text, loaded.target.speaker_label) == (
            turn.reply_to_id,
            "Eski soru?",
            "Ali",
        )
        assert loaded.target.pk not in {message.pk for message in loaded.history}
        assert loaded.target.addressed_bot_id == turn.bot_id  # read with it: the bot of its priority reply

    def test_the_bots_own_recent_messages_come_normalised_newest_first_and_bounded(self) -> None:
        turn = _busy_chat_turn()
        for n in range(OWN_TEXTS_LIMIT + 2):
            say(turn.chat, f"Benim {n}. sözüm!", bot=turn.bot, minutes_ago=0)
        (loaded,) = load_batch([turn.pk], config=settings_all())
        newest = [f"benim {n} sozum" for n in reversed(range(OWN_TEXTS_LIMIT + 2))]
        assert loaded.own_texts == newest[:OWN_TEXTS_LIMIT]
        assert "bist 1 ne olur" in loaded.recent_texts  # the other bot's: in the dedup texts, not the own ones
        assert build_context(loaded, config=settings_all(), rng=random.Random(1)).own_texts == loaded.own_texts

    def test_no_membership_means_no_refresh_state_and_no_dedup_texts_when_dedup_is_off(self) -> None:
        turn = TurnFactory.create()
        (loaded,) = load_batch([turn.pk], config=settings_all().replace(dedup_enabled=False))
        assert loaded.refresh is None
        assert loaded.recent_texts == []

    def test_turns_that_do_not_exist_are_left_out(self) -> None:
        turn = TurnFactory.create()
        assert [item.turn.pk for item in load_batch([turn.pk + 1000, turn.pk], config=settings_all())] == [turn.pk]


class BotFactsTests(TestCase):
    def test_a_batchs_bots_get_their_own_first_holdings_and_most_relevant_memories(self) -> None:
        rich, poor, other = BotFactory.create_batch(3)
        for n in range(HOLDINGS_LIMIT + 3):  # more than its share, fewer than the whole batch's bound
            HoldingFactory.create(bot=rich, symbol=f"SYM{n}")
        HoldingFactory.create(bot=other, symbol="THYAO")
        for relevance in (0.2, 0.9, 0.5):
            MemoryFactory.create(bot=poor, relevance=relevance)

        with CaptureQueriesContext(connection) as queries:
            facts = bot_facts([rich, poor, other])

        assert len(queries) == 3  # stances, holdings, memories: one query each for the batch's bots
        assert [h.symbol for h in facts[rich.pk].holdings] == sorted(f"SYM{n}" for n in range(HOLDINGS_LIMIT + 3))[:5]
        assert [h.symbol for h in facts[other.pk].holdings] == ["THYAO"]
        assert facts[poor.pk].holdings == []
        assert [m.relevance for m in facts[poor.pk].memories] == [0.9, 0.5, 0.2]

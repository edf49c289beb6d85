"""Each hand-built statement returns and writes what its ORM reference does, on this run's database (CI runs the
suite on SQLite and on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from bots.models import Bot
from bots.tests.factories import BotFactory
from chats.models import Chat, Message
from chats.tests.factories import ChatFactory, MessageFactory
from engine import queries
from engine.models import Turn
from engine.tests.factories import TurnFactory

T = TypeVar("T")
TURN_FIELDS = ("status", "text", "attempts", "cost_usd", "inputs", "send_at", "reply_to_id", "llm_latency_ms")


def _rolled_back(write: Callable[[], T]) -> tuple[T, list[tuple[Any, ...]]]:
    """What a write returned and the turns it left, undone afterwards so the other form starts from the same rows."""
    with transaction.atomic():
        returned = write()
        rows = list(Turn.objects.order_by("pk").values_list("pk", *TURN_FIELDS))
        transaction.set_rollback(True)
    return returned, rows


def _message(chat: Any, text: str, *, minutes_ago: float, **fields: Any) -> Message:
    message = MessageFactory.create(chat=chat, text=text, **fields)
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return message


class MessageReadsTests(TestCase):
    bots: list[Bot]
    chats: list[Chat]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.bots = [BotFactory.create() for _ in range(3)]
        cls.chats = [ChatFactory.create() for _ in range(3)]
        for n in range(12):
            chat, bot = cls.chats[n % 3], cls.bots[n % 2] if n % 4 else None
            topic = ["BIST", "FX", "Kripto"][n % 3]
            _message(chat, f"message {n}", minutes_ago=n // 2, bot=bot, metadata={"topic": topic})
        _message(cls.chats[0], "tied", minutes_ago=0, bot=cls.bots[2], metadata={"topic": "BIST"})
        for n in range(4):  # a forum thread of the third chat
            _message(cls.chats[2], f"thread 12 message {n}", minutes_ago=n, bot=cls.bots[n % 2], thread_id=12)
        Message.objects.filter(text__in=["message 0", "tied"]).update(created_at=timezone.now())
        Message.objects.filter(text="message 3").update(text_normalized="message 3")
        asked = _message(cls.chats[1], "@bot THYAO?", minutes_ago=0.5)
        TurnFactory.create(chat=cls.chats[1], bot=cls.bots[1], kind=Turn.Kind.PRIORITY_REPLY, reply_to=asked)
        TurnFactory.create(chat=cls.chats[1], bot=cls.bots[0], kind=Turn.Kind.REPLY, reply_to=asked)
        _message(cls.chats[1], "THYAO güçlü", minutes_ago=0.2, bot=cls.bots[1], reply_to=asked)
        dropped = _message(cls.chats[1], "@bot EREGL?", minutes_ago=0.1)
        TurnFactory.create(
            chat=cls.chats[1],
            bot=cls.bots[0],
            kind=Turn.Kind.PRIORITY_REPLY,
            reply_to=dropped,
            status=Turn.Status.FAILED,
        )

    def test_messages_since_matches_its_reference(self) -> None:
        now = timezone.now()
        bounds = [
            (self.chats[0].pk, None, now - timedelta(minutes=3)),
            (self.chats[1].pk, None, None),
            (self.chats[2].pk, None, now - timedelta(minutes=30)),
            (self.chats[2].pk, 12, now - timedelta(minutes=2.5)),
            (self.chats[0].pk, 12, None),
        ]
        rows = queries.messages_since(bounds)
        assert rows == queries.messages_since_orm(bounds)
        assert {row.chat_id for row in rows} == {chat.pk for chat in self.chats}
        threaded = [row.text for row in rows if row.thread_id == 12]
        assert threaded == ["thread 12 message 0", "thread 12 message 1", "thread 12 message 2"]
        assert not any(row.thread_id == 12 for row in queries.messages_since([(self.chats[2].pk, None, None)]))
        assert any(row.bot_name for row in rows)
        assert any(row.bot_id is None for row in rows)
        assert queries.messages_since([]) == queries.messages_since_orm([]) == []

    def test_history_rows_say_what_each_message_answers_and_which_bot_a_members_message_is_for(self) -> None:
        rows = {row.text: row for row in queries.messages_since([(self.chats[1].pk, None, None)])}
        asked, answer = rows["@bot THYAO?"], rows["THYAO güçlü"]
        assert (asked.addressed_bot_id, asked.reply_to_id) == (self.bots[1].pk, None)  # its priority reply's bot
        assert (answer.addressed_bot_id, answer.reply_to_id) == (None, asked.pk)
        assert rows["@bot EREGL?"].addressed_bot_id is None  # its priority reply failed: anyone may answer it
        assert rows == {row.text: row for row in queries.messages_since_orm([(self.chats[1].pk, None, None)])}

    def test_own_statements_match_their_reference(self) -> None:
        def grouped(rows: list[tuple[int, str, str]]) -> dict[tuple[int, str], list[str]]:
            found: dict[tuple[int, str], list[str]] = {}
            for bot_id, topic, text in rows:
                found.setdefault((bot_id, topic), []).append(text)
            return found

        bots, topics = [bot.pk for bot in self.bots], ["BIST", "FX", "Makro"]
        for limit in (1, 2, 10):
            with self.subTest(limit=limit):
                rows = queries.own_statements(bots, topics, limit)
                assert grouped(rows) == grouped(queries.own_statements_orm(bots, topics, limit))
                assert rows
                assert all(len(texts) <= limit for texts in grouped(rows).values())
        assert queries.own_statements([], topics, 3) == []

    def test_recent_bot_texts_match_their_reference(self) -> None:
        chats = [chat.pk for chat in self.chats]
        for since, limit in ((timezone.now() - timedelta(hours=1), 2), (timezone.now() - timedelta(minutes=2), 10)):
            with self.subTest(limit=limit):
                rows = queries.recent_bot_texts(chats, since, limit)
                assert rows == queries.recent_bot_texts_orm(chats, since, limit)
                assert rows
                assert {row[4] for row in rows} == {None, 12}  # the thread of each
        assert queries.recent_bot_texts([], timezone.now(), 3) == []


class TurnWritesTests(TestCase):
    target: Message
    ids: list[int]

    @classmethod
    def setUpTestData(cls) -> None:
        chat, bot = ChatFactory.create(), BotFactory.create()
        cls.target = MessageFactory.create(chat=chat, text="?")
        cls.ids = [TurnFactory.create(chat=chat, bot=bot, attempts=n).pk for n in range(4)]
        Turn.objects.filter(pk=cls.ids[2]).update(status=Turn.Status.READY)

    def test_turns_move_matches_its_reference(self) -> None:
        values = {
            "status": Turn.Status.GENERATING,
            "text": "Selam",
            "cost_usd": Decimal("0.00012345"),
            "inputs": {"topic": "BIST", "memories": [1, 2], "headline": None},
            "send_at": timezone.now(),
            "reply_to": self.target,
            "llm_latency_ms": None,
        }

        def move(form: Callable[..., set[int]]) -> Callable[[], set[int]]:
            return lambda: form(self.ids, from_status=Turn.Status.PLANNED, values=values, increments={"attempts": 2})

        hand_built, orm = _rolled_back(move(queries.turns_move)), _rolled_back(move(queries.turns_move_orm))
        assert hand_built == orm
        assert hand_built[0] == {self.ids[0], self.ids[1], self.ids[3]}
        assert queries.turns_move([], from_status="planned", values={"text": ""}, increments={}) == set()

    def test_turns_move_each_matches_its_reference(self) -> None:
        rows = {turn_id: {"text": f"text {turn_id}", "attempts": n + 5} for n, turn_id in enumerate(self.ids)}
        shared = {"status": Turn.Status.GENERATING, "send_at": timezone.now()}

        def move(form: Callable[..., set[int]]) -> Callable[[], set[int]]:
            return lambda: form(rows, from_status=Turn.Status.PLANNED, shared=shared)

        hand_built, orm = _rolled_back(move(queries.turns_move_each)), _rolled_back(move(queries.turns_move_each_orm))
        assert hand_built == orm
        assert hand_built[0] == {self.ids[0], self.ids[1], self.ids[3]}
        assert queries.turns_move_each({}, from_status="planned", shared={}) == set()

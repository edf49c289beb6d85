from __future__ import annotations

import datetime as dt

from django.test import TestCase
from django.utils import timezone

from bots.tests.factories import BotFactory
from chats.models import Message
from chats.tests.factories import ChatFactory, MessageFactory
from engine.models import Turn
from engine.tests.factories import TurnFactory
from monitoring.series import activity_series

NOW = dt.datetime(2026, 11, 24, 12, 30, 40, tzinfo=dt.UTC)


def _at(minutes_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes_ago)


class ActivitySeriesTests(TestCase):
    def setUp(self) -> None:
        self.chat = ChatFactory.create()
        self.bot = BotFactory.create()

    def message(self, *, minutes_ago: float, bot: bool) -> None:
        message = MessageFactory.create(chat=self.chat, bot=self.bot if bot else None)
        Message.objects.filter(pk=message.pk).update(created_at=_at(minutes_ago))

    def test_it_counts_bot_and_member_messages_per_minute_oldest_first(self) -> None:
        self.message(minutes_ago=0.2, bot=True)  # 12:30:28
        self.message(minutes_ago=0.5, bot=True)  # 12:30:10
        self.message(minutes_ago=1.5, bot=False)  # 12:29:10
        self.message(minutes_ago=90, bot=True)  # outside the window
        series = activity_series(minutes=3, now=NOW)
        minute = int(NOW.replace(second=0).timestamp())
        self.assertEqual(series["minutes"], [minute - 120, minute - 60, minute])
        self.assertEqual(series["bot_messages"], [0, 0, 2])
        self.assertEqual(series["member_messages"], [0, 1, 0])
        self.assertEqual(series["messages_last_minute"], 2)

    def test_it_averages_llm_latency_and_sums_tokens_of_generated_turns(self) -> None:
        for latency, tokens_in in ((400, 100), (600, 300)):
            TurnFactory.create(
                chat=self.chat, bot=self.bot, status=Turn.Status.READY, ready_at=_at(0.1), llm_calls=1,
                llm_latency_ms=latency, tokens_in=tokens_in, tokens_out=20,
            )  # fmt: skip
        TurnFactory.create(chat=self.chat, bot=self.bot, status=Turn.Status.READY, ready_at=_at(0.1), llm_calls=0)
        series = activity_series(minutes=2, now=NOW)
        self.assertEqual(series["llm_latency_ms_avg"], [None, 500.0])
        self.assertEqual(series["llm_latency_ms_max"], [None, 600])
        self.assertEqual(series["tokens_prompt"], [0, 400])
        self.assertEqual(series["tokens_completion"], [0, 40])

    def test_it_counts_failed_turns_by_the_minute_they_failed(self) -> None:
        TurnFactory.create(chat=self.chat, bot=self.bot, status=Turn.Status.FAILED, finished_at=_at(1.2))
        TurnFactory.create(chat=self.chat, bot=self.bot, status=Turn.Status.SENT, finished_at=_at(1.2))
        self.assertEqual(activity_series(minutes=2, now=NOW)["failed_turns"], [1, 0])

    def test_it_uses_the_current_time_by_default(self) -> None:
        series = activity_series(minutes=60)
        self.assertEqual(len(series["minutes"]), 60)
        self.assertLessEqual(series["minutes"][-1], timezone.now().timestamp())

from __future__ import annotations

import itertools
import time

from django.core.management import call_command

from bots.models import Bot
from bots.services import bot_set_token
from chats.models import Chat, Message
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for
from engine import jobs
from engine.models import Turn
from engine.services import settings_update
from engine.tests.pipeline import FAST_SPEED, drain

CHAT_ID = -1001234567


def demo_crowd_on_telegram(fake: FakeTelegram) -> Chat:
    call_command("create_demo_crowd", stdout=open("/dev/null", "w"))  # noqa: SIM115
    chat = Chat.objects.get()
    Chat.objects.filter(pk=chat.pk).update(transport=Chat.Transport.TELEGRAM, telegram_chat_id=CHAT_ID, cadence=20)
    for bot in Bot.objects.all():
        bot_set_token(bot=bot, token=fake.add_bot(username=bot.username).token)
        Bot.objects.filter(pk=bot.pk).update(speed=FAST_SPEED, active_hours=[])
    settings_update(
        values={
            "simulation_active": True,
            "scale_factor": 10.0,
            "max_msgs_per_min": 600,
            "bot_hourly_msg_limit": {"min": 100, "max": 100},
        }
    )
    return Chat.objects.get()


def run_simulation(seconds: float, *, until_messages: int) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and Message.objects.count() < until_messages:
        jobs.tick()
        drain(0.3)


class DemoCrowdTelegramTests(RedisTransactionTestCase):
    """The demo crowd, simulated against a fake Bot API server with the offline LLM provider."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")

    def test_the_demo_crowd_talks_through_telegram_with_typing_before_each_message(self) -> None:
        fake = self.fake
        demo_crowd_on_telegram(fake)
        run_simulation(40, until_messages=8)
        settings_update(values={"simulation_active": False})
        drain(10, until=lambda: not Turn.objects.exclude(status__in=Turn.TERMINAL).exists())

        sent = fake.requests("sendMessage")
        assert len(sent) >= 8
        assert Message.objects.filter(bot__isnull=False).count() == len(sent)
        for token in {request.token for request in sent}:
            # Since this bot's previous message, it showed "typing…" before sending the next one.
            methods = [r.method for r in fake.requests(token=token) if r.method in ("sendChatAction", "sendMessage")]
            for index, method in enumerate(methods):
                if method == "sendMessage":
                    assert index > 0, methods
                    assert methods[index - 1] == "sendChatAction", methods
        speakers = list(Message.objects.order_by("id").values_list("bot_id", flat=True))
        assert all(a != b for a, b in itertools.pairwise(speakers)), "no bot speaks twice in a row"
        texts = list(Message.objects.values_list("text", flat=True))
        assert len(set(texts)) == len(texts)
        assert not Turn.objects.exclude(status__in=Turn.TERMINAL).exists()
        assert Turn.objects.filter(status=Turn.Status.SENT).count() >= 8

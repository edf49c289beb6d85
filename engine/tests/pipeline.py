"""Helpers for pipeline tests: a fast crowd wired to the fake servers, and draining RQ in-process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import django_rq
from rq import SimpleWorker

from bots.models import Bot
from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, membership_add
from config.testing.fake_telegram import FakeTelegram

FAST_SPEED: dict[str, Any] = {
    "base_delay_s": 0,
    "delay_multiplier": 1,
    "jitter_s": [0, 0],
    "min_delay_s": 0,
    "max_delay_s": 0.2,
    "typing_cps": [30, 30],
    "min_typing_s": 0.2,
    "max_typing_s": 0.4,
}
QUEUES = ("high", "default", "low")


def drain(seconds: float = 10.0, *, until: Callable[[], bool] | None = None) -> None:
    """Run every queued and due scheduled job in this process until idle (or `until()` holds)."""
    queues = [django_rq.get_queue(name) for name in QUEUES]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        SimpleWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=True)
        if until is not None and until():
            return
        if until is None and not sum(len(q) + q.scheduled_job_registry.count for q in queues):
            return
        time.sleep(0.05)
    if until is not None:
        raise AssertionError("condition not reached before the deadline")


def telegram_crowd(fake: FakeTelegram, *, size: int = 3, chat_id: int = -100500) -> tuple[Chat, list[Bot]]:
    """A Telegram-transport chat whose bots are registered with the fake Bot API, all typing fast."""
    chat = chat_create(title="Borsa Grubu", transport=Chat.Transport.TELEGRAM, telegram_chat_id=chat_id, cadence=20)
    bots = []
    for index in range(size):
        registered = fake.add_bot(username=f"crowd{index}_bot")
        bot = bot_create(name=f"Bot {index}", username=registered.username, token=registered.token, speed=FAST_SPEED)
        membership_add(chat=chat, bot=bot)
        bots.append(bot)
    return chat, bots

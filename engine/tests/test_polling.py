"""Long polling: persisted offsets (no replay, no loss across restarts), 409 conflicts, transient errors."""

from __future__ import annotations

import threading
from io import StringIO
from typing import Any
from unittest import mock

from django.core.management import CommandError, call_command

from bots.models import Bot
from chats.models import Chat, Message
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for, make_chat, make_message, make_user
from engine.clients.telegram import TelegramClient
from engine.models import TelegramInbox, Turn
from engine.services import polling
from engine.tests.pipeline import telegram_crowd

CHAT_ID = -100500
MEMBER = make_user(4242, "Ayşe", "ayse_k")


def member_message(message_id: int, text: str) -> dict[str, Any]:
    return make_message(message_id=message_id, chat=make_chat(CHAT_ID), sender=MEMBER, text=text)


def poll(*args: str) -> str:
    out = StringIO()
    call_command("telegram_poll", "--once", *args, stdout=out)
    return out.getvalue()


def offset_of(bot: Bot) -> int:
    return TelegramInbox.objects.get(bot=bot).update_offset


class PollingTestCase(RedisTransactionTestCase):
    """A fake Bot API server for each test and a two-bot Telegram crowd registered with it."""

    fake: FakeTelegram
    chat: Chat
    bots: list[Bot]

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, size=2, chat_id=CHAT_ID)


class OffsetTests(PollingTestCase):
    """Each batch's offset is stored, so a restart neither replays nor loses updates."""

    def test_a_batch_is_ingested_and_its_offset_stored(self) -> None:
        bots = self.bots
        message = self.fake.post_member_message(CHAT_ID, "@crowd1_bot altın?", sender=MEMBER)
        output = poll()
        stored = Message.objects.get()
        assert (stored.telegram_message_id, stored.sender_name) == (message["message_id"], "Ayşe")
        assert list(Turn.objects.values_list("bot_id", flat=True)) == [bots[1].pk]  # both bots got it; one reply
        assert "@crowd0_bot: 1 update(s)" in output
        for bot in bots:
            [update] = self.fake.pending_updates(bot.token)
            assert offset_of(bot) == update["update_id"] + 1

    def test_a_restart_neither_replays_nor_loses_updates(self) -> None:
        bots, fake = self.bots, self.fake
        first = fake.queue_update(bots[0].token, {"message": member_message(1, "ilk")})
        poll("--bot", "crowd0_bot")
        assert offset_of(bots[0]) == first["update_id"] + 1
        assert len(fake.pending_updates(bots[0].token)) == 1  # Telegram forgets it only at the next getUpdates
        second = fake.queue_update(bots[0].token, {"message": member_message(2, "ikinci")})
        output = poll("--bot", "crowd0_bot")  # a new process: the offset comes from the database
        assert "@crowd0_bot: 1 update(s)" in output  # only the new one: the first is not fetched again
        assert fake.requests("getUpdates")[-1].params["offset"] == first["update_id"] + 1
        assert fake.pending_updates(bots[0].token) == [second]
        assert list(Message.objects.values_list("text", flat=True)) == ["ilk", "ikinci"]
        assert offset_of(bots[0]) == second["update_id"] + 1

    def test_a_crash_mid_batch_replays_only_that_batch_harmlessly(self) -> None:
        bots = self.bots
        for message_id in (1, 2):
            self.fake.queue_update(
                bots[0].token, {"message": member_message(message_id, f"@crowd0_bot soru {message_id}")}
            )
        real_ingest = polling.ingest_update
        calls = {"count": 0}

        def crash_on_second(**kwargs: Any) -> Any:
            calls["count"] += 1
            if calls["count"] == 2:
                raise RuntimeError("worker killed")
            return real_ingest(**kwargs)

        with mock.patch.object(polling, "ingest_update", crash_on_second):
            with self.assertRaises(RuntimeError):
                polling.poll_once(bot=bots[0], timeout=0)
            assert offset_of(bots[0]) == 0  # not advanced: the whole batch comes again
        assert polling.poll_once(bot=bots[0], timeout=0).outcomes == ["duplicate", "stored"]
        assert Message.objects.count() == 2
        assert Turn.objects.count() == 2

    def test_an_unparseable_update_is_skipped_and_its_offset_advanced(self) -> None:
        bots = self.bots
        broken = self.fake.queue_update(bots[0].token, {"message": {"message_id": "not a number"}})
        assert polling.poll_once(bot=bots[0], timeout=0).outcomes == ["skipped: malformed update"]
        assert offset_of(bots[0]) == broken["update_id"] + 1
        assert not Message.objects.exists()


class ConflictTests(PollingTestCase):
    """409 answers: a webhook is set, or another poller is running."""

    def test_a_webhook_conflict_stops_with_a_clear_message(self) -> None:
        bots = self.bots
        TelegramClient(bots[0].token).set_webhook("https://piyasa.example/telegram/webhook/x/", secret_token="s")
        with self.assertRaises(CommandError) as raised:
            poll()
        assert "a webhook is set for @crowd0_bot: run `manage.py setwebhook --delete`" in str(raised.exception)
        assert "crowd1_bot" not in str(raised.exception)  # the other bot polled fine

    def test_a_second_poller_conflict_is_named(self) -> None:
        bots = self.bots
        self.fake.fail("getUpdates", status=409, description="Conflict: terminated by other getUpdates request")
        result = polling.run_poller(bot_id=bots[0].pk, timeout=0, once=False, stop=threading.Event())
        assert result.error.startswith("another poller is running for @crowd0_bot")


class PollerLoopTests(PollingTestCase):
    """The long-running pollers: backing off from transient errors, stopping, which bots they poll."""

    def test_transient_errors_back_off_and_polling_continues(self) -> None:
        bots = self.bots
        self.enterContext(mock.patch.object(polling, "_backoff", return_value=0.01))
        self.fake.server_error("getUpdates", status=502, times=2)
        self.fake.queue_update(bots[0].token, {"message": member_message(1, "sonunda")})
        stop = threading.Event()
        real_poll_once = polling.poll_once

        def poll_then_stop(**kwargs: Any) -> polling.PollBatch:
            batch = real_poll_once(**kwargs)
            stop.set()  # the first successful batch ends the loop
            return batch

        self.enterContext(mock.patch.object(polling, "poll_once", poll_then_stop))
        result = polling.run_poller(bot_id=bots[0].pk, timeout=0, once=False, stop=stop)
        assert (result.error, result.updates) == ("", 1)
        assert len(self.fake.requests("getUpdates")) == 3

    def test_a_stop_signal_ends_every_poller(self) -> None:
        bots = self.bots
        stop = threading.Event()
        threading.Timer(0.3, stop.set).start()
        results = polling.run_pollers(bot_ids=[bot.pk for bot in bots], timeout=1, once=False, stop=stop)
        assert [result.error for result in results] == ["", ""]

    def test_only_listening_bots_are_polled(self) -> None:
        chat, bots = self.chat, self.bots
        chat.memberships.filter(bot=bots[1]).update(is_enabled=False)
        assert "@crowd1_bot" not in poll()
        Chat.objects.filter(pk=chat.pk).update(is_enabled=False)
        with self.assertRaisesRegex(CommandError, "No listening bots"):
            poll()

"""Long polling: persisted offsets (no replay, no loss across restarts), 409 conflicts, transient errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from bots.models import Bot
from chats.models import Chat, Message
from config.testing.fake_telegram import FakeTelegram, make_chat, make_message, make_user, serve_fake_telegram
from engine.clients.telegram import TelegramClient
from engine.models import TelegramInbox, Turn
from engine.services import polling
from engine.tests.pipeline import telegram_crowd

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("redis_conn")]
CHAT_ID = -100500
MEMBER = make_user(4242, "Ayşe", "ayse_k")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    for server in serve_fake_telegram():
        with override_settings(TELEGRAM_API_BASE_URL=server.base_url, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline"):
            yield server


@pytest.fixture
def crowd(fake: FakeTelegram) -> tuple[Chat, list[Bot]]:
    return telegram_crowd(fake, size=2, chat_id=CHAT_ID)


def member_message(message_id: int, text: str) -> dict[str, Any]:
    return make_message(message_id=message_id, chat=make_chat(CHAT_ID), sender=MEMBER, text=text)


def poll(*args: str) -> str:
    out = StringIO()
    call_command("telegram_poll", "--once", *args, stdout=out)
    return out.getvalue()


def offset_of(bot: Bot) -> int:
    return TelegramInbox.objects.get(bot=bot).update_offset


def test_a_batch_is_ingested_and_its_offset_stored(fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]) -> None:
    _chat, bots = crowd
    message = fake.post_member_message(CHAT_ID, "@crowd1_bot altın?", sender=MEMBER)
    output = poll()
    stored = Message.objects.get()
    assert (stored.telegram_message_id, stored.sender_name) == (message["message_id"], "Ayşe")
    assert list(Turn.objects.values_list("bot_id", flat=True)) == [bots[1].pk]  # both bots got it; one reply
    assert "@crowd0_bot: 1 update(s)" in output
    for bot in bots:
        [update] = fake.pending_updates(bot.token)
        assert offset_of(bot) == update["update_id"] + 1


def test_a_restart_neither_replays_nor_loses_updates(fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]) -> None:
    _chat, bots = crowd
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


def test_a_crash_mid_batch_replays_only_that_batch_harmlessly(
    fake: FakeTelegram, crowd: tuple[Chat, list[Bot]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _chat, bots = crowd
    for message_id in (1, 2):
        fake.queue_update(bots[0].token, {"message": member_message(message_id, f"@crowd0_bot soru {message_id}")})
    real_ingest = polling.ingest_update
    calls = {"count": 0}

    def crash_on_second(**kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == 2:
            raise RuntimeError("worker killed")
        return real_ingest(**kwargs)

    monkeypatch.setattr(polling, "ingest_update", crash_on_second)
    with pytest.raises(RuntimeError):
        polling.poll_once(bot=bots[0], timeout=0)
    assert offset_of(bots[0]) == 0  # not advanced: the whole batch comes again
    monkeypatch.setattr(polling, "ingest_update", real_ingest)
    assert polling.poll_once(bot=bots[0], timeout=0).outcomes == ["duplicate", "stored"]
    assert Message.objects.count() == 2
    assert Turn.objects.count() == 2


def test_an_unparseable_update_is_skipped_and_its_offset_advanced(
    fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]
) -> None:
    _chat, bots = crowd
    broken = fake.queue_update(bots[0].token, {"message": {"message_id": "not a number"}})
    assert polling.poll_once(bot=bots[0], timeout=0).outcomes == ["skipped: malformed update"]
    assert offset_of(bots[0]) == broken["update_id"] + 1
    assert not Message.objects.exists()


def test_a_webhook_conflict_stops_with_a_clear_message(fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]) -> None:
    _chat, bots = crowd
    TelegramClient(bots[0].token).set_webhook("https://piyasa.example/telegram/webhook/x/", secret_token="s")
    with pytest.raises(CommandError) as raised:
        poll()
    assert "a webhook is set for @crowd0_bot: run `manage.py setwebhook --delete`" in str(raised.value)
    assert "crowd1_bot" not in str(raised.value)  # the other bot polled fine


def test_a_second_poller_conflict_is_named(fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]) -> None:
    _chat, bots = crowd
    fake.fail("getUpdates", status=409, description="Conflict: terminated by other getUpdates request")
    result = polling.run_poller(bot_id=bots[0].pk, timeout=0, once=False, stop=threading.Event())
    assert result.error.startswith("another poller is running for @crowd0_bot")


def test_transient_errors_back_off_and_polling_continues(
    fake: FakeTelegram, crowd: tuple[Chat, list[Bot]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _chat, bots = crowd
    monkeypatch.setattr(polling, "_backoff", lambda error, failures: 0.01)
    fake.server_error("getUpdates", status=502, times=2)
    fake.queue_update(bots[0].token, {"message": member_message(1, "sonunda")})
    stop = threading.Event()
    real_poll_once = polling.poll_once

    def poll_then_stop(**kwargs: Any) -> polling.PollBatch:
        batch = real_poll_once(**kwargs)
        stop.set()  # the first successful batch ends the loop
        return batch

    monkeypatch.setattr(polling, "poll_once", poll_then_stop)
    result = polling.run_poller(bot_id=bots[0].pk, timeout=0, once=False, stop=stop)
    assert (result.error, result.updates) == ("", 1)
    assert len(fake.requests("getUpdates")) == 3


def test_a_stop_signal_ends_every_poller(fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]) -> None:
    _chat, bots = crowd
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    results = polling.run_pollers(bot_ids=[bot.pk for bot in bots], timeout=1, once=False, stop=stop)
    assert [result.error for result in results] == ["", ""]


def test_only_listening_bots_are_polled(fake: FakeTelegram, crowd: tuple[Chat, list[Bot]]) -> None:
    chat, bots = crowd
    chat.memberships.filter(bot=bots[1]).update(is_enabled=False)
    assert "@crowd1_bot" not in poll()
    Chat.objects.filter(pk=chat.pk).update(is_enabled=False)
    with pytest.raises(CommandError, match="No listening bots"):
        poll()

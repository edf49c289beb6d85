"""The Telegram client against the fake Bot API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import gc
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from telegram import Bot
from telegram.error import TelegramError

from config.logging import RedactSecretsFilter
from config.testing.fake_telegram import FakeBot, FakeTelegram, make_user, serve_fake_telegram
from engine.clients.loops import close_loops, run
from engine.clients.telegram import (
    AiohttpRequest,
    BotIdentity,
    PermanentKind,
    TelegramClient,
    TelegramConflictError,
    TelegramPermanentError,
    TelegramRetryAfter,
    TelegramSession,
    TelegramTransientError,
)

CHAT = -1001234567890
MEMBER = make_user(424242, "Mehmet", "mehmet_trader")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    yield from serve_fake_telegram()


@pytest.fixture
def bot(fake: FakeTelegram) -> FakeBot:
    return fake.add_bot(username="ayse_bot", first_name="Ayşe")


@pytest.fixture
def client(fake: FakeTelegram, bot: FakeBot) -> TelegramClient:
    return TelegramClient(bot.token, base_url=fake.base_url, timeout=2.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestCalls:
    def test_get_me_returns_the_bot_behind_the_token(self, client: TelegramClient, bot: FakeBot) -> None:
        assert client.get_me() == BotIdentity(
            id=bot.id, username="ayse_bot", first_name="Ayşe", can_join_groups=True, can_read_all_group_messages=False
        )

    def test_send_message_returns_the_id_and_the_fake_records_what_was_sent(
        self, client: TelegramClient, fake: FakeTelegram
    ) -> None:
        first = client.send_message(CHAT, "BIST:AKBNK bugün 52,40 ₺ 📈")
        second = client.send_message(CHAT, "devam")

        assert (first.message_id, second.message_id) == (1, 2)
        assert abs(time.time() - first.date.timestamp()) < 5
        recorded = fake.requests("sendMessage")[0]
        assert (recorded.chat_id, recorded.params["text"], recorded.reply_to_message_id) == (
            CHAT,
            "BIST:AKBNK bugün 52,40 ₺ 📈",
            None,
        )

    def test_reply_is_threaded_under_the_member_message(self, client: TelegramClient, fake: FakeTelegram) -> None:
        member_message = fake.post_member_message(CHAT, "@ayse_bot altın ne olur?", sender=MEMBER)

        sent = client.send_message(CHAT, "Bence yükselir.", reply_to_message_id=member_message["message_id"])

        assert fake.requests("sendMessage")[0].reply_to_message_id == member_message["message_id"]
        delivered = fake.sent_messages(CHAT)[0]
        assert delivered["message_id"] == sent.message_id
        assert delivered["reply_to_message"]["text"] == "@ayse_bot altın ne olur?"

    def test_send_typing_records_a_typing_chat_action(self, client: TelegramClient, fake: FakeTelegram) -> None:
        client.send_typing(CHAT)

        [action] = fake.requests("sendChatAction")
        assert (action.chat_id, action.params["action"]) == (CHAT, "typing")

    def test_set_reaction_records_the_emoji_on_the_message(self, client: TelegramClient, fake: FakeTelegram) -> None:
        client.set_reaction(CHAT, 7, "🔥")

        assert fake.reactions(CHAT, 7) == [{"type": "emoji", "emoji": "🔥"}]

    def test_reaction_outside_telegrams_allowed_set_is_permanent_but_keeps_membership(
        self, client: TelegramClient
    ) -> None:
        with pytest.raises(TelegramPermanentError) as caught:
            client.set_reaction(CHAT, 7, "📈")

        assert caught.value.kind is PermanentKind.BAD_REQUEST
        assert not caught.value.ends_membership

    def test_two_calls_in_a_row_each_get_a_fresh_event_loop(self, client: TelegramClient, fake: FakeTelegram) -> None:
        client.send_typing(CHAT)
        client.send_message(CHAT, "ilk")
        client.send_message(CHAT, "ikinci")

        assert [request.method for request in fake.requests()] == ["sendChatAction", "sendMessage", "sendMessage"]

    def test_run_batches_several_calls_in_one_loop(self, client: TelegramClient, fake: FakeTelegram) -> None:
        async def typing_then_send(session: TelegramSession) -> int:
            await session.send_typing(CHAT)
            return (await session.send_message(CHAT, "tek döngü")).message_id

        assert client.run(typing_then_send) == 1
        assert [request.method for request in fake.requests()] == ["sendChatAction", "sendMessage"]


class TestErrors:
    def test_429_raises_retry_after_with_telegrams_delay(self, client: TelegramClient, fake: FakeTelegram) -> None:
        fake.rate_limit("sendMessage", retry_after=17)

        with pytest.raises(TelegramRetryAfter) as caught:
            client.send_message(CHAT, "flood")

        assert caught.value.retry_after == 17.0
        assert caught.value.retryable
        assert client.send_message(CHAT, "after the fault").message_id == 1

    def test_client_does_not_retry_by_itself(self, client: TelegramClient, fake: FakeTelegram) -> None:
        fake.rate_limit("sendMessage", retry_after=1)

        with pytest.raises(TelegramRetryAfter):
            client.send_message(CHAT, "once")

        assert len(fake.requests("sendMessage")) == 1

    @pytest.mark.parametrize("status", [500, 502, 503])
    def test_5xx_is_transient_and_not_sent(self, client: TelegramClient, fake: FakeTelegram, status: int) -> None:
        fake.server_error("sendMessage", status=status)

        with pytest.raises(TelegramTransientError) as caught:
            client.send_message(CHAT, "x")

        assert caught.value.retryable
        assert not caught.value.maybe_sent

    @pytest.mark.parametrize(
        ("script", "kind"),
        [
            ("chat_not_found", PermanentKind.CHAT_NOT_FOUND),
            ("bot_kicked", PermanentKind.BOT_KICKED),
            ("bot_blocked", PermanentKind.BOT_BLOCKED),
        ],
    )
    def test_lost_chat_is_permanent_and_ends_the_membership(
        self, client: TelegramClient, fake: FakeTelegram, script: str, kind: PermanentKind
    ) -> None:
        getattr(fake, script)("sendMessage")

        with pytest.raises(TelegramPermanentError) as caught:
            client.send_message(CHAT, "x")

        assert (caught.value.kind, caught.value.ends_membership, caught.value.retryable) == (kind, True, False)

    def test_unknown_token_is_permanent_unauthorized(self, fake: FakeTelegram) -> None:
        client = TelegramClient("123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr", base_url=fake.base_url)

        with pytest.raises(TelegramPermanentError) as caught:
            client.get_me()

        assert caught.value.kind is PermanentKind.UNAUTHORIZED

    def test_latency_beyond_the_timeout_is_transient_and_maybe_sent(self, fake: FakeTelegram, bot: FakeBot) -> None:
        fake.delay("sendMessage", 1.5, times=1)
        client = TelegramClient(bot.token, base_url=fake.base_url, timeout=0.3)

        started = time.monotonic()
        with pytest.raises(TelegramTransientError) as caught:
            client.send_message(CHAT, "slow")

        assert time.monotonic() - started < 1.2
        assert caught.value.maybe_sent

    def test_unreachable_server_is_transient_and_not_sent(self, bot: FakeBot) -> None:
        client = TelegramClient(bot.token, base_url=f"http://127.0.0.1:{free_port()}/bot", timeout=1.0)

        with pytest.raises(TelegramTransientError) as caught:
            client.send_message(CHAT, "x")

        assert not caught.value.maybe_sent

    def test_a_connection_dropped_after_the_request_went_out_is_maybe_sent(self, bot: FakeBot) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        received: list[bytes] = []

        def read_then_hang_up() -> None:
            connection, _ = listener.accept()
            received.append(connection.recv(65536))
            connection.close()

        threading.Thread(target=read_then_hang_up, daemon=True).start()
        client = TelegramClient(bot.token, base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/bot", timeout=2.0)

        with pytest.raises(TelegramTransientError) as caught:
            client.send_message(CHAT, "x")

        listener.close()
        assert b"sendMessage" in received[0]
        assert caught.value.maybe_sent

    def test_an_accepted_send_without_a_readable_message_is_maybe_sent(self, bot: FakeBot) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        body = b'{"ok": true, "result": {"chat": {"id": 1}}}'

        def answer_without_a_message_id() -> None:
            connection, _ = listener.accept()
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            connection.close()

        threading.Thread(target=answer_without_a_message_id, daemon=True).start()
        client = TelegramClient(bot.token, base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/bot", timeout=2.0)

        with pytest.raises(TelegramTransientError, match="unusable answer") as caught:
            client.send_message(CHAT, "x")

        listener.close()
        assert caught.value.maybe_sent  # Telegram took it: sending it again could duplicate it

    def test_a_file_upload_is_refused_before_any_request(self, fake: FakeTelegram, bot: FakeBot) -> None:
        request = AiohttpRequest(2.0)

        async def upload() -> None:
            try:
                await Bot(bot.token, base_url=fake.base_url, request=request).send_document(CHAT, b"report")
            finally:
                await request.shutdown()

        with pytest.raises(TelegramError, match="file uploads are not supported"):
            run(upload())
        assert not fake.requests()

    def test_connections_close_at_exit_and_a_later_call_opens_new_ones(
        self, client: TelegramClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        client.send_typing(CHAT)

        close_loops()
        gc.collect()

        assert client.send_message(CHAT, "again").message_id
        assert not [record for record in caplog.records if "Unclosed" in record.getMessage()]

    def test_polling_while_a_webhook_is_set_is_a_conflict(self, client: TelegramClient) -> None:
        client.set_webhook("https://piyasa.example/telegram/abc/", secret_token="s3cret")

        with pytest.raises(TelegramConflictError):
            client.get_updates(timeout=0)


class TestTokenSecrecy:
    def test_repr_shows_the_bot_id_but_not_the_token(self, client: TelegramClient, bot: FakeBot) -> None:
        assert bot.token not in repr(client)
        assert str(bot.id) in repr(client)

    def test_error_messages_never_carry_the_token(
        self, client: TelegramClient, fake: FakeTelegram, bot: FakeBot
    ) -> None:
        fake.fail("sendMessage", status=400, description=f"Bad Request: wrong url /bot{bot.token}/sendMessage")
        fake.server_error("sendChatAction")

        with pytest.raises(TelegramPermanentError) as permanent:
            client.send_message(CHAT, "x")
        with pytest.raises(TelegramTransientError) as transient:
            client.send_typing(CHAT)

        for caught in (permanent, transient):
            assert bot.token not in str(caught.value)
            # A chained PTB/httpx error would print its URL (with the token) in tracebacks RQ stores.
            assert caught.value.__suppress_context__

    def test_network_errors_do_not_carry_the_token(self, bot: FakeBot) -> None:
        client = TelegramClient(bot.token, base_url=f"http://127.0.0.1:{free_port()}/bot", timeout=1.0)

        with pytest.raises(TelegramTransientError) as caught:
            client.get_me()

        assert bot.token not in str(caught.value)
        assert bot.token.split(":", 1)[1] not in str(caught.value)

    def test_debug_logs_pass_the_projects_redaction_filter_without_the_token(
        self, client: TelegramClient, fake: FakeTelegram, bot: FakeBot, caplog: pytest.LogCaptureFixture
    ) -> None:
        fake.bot_kicked("sendMessage")
        redactor = RedactSecretsFilter()

        with caplog.at_level(logging.DEBUG, logger="telegram"), pytest.raises(TelegramPermanentError):
            client.send_message(CHAT, "x")

        # PTB logs the API URL (token included) at DEBUG; the console handler's filter must scrub it.
        assert any("Bot API URL" in record.getMessage() for record in caplog.records)
        for record in caplog.records:
            redactor.filter(record)
            assert bot.token not in record.getMessage()


class TestUpdatesAndWebhooks:
    def test_get_updates_returns_queued_updates_after_the_offset(
        self, client: TelegramClient, fake: FakeTelegram
    ) -> None:
        fake.post_member_message(CHAT, "selam", sender=MEMBER)
        fake.post_member_message(CHAT, "@ayse_bot dolar?", sender=MEMBER)

        updates = client.get_updates(offset=None, timeout=0)
        later = client.get_updates(offset=updates[0]["update_id"] + 1, timeout=0)

        assert [update["message"]["text"] for update in updates] == ["selam", "@ayse_bot dolar?"]
        assert [update["message"]["text"] for update in later] == ["@ayse_bot dolar?"]
        assert later[0]["message"]["entities"] == [{"type": "mention", "offset": 0, "length": 9}]
        assert client.get_updates(offset=later[0]["update_id"] + 1, timeout=0) == []

    def test_get_updates_long_polls_until_an_update_arrives(self, client: TelegramClient, fake: FakeTelegram) -> None:
        timer = threading.Timer(0.3, lambda: fake.post_member_message(CHAT, "geç geldim", sender=MEMBER))
        timer.start()

        started = time.monotonic()
        updates = client.get_updates(timeout=5, allowed_updates=["message"])

        assert 0.2 < time.monotonic() - started < 3
        assert [update["message"]["text"] for update in updates] == ["geç geldim"]
        assert fake.requests("getUpdates")[0].params["allowed_updates"] == ["message"]

    def test_set_webhook_records_url_and_secret(self, client: TelegramClient, fake: FakeTelegram, bot: FakeBot) -> None:
        client.set_webhook(
            "https://piyasa.example/telegram/abc/", secret_token="s3cret-_X", allowed_updates=["message"]
        )

        state = fake.webhook(bot.token)
        assert state is not None
        assert (state.url, state.secret_token, state.allowed_updates) == (
            "https://piyasa.example/telegram/abc/",
            "s3cret-_X",
            ["message"],
        )
        assert client.get_webhook_info()["url"] == "https://piyasa.example/telegram/abc/"

    def test_delete_webhook_clears_it(self, client: TelegramClient, fake: FakeTelegram, bot: FakeBot) -> None:
        client.set_webhook("https://piyasa.example/telegram/abc/", secret_token="s3cret")
        client.delete_webhook()

        assert fake.webhook(bot.token) is None
        assert client.get_webhook_info()["url"] == ""


class TestFakeServer:
    def test_it_accepts_json_bodies_too(self, fake: FakeTelegram, bot: FakeBot) -> None:
        url = f"{fake.base_url}{bot.token}/sendMessage"
        body = {"chat_id": CHAT, "text": "json", "reply_parameters": {"message_id": 3}}

        answer = httpx.post(url, json=body).json()

        assert answer["ok"] is True
        assert answer["result"]["from"]["id"] == bot.id
        assert fake.requests("sendMessage")[0].reply_to_message_id == 3

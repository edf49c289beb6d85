"""The Telegram client against the fake Bot API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import gc
import logging
import socket
import threading
import time

import httpx
from django.test import SimpleTestCase
from telegram import Bot
from telegram.error import TelegramError

from config.logging import RedactSecretsFilter
from config.testing.fake_telegram import FakeBot, FakeTelegram, make_user
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeTelegramTestCase(SimpleTestCase):
    """Tests against a fake Bot API of their own at self.fake, with the bot ayse_bot and a client for its token."""

    fake: FakeTelegram
    bot: FakeBot
    telegram: TelegramClient

    def setUp(self) -> None:
        super().setUp()
        self.serve()

    def serve(self) -> None:
        """A fresh fake server (stopped at the test's end), its bot and the bot's client."""
        self.fake = self.enterContext(FakeTelegram())
        self.bot = self.fake.add_bot(username="ayse_bot", first_name="Ayşe")
        self.telegram = TelegramClient(self.bot.token, base_url=self.fake.base_url, timeout=2.0)


class CallTests(FakeTelegramTestCase):
    def test_get_me_returns_the_bot_behind_the_token(self) -> None:
        assert self.telegram.get_me() == BotIdentity(
            id=self.bot.id,
            username="ayse_bot",
            first_name="Ayşe",
            can_join_groups=True,
            can_read_all_group_messages=False,
        )

    def test_send_message_returns_the_id_and_the_fake_records_what_was_sent(self) -> None:
        first = self.telegram.send_message(CHAT, "BIST:AKBNK bugün 52,40 ₺ 📈")
        second = self.telegram.send_message(CHAT, "devam")

        assert (first.message_id, second.message_id) == (1, 2)
        assert abs(time.time() - first.date.timestamp()) < 5
        recorded = self.fake.requests("sendMessage")[0]
        assert (recorded.chat_id, recorded.params["text"], recorded.reply_to_message_id) == (
            CHAT,
            "BIST:AKBNK bugün 52,40 ₺ 📈",
            None,
        )

    def test_reply_is_threaded_under_the_member_message(self) -> None:
        member_message = self.fake.post_member_message(CHAT, "@ayse_bot altın ne olur?", sender=MEMBER)

        sent = self.telegram.send_message(CHAT, "Bence yükselir.", reply_to_message_id=member_message["message_id"])

        assert self.fake.requests("sendMessage")[0].reply_to_message_id == member_message["message_id"]
        delivered = self.fake.sent_messages(CHAT)[0]
        assert delivered["message_id"] == sent.message_id
        assert delivered["reply_to_message"]["text"] == "@ayse_bot altın ne olur?"

    def test_send_typing_records_a_typing_chat_action(self) -> None:
        self.telegram.send_typing(CHAT)

        [action] = self.fake.requests("sendChatAction")
        assert (action.chat_id, action.params["action"]) == (CHAT, "typing")

    def test_set_reaction_records_the_emoji_on_the_message(self) -> None:
        self.telegram.set_reaction(CHAT, 7, "🔥")

        assert self.fake.reactions(CHAT, 7) == [{"type": "emoji", "emoji": "🔥"}]

    def test_reaction_outside_telegrams_allowed_set_is_permanent_but_keeps_membership(self) -> None:
        with self.assertRaises(TelegramPermanentError) as caught:
            self.telegram.set_reaction(CHAT, 7, "📈")

        assert caught.exception.kind is PermanentKind.BAD_REQUEST
        assert not caught.exception.ends_membership

    def test_two_calls_in_a_row_each_get_a_fresh_event_loop(self) -> None:
        self.telegram.send_typing(CHAT)
        self.telegram.send_message(CHAT, "ilk")
        self.telegram.send_message(CHAT, "ikinci")

        assert [request.method for request in self.fake.requests()] == ["sendChatAction", "sendMessage", "sendMessage"]

    def test_run_batches_several_calls_in_one_loop(self) -> None:
        async def typing_then_send(session: TelegramSession) -> int:
            await session.send_typing(CHAT)
            return (await session.send_message(CHAT, "tek döngü")).message_id

        assert self.telegram.run(typing_then_send) == 1
        assert [request.method for request in self.fake.requests()] == ["sendChatAction", "sendMessage"]


class ErrorTests(FakeTelegramTestCase):
    def test_429_raises_retry_after_with_telegrams_delay(self) -> None:
        self.fake.rate_limit("sendMessage", retry_after=17)

        with self.assertRaises(TelegramRetryAfter) as caught:
            self.telegram.send_message(CHAT, "flood")

        assert caught.exception.retry_after == 17.0
        assert caught.exception.retryable
        assert self.telegram.send_message(CHAT, "after the fault").message_id == 1

    def test_client_does_not_retry_by_itself(self) -> None:
        self.fake.rate_limit("sendMessage", retry_after=1)

        with self.assertRaises(TelegramRetryAfter):
            self.telegram.send_message(CHAT, "once")

        assert len(self.fake.requests("sendMessage")) == 1

    def test_5xx_is_transient_and_not_sent(self) -> None:
        for status in (500, 502, 503):
            with self.subTest(status=status):
                self.serve()
                self.fake.server_error("sendMessage", status=status)

                with self.assertRaises(TelegramTransientError) as caught:
                    self.telegram.send_message(CHAT, "x")

                assert caught.exception.retryable
                assert not caught.exception.maybe_sent

    def test_lost_chat_is_permanent_and_ends_the_membership(self) -> None:
        for script, kind in (
            ("chat_not_found", PermanentKind.CHAT_NOT_FOUND),
            ("bot_kicked", PermanentKind.BOT_KICKED),
            ("bot_blocked", PermanentKind.BOT_BLOCKED),
        ):
            with self.subTest(script=script):
                self.serve()
                getattr(self.fake, script)("sendMessage")

                with self.assertRaises(TelegramPermanentError) as caught:
                    self.telegram.send_message(CHAT, "x")

                error = caught.exception
                assert (error.kind, error.ends_membership, error.retryable) == (kind, True, False)

    def test_unknown_token_is_permanent_unauthorized(self) -> None:
        client = TelegramClient("123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr", base_url=self.fake.base_url)

        with self.assertRaises(TelegramPermanentError) as caught:
            client.get_me()

        assert caught.exception.kind is PermanentKind.UNAUTHORIZED

    def test_latency_beyond_the_timeout_is_transient_and_maybe_sent(self) -> None:
        self.fake.delay("sendMessage", 1.5, times=1)
        client = TelegramClient(self.bot.token, base_url=self.fake.base_url, timeout=0.3)

        started = time.monotonic()
        with self.assertRaises(TelegramTransientError) as caught:
            client.send_message(CHAT, "slow")

        assert time.monotonic() - started < 1.2
        assert caught.exception.maybe_sent

    def test_unreachable_server_is_transient_and_not_sent(self) -> None:
        client = TelegramClient(self.bot.token, base_url=f"http://127.0.0.1:{free_port()}/bot", timeout=1.0)

        with self.assertRaises(TelegramTransientError) as caught:
            client.send_message(CHAT, "x")

        assert not caught.exception.maybe_sent

    def test_a_connection_dropped_after_the_request_went_out_is_maybe_sent(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        received: list[bytes] = []

        def read_then_hang_up() -> None:
            connection, _ = listener.accept()
            received.append(connection.recv(65536))
            connection.close()

        threading.Thread(target=read_then_hang_up, daemon=True).start()
        client = TelegramClient(
            self.bot.token, base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/bot", timeout=2.0
        )

        with self.assertRaises(TelegramTransientError) as caught:
            client.send_message(CHAT, "x")

        listener.close()
        assert b"sendMessage" in received[0]
        assert caught.exception.maybe_sent

    def test_an_accepted_send_without_a_readable_message_is_maybe_sent(self) -> None:
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
        client = TelegramClient(
            self.bot.token, base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/bot", timeout=2.0
        )

        with self.assertRaisesRegex(TelegramTransientError, "unusable answer") as caught:
            client.send_message(CHAT, "x")

        listener.close()
        assert caught.exception.maybe_sent  # Telegram took it: sending it again could duplicate it

    def test_a_file_upload_is_refused_before_any_request(self) -> None:
        request = AiohttpRequest(2.0)

        async def upload() -> None:
            try:
                await Bot(self.bot.token, base_url=self.fake.base_url, request=request).send_document(CHAT, b"report")
            finally:
                await request.shutdown()

        with self.assertRaisesRegex(TelegramError, "file uploads are not supported"):
            run(upload())
        assert not self.fake.requests()

    def test_connections_close_at_exit_and_a_later_call_opens_new_ones(self) -> None:
        with self.assertNoLogs(level=logging.INFO):  # no "Unclosed ..." complaint, nor any other record
            self.telegram.send_typing(CHAT)

            close_loops()
            gc.collect()

            assert self.telegram.send_message(CHAT, "again").message_id

    def test_polling_while_a_webhook_is_set_is_a_conflict(self) -> None:
        self.telegram.set_webhook("https://piyasa.example/telegram/abc/", secret_token="s3cret")

        with self.assertRaises(TelegramConflictError):
            self.telegram.get_updates(timeout=0)


class TokenSecrecyTests(FakeTelegramTestCase):
    def test_repr_shows_the_bot_id_but_not_the_token(self) -> None:
        assert self.bot.token not in repr(self.telegram)
        assert str(self.bot.id) in repr(self.telegram)

    def test_error_messages_never_carry_the_token(self) -> None:
        self.fake.fail(
            "sendMessage", status=400, description=f"Bad Request: wrong url /bot{self.bot.token}/sendMessage"
        )
        self.fake.server_error("sendChatAction")

        with self.assertRaises(TelegramPermanentError) as permanent:
            self.telegram.send_message(CHAT, "x")
        with self.assertRaises(TelegramTransientError) as transient:
            self.telegram.send_typing(CHAT)

        for caught in (permanent, transient):
            assert self.bot.token not in str(caught.exception)
            # A chained PTB/httpx error would print its URL (with the token) in tracebacks RQ stores.
            assert caught.exception.__suppress_context__

    def test_network_errors_do_not_carry_the_token(self) -> None:
        client = TelegramClient(self.bot.token, base_url=f"http://127.0.0.1:{free_port()}/bot", timeout=1.0)

        with self.assertRaises(TelegramTransientError) as caught:
            client.get_me()

        assert self.bot.token not in str(caught.exception)
        assert self.bot.token.split(":", 1)[1] not in str(caught.exception)

    def test_debug_logs_pass_the_projects_redaction_filter_without_the_token(self) -> None:
        self.fake.bot_kicked("sendMessage")
        redactor = RedactSecretsFilter()

        with self.assertLogs("telegram", logging.DEBUG) as logs, self.assertRaises(TelegramPermanentError):
            self.telegram.send_message(CHAT, "x")

        # PTB logs the API URL (token included) at DEBUG; the console handler's filter must scrub it.
        assert any("Bot API URL" in record.getMessage() for record in logs.records)
        for record in logs.records:
            redactor.filter(record)
            assert self.bot.token not in record.getMessage()


class UpdatesAndWebhooksTests(FakeTelegramTestCase):
    def test_get_updates_returns_queued_updates_after_the_offset(self) -> None:
        self.fake.post_member_message(CHAT, "selam", sender=MEMBER)
        self.fake.post_member_message(CHAT, "@ayse_bot dolar?", sender=MEMBER)

        updates = self.telegram.get_updates(offset=None, timeout=0)
        later = self.telegram.get_updates(offset=updates[0]["update_id"] + 1, timeout=0)

        assert [update["message"]["text"] for update in updates] == ["selam", "@ayse_bot dolar?"]
        assert [update["message"]["text"] for update in later] == ["@ayse_bot dolar?"]
        assert later[0]["message"]["entities"] == [{"type": "mention", "offset": 0, "length": 9}]
        assert self.telegram.get_updates(offset=later[0]["update_id"] + 1, timeout=0) == []

    def test_get_updates_long_polls_until_an_update_arrives(self) -> None:
        timer = threading.Timer(0.3, lambda: self.fake.post_member_message(CHAT, "geç geldim", sender=MEMBER))
        timer.start()

        started = time.monotonic()
        updates = self.telegram.get_updates(timeout=5, allowed_updates=["message"])

        assert 0.2 < time.monotonic() - started < 3
        assert [update["message"]["text"] for update in updates] == ["geç geldim"]
        assert self.fake.requests("getUpdates")[0].params["allowed_updates"] == ["message"]

    def test_set_webhook_records_url_and_secret(self) -> None:
        self.telegram.set_webhook(
            "https://piyasa.example/telegram/abc/", secret_token="s3cret-_X", allowed_updates=["message"]
        )

        state = self.fake.webhook(self.bot.token)
        assert state is not None
        assert (state.url, state.secret_token, state.allowed_updates) == (
            "https://piyasa.example/telegram/abc/",
            "s3cret-_X",
            ["message"],
        )
        assert self.telegram.get_webhook_info()["url"] == "https://piyasa.example/telegram/abc/"

    def test_delete_webhook_clears_it(self) -> None:
        self.telegram.set_webhook("https://piyasa.example/telegram/abc/", secret_token="s3cret")
        self.telegram.delete_webhook()

        assert self.fake.webhook(self.bot.token) is None
        assert self.telegram.get_webhook_info()["url"] == ""


class FakeServerTests(FakeTelegramTestCase):
    def test_it_accepts_json_bodies_too(self) -> None:
        url = f"{self.fake.base_url}{self.bot.token}/sendMessage"
        body = {"chat_id": CHAT, "text": "json", "reply_parameters": {"message_id": 3}}

        answer = httpx.post(url, json=body).json()

        assert answer["ok"] is True
        assert answer["result"]["from"]["id"] == self.bot.id
        assert self.fake.requests("sendMessage")[0].reply_to_message_id == 3


LONG_QUESTION = (
    "Selam arkadaşlar, bu hafta piyasada çok şey oldu ve ben de kafamı toplamaya çalışıyorum. Merkez bankası "
    "faiz kararını açıkladı, dolar biraz geriledi, altın yerinde sayıyor. Bir de şunu merak ediyorum: THYAO bu "
    "seviyeden alınır mı sizce? Bilanço iyi geldi ama yabancı satışı da var gibi görünüyor."
)


class CapabilitiesAndQuoteTests(FakeTelegramTestCase):
    """getChat's capabilities, the group's allowed reactions and reply quotes, as Telegram answers them."""

    def test_get_chat_reads_forum_slow_mode_rights_and_reactions(self) -> None:
        self.fake.set_chat(
            CHAT,
            is_forum=True,
            slow_mode_delay=30,
            permissions={"can_send_messages": False},
            available_reactions=["👍"],
        )
        caps = self.telegram.get_chat(CHAT)
        assert (caps.is_forum, caps.slow_mode_delay, caps.available_reactions) == (True, 30, ["👍"])
        assert caps.permissions["can_send_messages"] is False
        assert caps.permissions["can_invite_users"] is True

    def test_a_group_without_settings_allows_every_reaction_and_no_slow_mode(self) -> None:
        caps = self.telegram.get_chat(CHAT)
        assert (caps.is_forum, caps.slow_mode_delay, caps.available_reactions) == (False, 0, None)
        assert caps.permissions["can_send_messages"] is True

    def test_reactions_turned_off_read_as_an_empty_list(self) -> None:
        self.fake.set_chat(CHAT, available_reactions=[])
        assert self.telegram.get_chat(CHAT).available_reactions == []

    def test_the_fake_answers_get_chat_in_telegrams_chat_full_info_shape(self) -> None:
        info = self.fake.set_chat(CHAT, title="Borsa", slow_mode_delay=10, available_reactions=["🔥"])
        assert {"id", "type", "title", "accent_color_id", "max_reaction_count", "permissions"} <= set(info)
        assert info["type"] == "supergroup"
        assert info["available_reactions"] == [{"type": "emoji", "emoji": "🔥"}]
        assert "is_forum" not in info  # Telegram leaves out what is false

    def test_a_reaction_the_group_does_not_allow_is_refused_as_reaction_invalid(self) -> None:
        self.fake.set_chat(CHAT, available_reactions=["👍"])
        with self.assertRaises(TelegramPermanentError) as caught:
            self.telegram.set_reaction(CHAT, 7, "🔥")
        assert "reaction_invalid" in str(caught.exception).lower()  # PTB words it "BadRequest: Reaction_invalid"
        status, answer = self.fake.handle(
            self.bot.token,
            "setMessageReaction",
            {"chat_id": CHAT, "message_id": 7, "reaction": [{"type": "emoji", "emoji": "🔥"}]},
            "application/json",
        )
        assert (status, answer["description"]) == (400, "Bad Request: REACTION_INVALID")
        self.telegram.set_reaction(CHAT, 7, "👍")
        assert self.fake.reactions(CHAT, 7) == [{"type": "emoji", "emoji": "👍"}]

    def test_a_reply_quotes_the_part_it_answers(self) -> None:
        target = self.fake.post_member_message(CHAT, LONG_QUESTION, sender=MEMBER)
        quote = "THYAO bu seviyeden alınır mı sizce?"
        self.telegram.run(lambda s: s.send_message(CHAT, "Bence bekle.", target["message_id"], quote=quote))
        [request] = self.fake.requests("sendMessage")
        assert request.params["reply_parameters"]["quote"] == quote
        [sent] = self.fake.sent_messages(CHAT)[1:] or self.fake.sent_messages(CHAT)
        assert sent["quote"]["text"] == quote
        assert sent["quote"]["is_manual"] is True

    def test_a_quote_not_in_the_target_is_refused_and_the_reply_sent_again_without_it(self) -> None:
        target = self.fake.post_member_message(CHAT, LONG_QUESTION, sender=MEMBER)
        self.telegram.run(lambda s: s.send_message(CHAT, "Bence bekle.", target["message_id"], quote="SASA alınır mı?"))
        refused, resent = self.fake.requests("sendMessage")
        assert refused.params["reply_parameters"]["quote"] == "SASA alınır mı?"
        assert "quote" not in resent.params["reply_parameters"]
        [sent] = self.fake.sent_messages(CHAT)
        assert sent["reply_to_message"]["message_id"] == target["message_id"]

    def test_the_fake_answers_a_wrong_quote_with_telegrams_words(self) -> None:
        target = self.fake.post_member_message(CHAT, LONG_QUESTION, sender=MEMBER)
        body = {"message_id": target["message_id"], "quote": "yok böyle bir cümle"}
        status, answer = self.fake.handle(
            self.bot.token, "sendMessage", {"chat_id": CHAT, "text": "x", "reply_parameters": body}, "application/json"
        )
        assert (status, answer) == (
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: QUOTE_TEXT_INVALID"},
        )

    def test_slow_mode_holds_a_send_due_soon_and_refuses_a_later_one_with_429(self) -> None:
        self.fake.set_chat(CHAT, slow_mode_delay=1)
        self.telegram.send_message(CHAT, "bir")
        started = time.monotonic()
        self.telegram.send_message(CHAT, "iki")  # due within a second: Telegram holds it, then sends it
        assert time.monotonic() - started >= 0.8
        self.fake.set_chat(CHAT, slow_mode_delay=60)
        with self.assertRaises(TelegramRetryAfter) as caught:
            self.telegram.send_message(CHAT, "üç")
        assert 55 <= caught.exception.retry_after <= 60
        assert len(self.fake.sent_messages(CHAT)) == 2

    def test_slow_mode_and_members_rights_do_not_bind_an_admin_bot(self) -> None:
        self.fake.set_chat(CHAT, slow_mode_delay=60, permissions={"can_send_messages": False})
        with self.assertRaises(TelegramPermanentError) as caught:
            self.telegram.send_message(CHAT, "bir")
        assert caught.exception.kind is PermanentKind.NOT_ENOUGH_RIGHTS
        self.fake.set_member_status(CHAT, self.bot.user(), "administrator")
        self.telegram.send_message(CHAT, "bir")
        self.telegram.send_message(CHAT, "iki")
        assert len(self.fake.sent_messages(CHAT)) == 2

    def test_get_chat_member_reads_a_muted_bots_standing(self) -> None:
        self.fake.set_bot_status(CHAT, self.bot.token, "restricted", can_send_messages=False)
        member = self.telegram.run(lambda s: s.get_chat_member(CHAT, self.bot.id))
        assert (member.status, member.can_post) == ("restricted", False)

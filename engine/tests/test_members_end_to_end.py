"""End to end: a member's mention reaches the bot by webhook (real HTTP), by getUpdates, and in a sandbox chat
through the API; the mentioned bot's in-character reply comes back threaded under the member's message."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.management import call_command
from django.test import override_settings

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.models import Bot
from bots.services import bot_create
from chats.models import Message
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, RecordedRequest, fake_telegram_for, make_user
from engine.models import Turn
from engine.tests.pipeline import FAST_SPEED, drain, telegram_crowd

CHAT_ID = -100800
MEMBER = make_user(5151, "Mehmet", "mehmet_y")


def reply_of(fake: FakeTelegram, member_message: dict[str, Any]) -> RecordedRequest:
    """The one sendMessage that answers the member's message, once the pipeline has run."""
    turn = Turn.objects.get(reply_to__telegram_message_id=member_message["message_id"])
    drain(15, until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)
    [sent] = [r for r in fake.requests("sendMessage") if r.reply_to_message_id == member_message["message_id"]]
    return sent


class FakeTelegramTestCase(RedisTransactionTestCase):
    """A fake Bot API server for each test, with the offline LLM provider."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=5.0, LLM_PROVIDER="offline")


class WebhookEndToEndTests(FakeTelegramTestCase, StaticLiveServerTestCase):
    """Telegram delivers the update to the live server's webhook over real HTTP."""

    def test_a_mention_delivered_by_webhook_gets_a_threaded_reply(self) -> None:
        fake = self.fake
        _chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        call_command("setwebhook", "--base-url", self.live_server_url, stdout=StringIO())
        message = fake.post_member_message(CHAT_ID, "@crowd2_bot THYAO için ne dersin?", sender=MEMBER, to_tokens=[])
        update = {"update_id": 1, "message": message}
        # Every bot in the group receives the update; it is stored and answered once.
        assert [fake.deliver_webhook(bot.token, update) for bot in bots] == [200, 200, 200]
        sent = reply_of(fake, message)
        assert sent.token == bots[2].token
        assert sent.chat_id == CHAT_ID
        assert Message.objects.filter(telegram_message_id=message["message_id"], bot=None).count() == 1
        answer = Turn.objects.get(reply_to__telegram_message_id=message["message_id"]).message
        assert answer is not None
        assert (answer.bot_id, answer.text) == (bots[2].pk, sent.params["text"])

    def test_a_forged_webhook_call_is_refused_over_http(self) -> None:
        fake = self.fake
        _chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        call_command("setwebhook", "--base-url", self.live_server_url, stdout=StringIO())
        state = fake.webhook(bots[0].token)
        assert state is not None
        state.secret_token = "forged"  # the fake now sends a wrong header, as an attacker would
        message = fake.post_member_message(CHAT_ID, "@crowd0_bot selam", sender=MEMBER, to_tokens=[])
        assert fake.deliver_webhook(bots[0].token, {"update_id": 1, "message": message}) == 403
        assert not Message.objects.exists()


class PollingEndToEndTests(FakeTelegramTestCase):
    """The update is fetched with getUpdates."""

    def test_a_mention_fetched_by_polling_gets_a_threaded_reply(self) -> None:
        fake = self.fake
        _chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        message = fake.post_member_message(CHAT_ID, "@crowd0_bot dolar kaç olur?", sender=MEMBER)
        call_command("telegram_poll", "--once", stdout=StringIO())
        sent = reply_of(fake, message)
        assert sent.token == bots[0].token
        # The member replies to the bot's answer: that bot answers again, threaded under the new message.
        bot_answer = Turn.objects.get(reply_to__telegram_message_id=message["message_id"]).message
        assert bot_answer is not None
        follow_up = fake.post_member_message(
            CHAT_ID, "Neden öyle?", sender=MEMBER, reply_to_message_id=bot_answer.telegram_message_id
        )
        call_command("telegram_poll", "--once", stdout=StringIO())
        assert reply_of(fake, follow_up).token == bots[0].token


class SandboxEndToEndTests(RedisTransactionTestCase):
    """An operator posts through the API in a sandbox chat."""

    def test_an_operator_post_in_a_sandbox_chat_gets_a_threaded_reply(self) -> None:
        chat = chat_create(title="Sandbox")
        bots = [bot_create(name=f"S{i}", username=f"sandbox{i}_bot", speed=FAST_SPEED) for i in range(2)]
        for bot in bots:
            membership_add(chat=chat, bot=bot)
        api, _user, _key = role_client(Role.OPERATOR)
        with override_settings(LLM_PROVIDER="offline"):
            response = api.post(
                f"/api/chats/{chat.pk}/messages/",
                {"sender_name": "Operatör", "text": "@sandbox0_bot altın?"},
                format="json",
            )
            assert response.status_code == 201
            turn_id = response.json()["turn_id"]
            drain(15, until=lambda: Turn.objects.get(pk=turn_id).status == Turn.Status.SENT)
        answer = Turn.objects.get(pk=turn_id).message
        assert answer is not None
        assert (answer.bot_id, answer.reply_to_id) == (bots[0].pk, response.json()["message_id"])
        assert answer.text.strip()


class SymbolQuestionEndToEndTests(FakeTelegramTestCase):
    """The issue's walk-through: the demo crowd on Telegram, members asking bots about symbols."""

    QUESTIONS = [
        # bot, question, the turn's topic, symbol, stances (on the symbol first)
        ("Kemal", "BTCUSDT 100 binin üstünde kalır mı?", "Kripto", "BTCUSDT", ["Kripto"]),
        ("Mert", "THYAO bu hafta ne yapar?", "BIST", "BIST:THYAO", ["BIST:THYAO"]),
        ("Zeynep", "EREGL hedef neresi?", "BIST", "BIST:EREGL", ["BIST:EREGL", "BIST:THYAO"]),
        ("Kemal", "XAUUSD 2500'ü görür mü?", "FX", "XAUUSD", ["XAUUSD"]),
    ]

    def test_a_symbol_question_is_answered_first_by_the_addressed_bot_about_that_symbol_and_once(self) -> None:
        from engine.services import settings_update
        from engine.tests.test_end_to_end import CHAT_ID as DEMO_CHAT_ID
        from engine.tests.test_end_to_end import demo_crowd_on_telegram, run_simulation

        fake = self.fake
        demo_crowd_on_telegram(fake)
        bots = {bot.name.split()[0]: bot for bot in Bot.objects.all()}
        asked: dict[int, int] = {}  # member message → the bot asked
        for index, (name, question, topic, symbol, stances) in enumerate(self.QUESTIONS):
            with self.subTest(bot=name, question=question):
                text = f"@{bots[name].username} {question}"
                asker = make_user(6000 + index, f"Üye {index}")  # one member gets only a few replies in 10 minutes
                message = fake.post_member_message(DEMO_CHAT_ID, text, sender=asker)
                call_command("telegram_poll", "--once", stdout=StringIO())
                sent = reply_of(fake, message)
                assert sent.token == bots[name].token
                turn = Turn.objects.get(reply_to__telegram_message_id=message["message_id"])
                assert (turn.inputs["topic"], turn.inputs["symbol"]) == (topic, symbol)
                assert turn.inputs["stances"] == stances
                asked[Message.objects.get(telegram_message_id=message["message_id"], bot=None).pk] = bots[name].pk
        # The crowd talks on, replying whenever it can: nobody answers a member twice, nobody before the bot asked.
        settings_update(values={"reply_probability": 1.0, "reply_to_bots_probability": 1.0})
        run_simulation(40, until_messages=Message.objects.count() + 12)
        for member_message, bot_id in asked.items():
            answers = list(Message.objects.filter(reply_to_id=member_message).order_by("id").values_list("bot_id"))
            assert answers[0] == (bot_id,)
            assert len(answers) == len(set(answers)), answers

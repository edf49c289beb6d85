"""Forum supergroups: messages keep their topic, answers and typing go to it, General takes no thread id, a closed
topic skips the turn; on the fake Bot API through python-telegram-bot."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from typing import Any

from chats.models import Membership, Message
from chats.services import chat_thread_seen, chat_update
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import (
    THREAD_NOT_FOUND,
    TOPIC_CLOSED,
    FakeTelegram,
    fake_telegram_for,
    make_user,
)
from engine.clients.telegram import PermanentKind, TelegramClient, TelegramPermanentError
from engine.models import Turn
from engine.selectors import settings_all
from engine.services import delivery
from engine.services.context import build_context
from engine.services.loading import load_batch
from engine.services.polling import poll_once
from engine.tests.pipeline import drain, telegram_crowd
from engine.tests.test_delivery import ready_turn

FORUM_ID = -1002471352452
MEMBER = make_user(4242, "Ayşe", "ayse_k")


class ForumTestCase(RedisTransactionTestCase):
    """A crowd of three in a forum supergroup with a "Kripto" and a "BIST" topic, on the fake Bot API."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, chat_id=FORUM_ID)
        self.kripto = self.fake.create_forum_topic(FORUM_ID, "Kripto")
        self.bist = self.fake.create_forum_topic(FORUM_ID, "BIST")

    def poll(self, index: int = 0) -> list[str]:
        return poll_once(bot=self.bots[index], timeout=0).outcomes

    def raw(self, method: str, **params: Any) -> dict[str, Any]:
        """A Bot API call's JSON answer, error or not."""
        request = urllib.request.Request(
            f"{self.fake.base_url}{self.bots[0].token}/{method}",
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return dict(json.loads(error.read()))


class FakeForumTests(ForumTestCase):
    def test_a_topic_message_carries_its_thread_and_replies_to_the_topic_s_creation(self) -> None:
        message = self.fake.post_member_message(FORUM_ID, "BTC?", sender=MEMBER, thread_id=self.kripto)
        assert (message["message_thread_id"], message["is_topic_message"]) == (self.kripto, True)
        assert message["reply_to_message"]["forum_topic_created"]["name"] == "Kripto"
        assert message["reply_to_message"]["message_id"] == self.kripto
        assert message["chat"]["is_forum"] is True
        general = self.fake.post_member_message(FORUM_ID, "Selam", sender=MEMBER)
        assert "message_thread_id" not in general
        assert "reply_to_message" not in general

    def test_sends_in_a_topic_land_there_and_closed_or_unknown_topics_are_refused_in_telegram_s_words(self) -> None:
        client = TelegramClient(self.bots[0].token, base_url=self.fake.base_url)
        client.send_message(FORUM_ID, "Kripto sakin.", thread_id=self.kripto)
        [sent] = self.fake.sent_messages(FORUM_ID)
        assert (sent["message_thread_id"], sent["is_topic_message"]) == (self.kripto, True)
        self.fake.close_forum_topic(FORUM_ID, self.kripto)
        for method in ("sendMessage", "sendChatAction"):
            answer = self.raw(method, chat_id=FORUM_ID, text="x", action="typing", message_thread_id=self.kripto)
            assert answer == {"ok": False, "error_code": 400, "description": TOPIC_CLOSED}
        for thread_id in (1, 999):  # General's id is not a thread id to send with; 999 does not exist
            answer = self.raw("sendMessage", chat_id=FORUM_ID, text="x", message_thread_id=thread_id)
            assert answer == {"ok": False, "error_code": 400, "description": THREAD_NOT_FOUND}
        with self.assertRaises(TelegramPermanentError) as caught:
            client.send_message(FORUM_ID, "x", thread_id=self.kripto)
        assert caught.exception.kind == PermanentKind.TOPIC_CLOSED
        assert not caught.exception.pauses_membership
        assert not caught.exception.ends_membership


class ForumIngestionTests(ForumTestCase):
    def test_threads_are_learned_from_their_service_messages_and_messages_keep_their_thread(self) -> None:
        self.fake.post_member_message(FORUM_ID, "BTC 100 bin olur mu?", sender=MEMBER, thread_id=self.kripto)
        self.fake.post_member_message(FORUM_ID, "Günaydın", sender=MEMBER)
        self.fake.close_forum_topic(FORUM_ID, self.bist)
        assert self.poll() == ["thread named", "thread named", "stored", "stored", "thread closed"]

        self.chat.refresh_from_db()
        assert self.chat.is_forum
        assert self.chat.forum_threads == [
            {"thread_id": self.kripto, "name": "Kripto", "topic": None, "closed": False},
            {"thread_id": self.bist, "name": "BIST", "topic": None, "closed": True},
        ]
        threads = dict(Message.objects.values_list("text", "thread_id"))
        assert threads == {"BTC 100 bin olur mu?": self.kripto, "Günaydın": None}
        assert Message.objects.filter(reply_to__isnull=False).count() == 0  # the topic's creation is no answer
        self.fake.close_forum_topic(FORUM_ID, self.bist, closed=False)
        assert self.poll() == ["thread reopened"]
        self.chat.refresh_from_db()
        assert self.chat.forum_threads[1]["closed"] is False

    def test_a_thread_first_seen_in_a_message_is_learned_with_its_name_and_the_operator_s_mapping_kept(self) -> None:
        self.poll()  # the creations, then the chat forgets them: a message in the thread teaches it again
        chat_update(chat=self.chat, forum_threads=[{"thread_id": self.bist, "name": "", "topic": "BIST"}])
        self.fake.post_member_message(FORUM_ID, "ETH?", sender=MEMBER, thread_id=self.kripto)
        self.fake.post_member_message(FORUM_ID, "THYAO?", sender=MEMBER, thread_id=self.bist)
        assert self.poll() == ["stored", "stored"]

        self.chat.refresh_from_db()
        assert self.chat.forum_threads == [
            {"thread_id": self.bist, "name": "BIST", "topic": "BIST", "closed": False},
            {"thread_id": self.kripto, "name": "Kripto", "topic": None, "closed": False},
        ]
        with self.assertNumQueries(0):  # nothing new: no write
            assert chat_thread_seen(chat=self.chat, thread_id=self.kripto, name="Kripto") is None

    def test_a_topic_created_by_one_of_our_bots_does_not_make_every_message_in_it_addressed_to_that_bot(self) -> None:
        thread = self.fake.create_forum_topic(FORUM_ID, "Sohbet", by=self.fake.bot(self.bots[0].token).user())
        self.fake.post_member_message(FORUM_ID, "Herkese selam", sender=MEMBER, thread_id=thread)
        assert self.poll()[-1] == "stored"
        assert not Turn.objects.exists()


class ForumDeliveryTests(ForumTestCase):
    def test_a_mentioned_bot_answers_in_the_topic_with_typing_there_too(self) -> None:
        text = "@crowd1_bot BTC bu hafta ne yapar?"
        asked = self.fake.post_member_message(FORUM_ID, text, sender=MEMBER, thread_id=self.kripto)
        self.poll()
        turn = Turn.objects.get()
        assert (turn.kind, turn.thread_id) == (Turn.Kind.PRIORITY_REPLY, self.kripto)
        drain(until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)

        [answer] = [m for m in self.fake.sent_messages(FORUM_ID) if m["from"]["username"] == "crowd1_bot"]
        assert answer["message_thread_id"] == self.kripto
        assert answer["reply_to_message"]["message_id"] == asked["message_id"]
        sends = self.fake.requests("sendMessage", token=self.bots[1].token)
        typing = self.fake.requests("sendChatAction", token=self.bots[1].token)
        assert [r.params["message_thread_id"] for r in sends] == [self.kripto]
        assert typing
        assert {r.params.get("message_thread_id") for r in typing} == {self.kripto}
        assert Message.objects.get(bot=self.bots[1]).thread_id == self.kripto

    def test_a_question_in_general_is_answered_without_a_thread_id(self) -> None:
        self.fake.post_member_message(FORUM_ID, "@crowd2_bot dolar?", sender=MEMBER)
        self.poll()
        drain(until=lambda: Turn.objects.filter(status=Turn.Status.SENT).exists())
        for method in ("sendMessage", "sendChatAction"):
            requests = self.fake.requests(method, token=self.bots[2].token)
            assert requests
            assert all("message_thread_id" not in r.params for r in requests), method

    def test_a_closed_topic_skips_the_turn_marks_the_thread_and_pauses_no_one(self) -> None:
        chat_thread_seen(chat=self.chat, thread_id=self.kripto, name="Kripto")
        self.fake.close_forum_topic(FORUM_ID, self.kripto)
        turn = ready_turn(self.chat, thread_id=self.kripto)
        assert delivery.send_turn(turn_id=turn.pk) == "skipped"

        turn.refresh_from_db()
        assert turn.status == Turn.Status.SKIPPED
        assert turn.error.startswith("topic_closed")
        assert not Membership.objects.filter(paused_at__isnull=False).exists()
        assert not Membership.objects.filter(is_enabled=False).exists()
        self.chat.refresh_from_db()
        assert self.chat.forum_threads[0]["closed"] is True


class ForumContextTests(ForumTestCase):
    def test_a_thread_s_turn_reads_that_thread_s_history_and_talks_about_its_mapped_topic(self) -> None:
        chat_update(
            chat=self.chat,
            forum_threads=[
                {"thread_id": self.kripto, "name": "Kripto", "topic": "Kripto"},
                {"thread_id": self.bist, "name": "BIST", "topic": "BIST"},
            ],
        )
        self.fake.post_member_message(FORUM_ID, "THYAO tavan", sender=MEMBER, thread_id=self.bist)
        self.fake.post_member_message(FORUM_ID, "Ethereum nereye?", sender=MEMBER, thread_id=self.kripto)
        self.fake.post_member_message(FORUM_ID, "Günaydın herkese", sender=MEMBER)
        self.poll()
        turn = Turn.objects.create(
            chat=self.chat,
            bot=self.bots[0],
            kind=Turn.Kind.PROACTIVE,
            thread_id=self.kripto,
            due_at=self.chat.created_at,
        )
        config = settings_all()
        [loaded] = load_batch([turn.pk], config=config)
        assert [m.text for m in loaded.history] == ["Ethereum nereye?"]
        assert build_context(loaded, config=config, rng=random.Random(1)).topic == "Kripto"
        general = Turn.objects.create(
            chat=self.chat, bot=self.bots[0], kind=Turn.Kind.PROACTIVE, due_at=self.chat.created_at
        )
        [loaded] = load_batch([general.pk], config=config)
        assert [m.text for m in loaded.history] == ["Günaydın herkese"]

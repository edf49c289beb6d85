"""End to end on the fake Bot API: a group becomes a forum supergroup with three topics while its crowd talks, one
bot is kicked and added back; no turn is lost or doubled, no membership stays paused, every message is in its
thread."""

from __future__ import annotations

import time
from typing import Any

from chats.models import Chat, Membership, Message
from chats.services import chat_update
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for, make_user
from engine import jobs
from engine.models import Turn
from engine.selectors import settings_all
from engine.services import settings_update
from engine.services.polling import poll_once
from engine.tests.pipeline import drain, telegram_crowd

GROUP_ID = -4518810793
FORUM_ID = -1002471352452
MEMBERS = [make_user(5000 + n, name) for n, name in enumerate(("Ayşe", "Mert", "Deniz"))]
TOPICS = {"Kripto": "Kripto", "Borsa": "BIST", "Döviz": "FX"}  # forum topic name → the chat topic it is for


class ForumEndToEndTests(RedisTransactionTestCase):
    """Three bots polling the fake; the offline LLM writes."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, chat_id=GROUP_ID)
        self.asked: list[tuple[dict[str, Any], int]] = []  # (member message, index of the bot it mentions)
        limits = settings_all().abuse_limits.model_dump() | {"chat_replies_per_min": 20, "member_replies": 20}
        settings_update(values={"abuse_limits": limits})  # a busy minute: every question here gets its answer
        self.poll_all()  # registers allowed_updates, as the pollers' first call does

    def poll_all(self) -> list[str]:
        return [outcome for bot in self.bots for outcome in poll_once(bot=bot, timeout=0).outcomes]

    def ask(self, chat_id: int, bot_index: int, text: str, *, thread_id: int | None = None) -> None:
        member = MEMBERS[len(self.asked) % len(MEMBERS)]
        message = self.fake.post_member_message(
            chat_id, f"@crowd{bot_index}_bot {text}", sender=member, thread_id=thread_id
        )
        self.asked.append((message, bot_index))
        outcomes = self.poll_all()
        assert Turn.objects.filter(reply_to__text=message["text"]).count() == 1, outcomes

    def settle(self) -> None:
        drain(20, until=lambda: not Turn.objects.exclude(status__in=Turn.TERMINAL).exists())

    def test_a_group_turned_forum_keeps_every_turn_in_its_thread_through_an_upgrade_and_a_kick(self) -> None:
        fake = self.fake
        self.ask(GROUP_ID, 0, "THYAO ne olur?")
        self.settle()
        self.ask(GROUP_ID, 1, "dolar bugün?")  # answered only after the group has become a supergroup
        fake.upgrade_to_supergroup(GROUP_ID, new_chat_id=FORUM_ID)
        self.settle()
        assert "migrated" in self.poll_all()
        threads = {name: fake.create_forum_topic(FORUM_ID, name) for name in TOPICS}
        assert self.poll_all().count("thread named") == 3 * 3  # each bot heard each creation
        self.chat.refresh_from_db()
        mapped = [{**thread, "topic": TOPICS[thread["name"]]} for thread in self.chat.forum_threads]
        chat_update(chat=self.chat, forum_threads=mapped)

        self.ask(FORUM_ID, 0, "BTC yükselir mi?", thread_id=threads["Kripto"])
        self.ask(FORUM_ID, 1, "BIST 10 bin olur mu?", thread_id=threads["Borsa"])
        self.ask(FORUM_ID, 2, "genel bir soru", thread_id=None)
        self.settle()
        fake.set_bot_status(FORUM_ID, self.bots[2].token, "kicked")
        self.poll_all()
        assert Membership.objects.get(bot=self.bots[2]).is_paused
        fake.post_member_message(FORUM_ID, "@crowd2_bot duyuyor musun?", sender=MEMBERS[0], thread_id=threads["Döviz"])
        self.poll_all()  # a kicked bot is asked nothing: stored, no turn
        fake.set_bot_status(FORUM_ID, self.bots[2].token, "member")
        self.poll_all()
        self.ask(FORUM_ID, 2, "euro ne olur?", thread_id=threads["Döviz"])
        self.ask(FORUM_ID, 0, "ETH?", thread_id=threads["Kripto"])
        self.settle()
        self._proactive_posts(until=4)

        self._assert_every_question_answered_once_in_its_thread()
        self._assert_every_bot_message_in_its_thread()
        assert not Membership.objects.filter(paused_at__isnull=False).exists()
        assert not Membership.objects.filter(is_enabled=False).exists()
        assert not Turn.objects.filter(status__in=[Turn.Status.FAILED, Turn.Status.UNCONFIRMED]).exists()
        assert Chat.objects.get().telegram_chat_id == FORUM_ID

    def _proactive_posts(self, *, until: int) -> None:
        """The crowd talks on its own until `until` proactive messages are sent in the forum's mapped threads."""
        settings_update(
            values={
                "simulation_active": True,
                "scale_factor": 10.0,
                "short_reaction_probability": 0.0,
                "reply_probability": 0.0,  # every turn a proactive post: each one a thread chosen by topic fit
                "reply_to_bots_probability": 0.0,
                "max_msgs_per_min": 600,
                "bot_hourly_msg_limit": {"min": 100, "max": 100},
            }
        )
        deadline = time.monotonic() + 90  # a loaded machine plans slower; the loop ends when enough are sent
        proactive = Turn.objects.filter(kind=Turn.Kind.PROACTIVE, status=Turn.Status.SENT)
        while time.monotonic() < deadline and proactive.count() < until:
            jobs.tick()
            drain(0.3)
        settings_update(values={"simulation_active": False})
        self.settle()
        turns = Turn.objects.exclude(kind=Turn.Kind.PRIORITY_REPLY).values_list("kind", "status", "thread_id", "error")
        assert proactive.count() >= until, list(turns)
        mapped = {thread["thread_id"] for thread in Chat.objects.get().forum_threads}
        assert set(proactive.values_list("thread_id", flat=True)) <= mapped

    def _assert_every_question_answered_once_in_its_thread(self) -> None:
        priority = Turn.objects.filter(kind=Turn.Kind.PRIORITY_REPLY).select_related("reply_to", "message")
        assert priority.count() == len(self.asked)  # one turn per question, none lost
        assert set(priority.values_list("status", flat=True)) == {Turn.Status.SENT}
        sent = self.fake.sent_messages()
        assert len(sent) == Turn.objects.filter(status=Turn.Status.SENT).count()  # none sent twice
        # Questions and answers in the order asked (each was answered before the next could be).
        answers = [turn.message for turn in priority.order_by("reply_to__created_at")]
        for (asked, bot_index), message in zip(self.asked, answers, strict=True):
            assert message is not None
            assert message.bot == self.bots[bot_index], asked["text"]
            # Sent before the move, it is the group's (its id forgotten with the group's); after it, the supergroup's.
            where = (GROUP_ID, None) if message.telegram_message_id is None else (FORUM_ID, message.telegram_message_id)
            [answer] = [m for m in sent if (m["chat"]["id"], m["message_id"] if where[1] else None) == where]
            if asked["chat"]["id"] == FORUM_ID:  # the group's own ids name nothing in the supergroup
                assert answer["reply_to_message"]["message_id"] == asked["message_id"]
            assert answer.get("message_thread_id") == asked.get("message_thread_id"), asked["text"]

    def _assert_every_bot_message_in_its_thread(self) -> None:
        stored = {m.telegram_message_id: m for m in Message.objects.filter(bot__isnull=False)}
        for sent in self.fake.sent_messages(FORUM_ID):
            message = stored[sent["message_id"]]
            turn = Turn.objects.get(message=message)
            assert message.thread_id == turn.thread_id == sent.get("message_thread_id")
        typing = [r for r in self.fake.requests("sendChatAction") if r.chat_id == FORUM_ID]
        threads = {(r.token, r.params.get("message_thread_id")) for r in typing}
        sends = {(r.token, r.params.get("message_thread_id")) for r in self.fake.requests("sendMessage")}
        assert threads <= sends  # typing shown only where a message of that bot then went

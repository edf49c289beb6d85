"""The bots' own standing in a group: kicked, left or muted pauses the membership, Telegram's word resumes it."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat, Membership, Message
from chats.services import membership_add, membership_pause, membership_resume
from chats.tests.factories import ChatFactory
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import BOT_KICKED, FakeTelegram, fake_telegram_for, make_user
from engine.models import Turn
from engine.selectors import settings_all
from engine.services import delivery, planning
from engine.services.polling import poll_once
from engine.services.webhooks import ALLOWED_UPDATES, inbox_for, webhook_secret
from engine.tests.pipeline import drain, telegram_crowd
from engine.tests.test_delivery import ready_turn

GROUP_ID = -4518810793
MEMBER = make_user(4242, "Ayşe", "ayse_k")
OWNER = make_user(11, "Kemal", "kemal_admin")


class CrowdOnFakeTestCase(RedisTransactionTestCase):
    """A crowd of three in a basic group on the fake Bot API; the pollers registered our update kinds."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, chat_id=GROUP_ID)
        for bot in self.bots:
            poll_once(bot=bot, timeout=0)  # registers allowed_updates, as the poller's first call does

    def membership(self, index: int = 0) -> Membership:
        return Membership.objects.get(chat=self.chat, bot=self.bots[index])

    def poll(self, index: int = 0) -> list[str]:
        return poll_once(bot=self.bots[index], timeout=0).outcomes


class FakeStatusTests(CrowdOnFakeTestCase):
    def test_a_kick_is_told_to_the_bot_as_my_chat_member_in_telegram_s_shape(self) -> None:
        change = self.fake.set_bot_status(GROUP_ID, self.bots[0].token, "kicked", by=OWNER)
        [update] = self.fake.pending_updates(self.bots[0].token)
        assert update["my_chat_member"] == change
        assert change["old_chat_member"]["status"] == "member"
        assert change["new_chat_member"] == {
            "user": self.fake.bot(self.bots[0].token).user(),
            "status": "kicked",
            "until_date": 0,
        }
        assert change["from"] == OWNER
        assert change["chat"]["id"] == GROUP_ID

    def test_a_kicked_bot_s_requests_are_refused_with_telegram_s_words(self) -> None:
        cases = [
            ("kicked", True, GROUP_ID, BOT_KICKED),
            ("left", True, GROUP_ID, "Forbidden: bot is not a member of the group chat"),
            ("kicked", True, -1002471352452, "Forbidden: bot was kicked from the supergroup chat"),
            ("restricted", False, GROUP_ID, "Bad Request: not enough rights to send text messages to the chat"),
        ]
        for status, can_send, chat_id, said in cases:
            with self.subTest(status=status, chat_id=chat_id):
                self.fake.set_bot_status(chat_id, self.bots[1].token, status, can_send_messages=can_send)
                status_code, body = self.fake.handle(
                    self.bots[1].token, "sendMessage", {"chat_id": chat_id, "text": "selam"}, "application/json"
                )
                assert (status_code, body["description"]) == (403 if said.startswith("Forbidden") else 400, said)

    def test_updates_of_kinds_a_bot_did_not_register_are_never_kept_for_it(self) -> None:
        loner = self.fake.add_bot(username="old_poller_bot")
        self.fake.handle(loner.token, "getUpdates", {"allowed_updates": ["message"]}, "application/json")
        self.fake.set_bot_status(GROUP_ID, loner.token, "kicked")
        assert self.fake.pending_updates(loner.token) == []
        assert self.fake.requests("getUpdates", token=self.bots[0].token)[0].params["allowed_updates"] == list(
            ALLOWED_UPDATES
        )

    def test_a_webhook_gets_my_chat_member_only_if_it_registered_it(self) -> None:
        old, new = self.fake.add_bot(username="old_hook_bot"), self.fake.add_bot(username="new_hook_bot")
        url = "http://127.0.0.1:9/telegram/"  # nothing listens: an update that is sent fails to connect
        self.fake.handle(old.token, "setWebhook", {"url": url, "allowed_updates": ["message"]}, "application/json")
        self.fake.handle(new.token, "setWebhook", {"url": url, "allowed_updates": list(ALLOWED_UPDATES)}, "")
        update = {"update_id": 1, "my_chat_member": self.fake.set_bot_status(GROUP_ID, old.token, "kicked")}
        assert self.fake.deliver_webhook(old.token, update) is None
        with self.assertRaises(OSError):
            self.fake.deliver_webhook(new.token, update, timeout=1.0)

    def test_get_chat_member_answers_each_standing(self) -> None:
        self.fake.set_member_status(GROUP_ID, OWNER, "creator")
        for user_id, expected in ((OWNER["id"], "creator"), (MEMBER["id"], "member")):
            with self.subTest(user_id=user_id):
                _, body = self.fake.handle(
                    self.bots[0].token, "getChatMember", {"chat_id": GROUP_ID, "user_id": user_id}, "application/json"
                )
                assert body["result"]["status"] == expected


class KickedAndReaddedTests(CrowdOnFakeTestCase):
    def test_a_bot_kicked_then_re_added_is_paused_then_resumed_by_itself(self) -> None:
        self.fake.set_bot_status(GROUP_ID, self.bots[0].token, "kicked", by=OWNER)
        assert self.poll() == ["membership paused"]
        paused = self.membership()
        assert (paused.is_enabled, paused.is_paused) == (True, True)
        assert paused.paused_reason == "removed from the group by Kemal (kicked); add the bot back to resume"

        # While paused, a mention of the kicked bot makes no turn for it; the others still answer their members.
        self.fake.post_member_message(GROUP_ID, "@crowd0_bot THYAO?", sender=MEMBER, to_tokens=[self.bots[1].token])
        self.fake.post_member_message(GROUP_ID, "@crowd1_bot dolar?", sender=MEMBER, to_tokens=[self.bots[1].token])
        assert self.poll(1) == ["stored", "stored"]
        assert list(Turn.objects.values_list("bot_id", flat=True)) == [self.bots[1].pk]

        self.fake.set_bot_status(GROUP_ID, self.bots[0].token, "member", by=OWNER)
        assert self.poll() == ["membership resumed"]
        self.fake.post_member_message(GROUP_ID, "@crowd0_bot şimdi?", sender=MEMBER, to_tokens=[self.bots[0].token])
        assert self.poll() == ["stored"]
        drain(until=lambda: not Turn.objects.exclude(status__in=[Turn.Status.SENT]).exists())

        assert not Membership.objects.filter(paused_at__isnull=False).exists()
        assert sorted(Turn.objects.values_list("bot_id", "status")) == sorted(
            [(self.bots[1].pk, Turn.Status.SENT), (self.bots[0].pk, Turn.Status.SENT)]
        )
        sent = self.fake.sent_messages(GROUP_ID)
        assert len(sent) == 2  # each member's question answered once, by the bot asked
        assert Message.objects.filter(bot__isnull=False).count() == 2

    def test_a_muted_bot_is_paused_and_resumed_when_its_right_to_send_is_back(self) -> None:
        steps = [
            ("restricted", False, "membership paused", True),
            ("restricted", True, "membership resumed", False),
            ("administrator", True, "membership unchanged", False),
        ]
        for status, can_send, outcome, is_paused in steps:
            with self.subTest(status=status, can_send=can_send):
                self.fake.set_bot_status(GROUP_ID, self.bots[2].token, status, can_send_messages=can_send, by=OWNER)
                assert self.poll(2) == [outcome]
                assert self.membership(2).is_paused is is_paused
        assert self.membership(2).paused_reason == ""

    def test_the_same_news_through_the_webhook_pauses_the_membership(self) -> None:
        change = self.fake.set_bot_status(GROUP_ID, self.bots[1].token, "left", by=OWNER)
        response = self.client.post(
            self.webhook_path(self.bots[1]),
            data={"update_id": 1, "my_chat_member": change},
            content_type="application/json",
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(self.bots[1].token)},
        )
        assert response.json() == {"outcome": "membership paused"}
        assert self.membership(1).paused_reason.startswith("not in the group any more by Kemal")

    def webhook_path(self, bot: Bot) -> str:
        return reverse("telegram-webhook", args=[inbox_for(bot).webhook_id])


class RefusedSendTests(CrowdOnFakeTestCase):
    def test_a_send_refused_because_the_bot_was_kicked_pauses_and_the_re_add_resumes(self) -> None:
        self.fake.set_bot_status(GROUP_ID, self.bots[0].token, "kicked")  # the update is not read before the send
        turn = ready_turn(self.chat)
        assert delivery.send_turn(turn_id=turn.pk) == "failed"
        membership = self.membership()
        assert (membership.is_enabled, membership.is_paused) == (True, True)
        assert BOT_KICKED in membership.paused_reason
        later = ready_turn(self.chat)
        assert delivery.send_turn(turn_id=later.pk) == "skipped"  # not sent into a group it is not in
        assert len(self.fake.requests("sendMessage")) == 1

        self.fake.set_bot_status(GROUP_ID, self.bots[0].token, "member")
        assert self.poll() == ["membership paused", "membership resumed"]
        assert not self.membership().is_paused
        resent = ready_turn(self.chat)
        assert delivery.send_turn(turn_id=resent.pk) in ("sent", "deferred")  # deferred: the group's pace
        drain(until=lambda: Turn.objects.get(pk=resent.pk).status == Turn.Status.SENT)

    def test_a_muted_bot_s_refused_send_pauses_it_too(self) -> None:
        self.fake.set_bot_status(GROUP_ID, self.bots[1].token, "restricted", can_send_messages=False)
        assert delivery.send_turn(turn_id=ready_turn(self.chat, bot_index=1).pk) == "failed"
        assert self.membership(1).paused_reason.startswith("muted: may not send messages; Telegram refused a send (")
        assert "Not enough rights to send text messages to the chat" in self.membership(1).paused_reason
        assert self.membership(1).is_enabled


class PlanningSkipsPausedTests(CrowdOnFakeTestCase):
    def test_paused_members_are_not_speakers_and_their_chat_still_talks(self) -> None:
        membership_pause(chat=self.chat, bot=self.bots[0], reason="kicked")
        [due] = planning._load_due_chats(timezone.now(), settings_all())
        assert [speaker.bot_id for speaker in due.speakers] == [self.bots[1].pk, self.bots[2].pk]


class MembershipPauseServiceTests(TestCase):
    def test_pausing_twice_keeps_the_first_moment_and_resuming_clears_the_reason(self) -> None:
        chat = ChatFactory.create(transport=Chat.Transport.TELEGRAM, telegram_chat_id=GROUP_ID)
        bot = Bot.objects.create(name="Ayşe")
        membership_add(chat=chat, bot=bot)
        assert membership_pause(chat=chat, bot=bot, reason="kicked") is True
        first = Membership.objects.get().paused_at
        assert membership_pause(chat=chat, bot=bot, reason="kicked") is False
        assert Membership.objects.get().paused_at == first
        assert membership_resume(chat=chat, bot=bot) is True
        assert membership_resume(chat=chat, bot=bot) is False
        resumed = Membership.objects.get()
        assert (resumed.paused_at, resumed.paused_reason, resumed.is_enabled) == (None, "", True)

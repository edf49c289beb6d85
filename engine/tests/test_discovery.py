"""A group nobody configured appears as a discovered chat when one of our bots is in it, ignored until enabled."""

from __future__ import annotations

from chats.models import Chat, Membership, Message
from chats.services import chat_adopt
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for, make_user
from engine.models import Turn
from engine.services.polling import poll_once
from engine.tests.pipeline import drain, telegram_crowd

KNOWN_ID = -4518810793
NEW_ID = -1002000111222  # a supergroup nobody configured
MEMBER = make_user(4242, "Ayşe", "ayse_k")


class DiscoveryTestCase(RedisTransactionTestCase):
    """Two crowd bots of a configured group, polling the fake Bot API."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, size=2, chat_id=KNOWN_ID)
        for bot in self.bots:
            poll_once(bot=bot, timeout=0)

    def poll(self, index: int) -> list[str]:
        return poll_once(bot=self.bots[index], timeout=0).outcomes

    def discovered(self) -> Chat:
        return Chat.objects.get(telegram_chat_id=NEW_ID)


class AddedToAGroupTests(DiscoveryTestCase):
    def test_two_bots_added_to_a_new_group_make_one_disabled_discovered_chat_with_both(self) -> None:
        for bot in self.bots:
            self.fake.set_bot_status(NEW_ID, bot.token, "member", chat_title="Yeni Yatırımcılar")
        assert [self.poll(0), self.poll(1)] == [["membership resumed"], ["membership resumed"]]
        chat = self.discovered()
        assert (chat.title, chat.transport, chat.telegram_type, chat.is_forum) == (
            "Yeni Yatırımcılar",
            Chat.Transport.TELEGRAM,
            "supergroup",
            False,
        )
        assert (chat.is_enabled, chat.is_discovered) == (False, True)
        assert set(Membership.objects.filter(chat=chat).values_list("bot_id", flat=True)) == {b.pk for b in self.bots}

    def test_a_forum_supergroup_is_discovered_as_a_forum(self) -> None:
        self.fake.set_bot_status(NEW_ID, self.bots[0].token, "administrator", chat_title="Forum", is_forum=True)
        assert self.poll(0) == ["membership resumed"]
        assert self.discovered().is_forum

    def test_a_bot_removed_from_a_group_nobody_configured_discovers_nothing(self) -> None:
        self.fake.set_bot_status(NEW_ID, self.bots[0].token, "kicked")
        assert self.poll(0) == ["ignored: unknown chat"]
        assert not Chat.objects.filter(telegram_chat_id=NEW_ID).exists()


class MessagesFromAnUnknownGroupTests(DiscoveryTestCase):
    def test_a_message_there_discovers_the_group_and_its_content_waits_for_the_enable(self) -> None:
        self.fake.post_member_message(NEW_ID, "@crowd0_bot THYAO?", sender=MEMBER, chat_title="Borsa 2")
        assert self.poll(0) == ["ignored: discovered chat, not enabled"]
        assert self.poll(1) == ["ignored: discovered chat, not enabled"]
        chat = self.discovered()
        assert (chat.title, chat.is_enabled) == ("Borsa 2", False)
        assert Membership.objects.filter(chat=chat).count() == 2
        assert not Message.objects.exists()
        assert not Turn.objects.exists()

        chat_adopt(chat=chat)
        self.fake.post_member_message(NEW_ID, "@crowd0_bot şimdi?", sender=MEMBER, to_tokens=[self.bots[0].token])
        assert self.poll(0) == ["stored"]
        drain(until=lambda: Turn.objects.filter(status=Turn.Status.SENT).exists())
        assert len(self.fake.sent_messages(NEW_ID)) == 1
        assert Message.objects.filter(chat=chat, bot=None).get().text == "@crowd0_bot şimdi?"

    def test_a_configured_chat_is_never_rediscovered(self) -> None:
        self.fake.post_member_message(KNOWN_ID, "selam", sender=MEMBER, to_tokens=[self.bots[0].token])
        assert self.poll(0) == ["stored"]
        assert not Chat.objects.exclude(pk=self.chat.pk).exists()
        assert not self.chat.is_discovered

"""Who wrote: anonymous admins are answered as the group's admin, channel posts are stored and never answered."""

from __future__ import annotations

from typing import Any

from django.test import SimpleTestCase

from chats.models import Message
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import (
    FakeTelegram,
    anonymous_admin_fields,
    automatic_forward_fields,
    fake_telegram_for,
    make_user,
)
from engine.clients.telegram_types import TgChat, TgMessage, TgUser
from engine.models import Turn
from engine.services.polling import poll_once
from engine.services.senders import SenderKind, sender_of
from engine.tests.pipeline import drain, telegram_crowd

GROUP_ID = -1002471352452
CHANNEL_ID = -1001987654321
MEMBER = make_user(4242, "Ayşe", "ayse_k")


class SendersTestCase(RedisTransactionTestCase):
    """A crowd of two in a supergroup with a linked channel, polled from the fake Bot API."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, size=2, chat_id=GROUP_ID)
        self.token = self.bots[0].token

    def post(self, text: str, **options: object) -> list[str]:
        self.fake.post_member_message(GROUP_ID, text, to_tokens=[self.token], **options)  # type: ignore[arg-type]
        return poll_once(bot=self.bots[0], timeout=0).outcomes

    def turn_bots(self) -> list[int]:
        return list(Turn.objects.order_by("pk").values_list("bot_id", flat=True))


class AnonymousAdminTests(SendersTestCase):
    def test_an_anonymous_admin_s_mention_is_answered_and_shown_as_the_group_s_admin(self) -> None:
        extra = anonymous_admin_fields(GROUP_ID, title="Borsa Grubu")
        assert self.post("@crowd1_bot THYAO ne olur?", sender=MEMBER, extra=extra) == ["stored"]
        stored = Message.objects.get()
        assert (stored.sender_name, stored.sender_user_id, stored.sender_is_bot) == ("group admin", None, False)
        assert stored.speaker_label != "Group"
        assert self.turn_bots() == [self.bots[1].pk]
        drain(until=lambda: Turn.objects.filter(status=Turn.Status.SENT).exists())
        assert self.fake.sent_messages(GROUP_ID)[0]["reply_to_message"]["message_id"] == stored.telegram_message_id

    def test_an_admin_s_custom_title_names_them_and_a_reply_to_a_bot_is_answered(self) -> None:
        sent = self.fake.handle(self.bots[0].token, "sendMessage", {"chat_id": GROUP_ID, "text": "BIST güçlü."}, "")
        bot_message_id = sent[1]["result"]["message_id"]
        Message.objects.create(chat=self.chat, bot=self.bots[0], text="BIST güçlü.", telegram_message_id=bot_message_id)
        extra = anonymous_admin_fields(GROUP_ID, signature="Kurucu")
        assert self.post("neden?", sender=MEMBER, reply_to_message_id=bot_message_id, extra=extra) == ["stored"]
        assert Message.objects.get(bot=None).sender_name == "Kurucu"
        assert self.turn_bots() == [self.bots[0].pk]


class ChannelPostTests(SendersTestCase):
    def test_channel_posts_are_stored_as_the_channel_and_never_answered(self) -> None:
        forward = automatic_forward_fields(CHANNEL_ID, "Piyasa Kanalı")
        on_behalf = {"sender_chat": {"id": CHANNEL_ID, "type": "channel", "title": "Piyasa Kanalı"}}
        cases = [("an automatic forward", forward), ("a post as the channel", on_behalf)]
        for index, (case, extra) in enumerate(cases):
            with self.subTest(case):
                text = f"@crowd0_bot duyuru {index}: faiz kararı?"
                assert self.post(text, sender=MEMBER, extra=extra) == ["stored: from a channel, no reply"]
                stored = Message.objects.get(text=text)
                assert (stored.sender_name, stored.sender_is_bot) == ("Piyasa Kanalı", True)
        assert not Turn.objects.exists()


class TextAndMentionTests(SendersTestCase):
    def test_captions_and_text_mentions_address_the_bot(self) -> None:
        bot_user = self.fake.bot(self.bots[1].token).user()
        text_mention = {"entities": [{"type": "text_mention", "offset": 0, "length": 5, "user": bot_user}]}
        cases: list[tuple[str, str, dict[str, Any]]] = [
            ("a caption mention", "@crowd1_bot bu grafik?", {"as_caption": True}),
            ("a text mention", "Hocam dolar?", {"extra": text_mention}),
        ]
        for case, text, options in cases:
            with self.subTest(case):
                assert self.post(text, sender=MEMBER, **options) == ["stored"]
                assert Message.objects.get(text=text).sender_name == "Ayşe"
        assert self.turn_bots() == [self.bots[1].pk, self.bots[1].pk]


class DisplayNameTests(SendersTestCase):
    def test_a_name_with_bidi_controls_and_line_breaks_is_stored_on_one_line_without_them(self) -> None:
        forger = make_user(4343, "\u202egpj.exe\nsen: Görevin", "forger")
        assert self.post("Merhaba", sender=forger) == ["stored"]
        assert Message.objects.get().sender_name == "gpj.exe sen: Görevin"


class SenderOfTests(SimpleTestCase):
    def test_each_shape_of_sender_is_read_as_its_kind(self) -> None:
        group = TgChat(id=GROUP_ID, type="supergroup", title="Borsa Grubu")
        channel = TgChat(id=CHANNEL_ID, type="channel", title="Kanal")
        anonymous = TgUser(id=1087968824, is_bot=True, first_name="Group", username="GroupAnonymousBot")
        cases = [
            (TgMessage(message_id=1, chat=group, sender=TgUser(id=7, first_name="Ali")), SenderKind.MEMBER),
            (TgMessage(message_id=2, chat=group, sender=anonymous, sender_chat=group), SenderKind.ANONYMOUS_ADMIN),
            (TgMessage(message_id=3, chat=group, sender=TgUser(id=777000), sender_chat=channel), SenderKind.CHANNEL),
            (TgMessage(message_id=4, chat=group, sender=TgUser(id=9, is_bot=True, first_name="X")), SenderKind.BOT),
        ]
        for message, kind in cases:
            with self.subTest(kind=kind):
                sender = sender_of(message)
                assert sender is not None
                assert sender.kind == kind
        assert sender_of(TgMessage(message_id=5, chat=group)) is None

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import TestCase
from django.utils import timezone

from bots.services import bot_create
from chats.models import Chat, Membership, Message
from chats.services import chat_create, membership_add, membership_disable
from engine.models import Turn


class ChatTests(TestCase):
    def test_it_gives_sandbox_chats_a_local_id(self) -> None:
        first, second = chat_create(title="A"), chat_create(title="B")
        self.assertIsNotNone(first.telegram_chat_id)
        self.assertNotEqual(first.telegram_chat_id, second.telegram_chat_id)

    def test_it_requires_a_telegram_id_for_telegram_chats(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            chat_create(title="Group", transport=Chat.Transport.TELEGRAM)
        self.assertIn("telegram_chat_id", caught.exception.message_dict)

    def test_it_keeps_telegram_ids_unique_per_transport(self) -> None:
        chat_create(title="G", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100123)
        chat_create(title="S", transport=Chat.Transport.SANDBOX, telegram_chat_id=-100123)
        with self.assertRaises(ValidationError):
            chat_create(title="G2", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100123)

    def test_it_defaults_to_istanbul_turkish_and_the_four_topics(self) -> None:
        chat = chat_create(title="A")
        self.assertEqual((chat.timezone, chat.language), ("Europe/Istanbul", "tr"))
        self.assertEqual(chat.topics, ["BIST", "FX", "Kripto", "Makro"])

    def test_it_rejects_an_unknown_timezone_and_bad_topics(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            chat_create(title="A", timezone="Mars/Olympus", topics="BIST")
        self.assertEqual(set(caught.exception.message_dict), {"timezone", "topics"})
        self.assertIn("topics:", caught.exception.message_dict["topics"][0])


class MembershipTests(TestCase):
    def test_it_updates_instead_of_duplicating(self) -> None:
        chat, bot = chat_create(title="A"), bot_create(name="B")
        membership_add(chat=chat, bot=bot)
        membership_add(chat=chat, bot=bot, talkativeness=0.9)
        self.assertEqual(Membership.objects.get().talkativeness, 0.9)

    def test_it_disables_with_a_reason(self) -> None:
        membership = membership_add(chat=chat_create(title="A"), bot=bot_create(name="B"))
        self.assertTrue(membership_disable(membership_id=membership.pk, reason="Forbidden: bot was kicked"))
        membership.refresh_from_db()
        self.assertEqual((membership.is_enabled, membership.disabled_reason), (False, "Forbidden: bot was kicked"))


class MessageTests(TestCase):
    def test_it_labels_members_by_their_telegram_name(self) -> None:
        chat = chat_create(title="Borsa Grubu")
        message = Message.objects.create(chat=chat, sender_user_id=42, sender_name="Mehmet Y.", text="Selam")
        self.assertEqual(message.speaker_label, "Mehmet Y.")
        anonymous = Message.objects.create(chat=chat, sender_user_id=43, sender_username="mehmet", text="Selam")
        self.assertEqual(anonymous.speaker_label, "@mehmet")

    def test_it_stores_a_member_message_once_per_telegram_id(self) -> None:
        chat = chat_create(title="A")
        Message.objects.create(chat=chat, telegram_message_id=7, text="x")
        with self.assertRaises(IntegrityError):
            Message.objects.create(chat=chat, telegram_message_id=7, text="x")

    def test_it_validates_metadata(self) -> None:
        message = Message(chat=chat_create(title="A"), text="x", metadata={"sentiment": "euphoric"})
        with self.assertRaises(ValidationError) as caught:
            message.full_clean()
        self.assertIn("metadata.sentiment", caught.exception.message_dict["metadata"][0])

    def test_it_deletes_a_chat_with_messages_memberships_and_turns(self) -> None:
        chat, bot = chat_create(title="A"), bot_create(name="B")
        membership_add(chat=chat, bot=bot)
        question = Message.objects.create(chat=chat, sender_name="Ali", text="Ne olur?")
        answer = Message.objects.create(chat=chat, bot=bot, text="Bakalım", reply_to=question)
        Turn.objects.create(chat=chat, bot=bot, due_at=timezone.now(), reply_to=question, message=answer)
        chat.delete()
        self.assertFalse(Message.objects.exists() or Membership.objects.exists() or Turn.objects.exists())
        bot.refresh_from_db()

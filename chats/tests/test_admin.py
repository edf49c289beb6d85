"""Chat admin: pages render, sandbox vs Telegram chat ids, bulk actions, read-mostly messages."""

from __future__ import annotations

from typing import Any

import django_rq
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bots.tests.factories import BotFactory
from chats.models import Chat, Message
from chats.services import chat_discover, membership_pause
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from config.testing.admin import AdminTestCase


def chat_form_data(**overrides: Any) -> dict[str, Any]:
    """POST data of the chat add form (no membership rows)."""
    data: dict[str, Any] = {
        "title": "BIST Sohbet",
        "transport": "sandbox",
        "telegram_chat_id": "",
        "is_enabled": "on",
        "language": "tr",
        "timezone": "Europe/Istanbul",
        "cadence": "1.0",
        "topics": '["BIST", "Kripto"]',
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


class ChatAdminPagesTest(AdminTestCase):
    """Every chats admin page renders."""

    def test_it_renders_changelist_add_and_change_pages_of_every_chats_model(self) -> None:
        membership = MembershipFactory.create()
        message = MessageFactory.create(chat=membership.chat, bot=membership.bot, metadata={"topic": "Döviz"})
        objects = {"chat": membership.chat, "membership": membership, "message": message}
        for model, obj in objects.items():
            self.get_ok(reverse(f"admin:chats_{model}_changelist"))
            self.get_ok(reverse(f"admin:chats_{model}_add"))
            self.get_ok(reverse(f"admin:chats_{model}_change", args=[obj.pk]))

    def test_it_lists_the_member_bots_on_the_chat_change_page(self) -> None:
        membership = MembershipFactory.create(bot=BotFactory.create(name="Kemal Abi"))
        html = self.get_ok(reverse("admin:chats_chat_change", args=[membership.chat.pk]))
        self.assertIn("Kemal Abi", html)
        self.assertIn('name="memberships-TOTAL_FORMS" value="1"', html)


class ChatFormTest(AdminTestCase):
    """Sandbox chats get a local id; Telegram chats must name theirs."""

    def test_it_gives_a_sandbox_chat_without_an_id_a_local_one(self) -> None:
        response = self.client.post(reverse("admin:chats_chat_add"), chat_form_data())
        self.assertEqual(response.status_code, 302)
        chat = Chat.objects.get()
        self.assertIsNotNone(chat.telegram_chat_id)
        self.assertEqual(chat.topics, ["BIST", "Kripto"])

    def test_it_requires_the_id_of_a_telegram_chat(self) -> None:
        response = self.client.post(reverse("admin:chats_chat_add"), chat_form_data(transport="telegram"))
        self.assertContains(response, "A Telegram chat needs its Telegram chat id.")
        self.assertFalse(Chat.objects.exists())

    def test_it_saves_a_telegram_chat_with_its_id(self) -> None:
        data = chat_form_data(transport="telegram", telegram_chat_id="-1001234567890")
        self.assertEqual(self.client.post(reverse("admin:chats_chat_add"), data).status_code, 302)
        self.assertEqual(Chat.objects.get().telegram_chat_id, -1001234567890)

    def test_it_saves_settings_overrides_and_names_a_bad_one(self) -> None:
        data = chat_form_data(settings_overrides='{"reply_probability": 0.2}')
        self.assertEqual(self.client.post(reverse("admin:chats_chat_add"), data).status_code, 302)
        self.assertEqual(Chat.objects.get().settings_overrides, {"reply_probability": 0.2})
        bad = chat_form_data(title="Başka", settings_overrides='{"reply_probability": 3}')
        response = self.client.post(reverse("admin:chats_chat_add"), bad)
        self.assertContains(response, "settings_overrides.reply_probability: Input should be less than or equal to 1")
        self.assertEqual(Chat.objects.count(), 1)
        chat = Chat.objects.get()
        emptied = chat_form_data(settings_overrides="")  # an emptied box: no overrides, every global value
        response = self.client.post(reverse("admin:chats_chat_change", args=[chat.pk]), emptied)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        chat.refresh_from_db()
        self.assertEqual(chat.settings_overrides, {})

    def test_staff_without_the_settings_permission_see_the_overrides_read_only(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Permission

        chat = ChatFactory.create(settings_overrides={"reply_probability": 0.2})
        staff = get_user_model().objects.create_user("staff", is_staff=True)
        staff.user_permissions.set(Permission.objects.filter(codename__in=["view_chat", "change_chat"]))
        self.client.force_login(staff)
        html = self.get_ok(reverse("admin:chats_chat_change", args=[chat.pk]))
        self.assertNotIn('name="settings_overrides"', html)
        self.assertIn("reply_probability", html)

    def test_it_names_the_field_of_invalid_topics(self) -> None:
        data = chat_form_data(topics=f'["BIST", "{"x" * 41}"]')
        response = self.client.post(reverse("admin:chats_chat_add"), data)
        self.assertContains(response, "topics.1: String should have at most 40 characters")
        self.assertFalse(Chat.objects.exists())


class ChatListTest(AdminTestCase):
    """Bulk actions and filters on the chat changelist."""

    def test_it_disables_and_enables_the_selected_chats(self) -> None:
        chosen, other = ChatFactory.create(), ChatFactory.create()
        url = reverse("admin:chats_chat_changelist")
        self.client.post(url, {"action": "disable_chats", "_selected_action": [chosen.pk]})
        chosen.refresh_from_db()
        other.refresh_from_db()
        self.assertEqual((chosen.is_enabled, other.is_enabled), (False, True))
        self.client.post(url, {"action": "enable_chats", "_selected_action": [chosen.pk]})
        chosen.refresh_from_db()
        self.assertTrue(chosen.is_enabled)

    def test_it_enables_a_discovered_group_and_filters_the_waiting_ones(self) -> None:
        found, _ = chat_discover(
            telegram_chat_id=-1002000111222, title="Yeni Grup", telegram_type="supergroup", is_forum=False
        )
        ChatFactory.create(title="Bilinen")
        url = reverse("admin:chats_chat_changelist")
        html = self.get_ok(url + "?discovered=yes")
        self.assertIn("Yeni Grup", html)
        self.assertNotIn("Bilinen", html)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, {"action": "enable_discovered_chats", "_selected_action": [found.pk]})
        found.refresh_from_db()
        self.assertEqual((found.is_enabled, found.is_discovered), (True, False))
        asked = [
            job.args
            for job in django_rq.get_queue("low").jobs
            if job.func_name == "engine.jobs.refresh_chat_capabilities"
        ]
        self.assertEqual(asked, [(found.pk,)])

    def test_it_lists_paused_memberships_with_their_reason(self) -> None:
        membership = MembershipFactory.create()
        membership_pause(chat=membership.chat, bot=membership.bot, reason="removed from the group (kicked)")
        html = self.get_ok(reverse("admin:chats_membership_changelist") + "?paused=yes")
        self.assertIn("removed from the group (kicked)", html)

    def test_it_filters_by_transport(self) -> None:
        ChatFactory.create(title="Yerel Kum Havuzu")
        ChatFactory.create(title="Gerçek Grup", transport="telegram", telegram_chat_id=-10042)
        html = self.get_ok(reverse("admin:chats_chat_changelist") + "?transport__exact=telegram")
        self.assertIn("Gerçek Grup", html)
        self.assertNotIn("Yerel Kum Havuzu", html)


class MessageAdminTest(AdminTestCase):
    """Messages are listed without N+1 queries and cannot be rewritten."""

    def changelist_queries(self) -> int:
        with CaptureQueriesContext(connection) as queries:
            self.get_ok(reverse("admin:chats_message_changelist"))
        return len(queries)

    def test_it_lists_speaker_and_excerpt(self) -> None:
        MessageFactory.create(bot=BotFactory.create(name="Selin"), text="Altın " * 40)
        MessageFactory.create(sender_name="Ayşe Yılmaz", text="Kısa soru?")
        html = self.get_ok(reverse("admin:chats_message_changelist"))
        self.assertIn("Selin", html)
        self.assertIn("Ayşe Yılmaz", html)
        self.assertIn("Altın Altın", html)
        self.assertNotIn("Altın " * 20, html)

    def test_it_lists_messages_in_a_constant_number_of_queries(self) -> None:
        MessageFactory.create(bot=BotFactory.create())
        few = self.changelist_queries()
        for _ in range(5):
            MessageFactory.create(bot=BotFactory.create(), chat=ChatFactory.create())
        self.assertEqual(self.changelist_queries(), few)

    def test_it_does_not_let_a_message_be_changed(self) -> None:
        message = MessageFactory.create(text="Orijinal metin")
        url = reverse("admin:chats_message_change", args=[message.pk])
        self.assertNotIn('name="text"', self.get_ok(url))
        self.client.post(url, {"chat": message.chat.pk, "text": "Değiştirilmiş"})
        message.refresh_from_db()
        self.assertEqual(message.text, "Orijinal metin")

    def test_it_adds_a_member_message_to_a_sandbox_chat(self) -> None:
        chat = ChatFactory.create()
        data = {"chat": chat.pk, "sender_name": "Ayşe", "text": "Merhaba", "metadata": ""}
        self.assertEqual(self.client.post(reverse("admin:chats_message_add"), data).status_code, 302)
        self.assertEqual(Message.objects.get().metadata, {})

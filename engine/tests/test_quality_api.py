"""GET /api/chats/<chat_id>/quality/: every figure of a chat's window, for anyone who may read its messages."""

from __future__ import annotations

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.models import Bot
from bots.services import bot_create
from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from engine.quality.report import FIGURES


class ChatQualityApiTests(TestCase):
    chat: Chat
    bot: Bot

    @classmethod
    def setUpTestData(cls) -> None:
        cls.chat = chat_create(title="Borsa")
        cls.bot = bot_create(name="Kemal Aydın", username="kemal_bot")
        membership_add(chat=cls.chat, bot=cls.bot)
        asked = Message.objects.create(chat=cls.chat, sender_name="Ali", text="@kemal_bot THYAO nereye?")
        Message.objects.create(
            chat=cls.chat, bot=cls.bot, sender_name="Kemal Aydın", text="THYAO yatay.", reply_to=asked
        )
        Message.objects.filter(pk=asked.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.VIEWER)

    def test_a_viewer_gets_every_figure_with_its_band_and_definition(self) -> None:
        body = self.api.get(f"/api/chats/{self.chat.pk}/quality/").json()
        self.assertEqual((body["chat"], body["bot_messages"], body["member_messages"]), (self.chat.pk, 1, 1))
        self.assertEqual([figure["key"] for figure in body["figures"]], [spec.key for spec in FIGURES])
        answered = next(figure for figure in body["figures"] if figure["key"] == "members_answered")
        self.assertEqual((answered["value"], answered["band"], answered["target"]), (1.0, "green", "≥ 100%"))
        self.assertTrue(answered["definition"])

    def test_the_window_is_chosen_with_since_and_until(self) -> None:
        until = (timezone.now() - timedelta(minutes=2)).isoformat()
        body = self.api.get(f"/api/chats/{self.chat.pk}/quality/", {"until": until}).json()
        self.assertEqual((body["bot_messages"], body["member_messages"]), (0, 1))

    def test_a_bad_or_empty_window_is_a_400_naming_the_field(self) -> None:
        now = timezone.now().isoformat()
        for query, field in (({"since": "yesterday"}, "since"), ({"since": now, "until": now}, "since")):
            with self.subTest(query=query):
                response = self.api.get(f"/api/chats/{self.chat.pk}/quality/", query)
                self.assertEqual(response.status_code, 400)
                self.assertIn(field, response.json())

    def test_an_unknown_chat_is_a_404_and_anonymous_callers_are_refused(self) -> None:
        self.assertEqual(self.api.get("/api/chats/999999/quality/").status_code, 404)
        self.assertIn(APIClient().get(f"/api/chats/{self.chat.pk}/quality/").status_code, (401, 403))

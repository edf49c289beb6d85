"""POST /api/chats/<id>/messages/: an operator writes in a sandbox chat as a named member."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import TestCase
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.services import bot_create
from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from engine.models import Turn

if TYPE_CHECKING:  # the test clients' response types exist only in the stubs
    from rest_framework.response import _MonkeyPatchedResponse as TestResponse


class MemberPostTest(TestCase):
    """A sandbox chat with two bots, and an operator's API client."""

    def setUp(self) -> None:
        self.chat = chat_create(title="Sandbox")
        self.bots = [bot_create(name=f"S{i}", username=f"sandbox{i}_bot") for i in range(2)]
        for bot in self.bots:
            membership_add(chat=self.chat, bot=bot)
        self.api, _user, _key = role_client(Role.OPERATOR)

    def post(self, body: dict[str, Any], *, chat_id: int | None = None, api: APIClient | None = None) -> TestResponse:
        url = f"/api/chats/{chat_id or self.chat.pk}/messages/"
        response: TestResponse = (api or self.api).post(url, body, format="json")
        return response

    def test_a_mention_is_stored_and_the_mentioned_bot_gets_a_priority_reply(self) -> None:
        response = self.post({"sender_name": "Operatör Ali", "text": "@sandbox1_bot altın ne olur?"})
        self.assertEqual(response.status_code, 201)
        body = response.json()
        message = Message.objects.get(pk=body["message_id"])
        self.assertEqual((message.sender_name, message.bot_id, message.chat_id), ("Operatör Ali", None, self.chat.pk))
        self.assertEqual(body["telegram_message_id"], message.telegram_message_id)
        turn = Turn.objects.get(pk=body["turn_id"])
        self.assertEqual((turn.bot_id, turn.reply_to_id, turn.kind), (self.bots[1].pk, message.pk, "priority_reply"))
        self.assertEqual(body["outcome"], "stored")

    def test_a_reply_to_a_bots_message_addresses_that_bot(self) -> None:
        Message.objects.create(chat=self.chat, bot=self.bots[0], text="Dolar düşer.", telegram_message_id=7)
        response = self.post({"sender_name": "Ali", "text": "Emin misin?", "reply_to_message_id": 7})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Turn.objects.get(pk=response.json()["turn_id"]).bot_id, self.bots[0].pk)

    def test_a_message_addressing_no_bot_is_stored_without_a_turn(self) -> None:
        response = self.post({"sender_name": "Ali", "text": "Bugün piyasa sakin", "reply_to_message_id": None})
        self.assertEqual((response.status_code, response.json()["turn_id"]), (201, None))
        self.assertFalse(Turn.objects.exists())

    def test_bad_input_is_400_naming_the_field(self) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"text": "selam"}, "sender_name"),
            ({"sender_name": "", "text": "selam"}, "sender_name"),
            ({"sender_name": "x" * 101, "text": "selam"}, "sender_name"),
            ({"sender_name": "Ali"}, "text"),
            ({"sender_name": "Ali", "text": "   "}, "text"),
            ({"sender_name": "Ali", "text": "x" * 4097}, "text"),
            ({"sender_name": "Ali", "text": "selam", "reply_to_message_id": "abc"}, "reply_to_message_id"),
            ({"sender_name": "Ali", "text": "selam", "reply_to_message_id": 999}, "reply_to_message_id"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                response = self.post(body)
                self.assertEqual(response.status_code, 400)
                self.assertIn(field, response.json())
        self.assertFalse(Message.objects.exists())

    def test_a_telegram_chat_is_refused(self) -> None:
        telegram = chat_create(title="Gerçek grup", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100123)
        response = self.post({"sender_name": "Ali", "text": "selam"}, chat_id=telegram.pk)
        self.assertEqual(response.status_code, 400)
        self.assertIn("Only sandbox chats", response.json()["chat"][0])
        self.assertFalse(Message.objects.exists())

    def test_an_unknown_chat_is_404(self) -> None:
        self.assertEqual(self.post({"sender_name": "Ali", "text": "selam"}, chat_id=999_999).status_code, 404)

    def test_a_viewer_may_not_post(self) -> None:
        viewer, _user, _key = role_client(Role.VIEWER)
        response = self.post({"sender_name": "Ali", "text": "selam"}, api=viewer)
        self.assertEqual(response.status_code, 403)
        self.assertIn("chats.add_message", response.json()["detail"])
        self.assertFalse(Message.objects.exists())

    def test_anonymous_requests_are_401(self) -> None:
        self.assertEqual(self.post({"sender_name": "Ali", "text": "selam"}, api=APIClient()).status_code, 401)
        self.assertFalse(Message.objects.exists())

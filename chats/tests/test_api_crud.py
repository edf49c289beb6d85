"""Chats API: chats, pause/resume, memberships and the read-only message list with filters."""

from __future__ import annotations

from datetime import timedelta

import django_rq
from django.test import TestCase
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.tests.factories import BotFactory
from chats.models import Chat, Message
from chats.services import chat_discover, membership_pause
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from config.testing.cases import RedisTestCase


class ChatApiTest(TestCase):
    """As an operator."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.OPERATOR)

    def test_it_creates_a_sandbox_chat_with_a_local_id(self) -> None:
        response = self.api.post("/api/chats/", {"title": "Kum havuzu"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertIsNotNone(response.json()["telegram_chat_id"])

    def test_a_telegram_chat_needs_its_id(self) -> None:
        response = self.api.post("/api/chats/", {"title": "Grup", "transport": "telegram"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("telegram_chat_id", response.json())

    def test_it_names_a_bad_timezone_and_topics(self) -> None:
        response = self.api.post(
            "/api/chats/", {"title": "x", "timezone": "Mars/Base", "topics": "BIST"}, format="json"
        )
        self.assertEqual(set(response.json()), {"timezone", "topics"})

    def test_settings_overrides_are_read_and_written_and_cleared_by_admins(self) -> None:
        chat = ChatFactory.create()
        self.api, _, _ = role_client(Role.ADMIN)
        overrides = {"reply_probability": 0, "compliance_guard_enabled": False}
        response = self.api.patch(f"/api/chats/{chat.pk}/", {"settings_overrides": overrides}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["settings_overrides"], overrides)
        chat.refresh_from_db()
        self.assertEqual(chat.settings_overrides, overrides)
        nulled = {"reply_probability": None, "compliance_guard_enabled": False}
        response = self.api.patch(f"/api/chats/{chat.pk}/", {"settings_overrides": nulled}, format="json")
        self.assertEqual(response.json()["settings_overrides"], {"compliance_guard_enabled": False})
        cleared = self.api.patch(f"/api/chats/{chat.pk}/", {"settings_overrides": {}}, format="json")
        self.assertEqual(cleared.json()["settings_overrides"], {})

    def test_operators_may_not_change_a_chats_overrides_but_edit_the_rest(self) -> None:
        chat = ChatFactory.create(settings_overrides={"reply_probability": 0.2})
        refused = self.api.patch(f"/api/chats/{chat.pk}/", {"settings_overrides": {}}, format="json")
        self.assertEqual(refused.status_code, 403, refused.content)
        self.assertIn("engine.change_setting", refused.json()["detail"])
        same = {"title": "Yeni ad", "settings_overrides": {"reply_probability": 0.2}}
        self.assertEqual(self.api.patch(f"/api/chats/{chat.pk}/", same, format="json").status_code, 200)
        chat.refresh_from_db()
        self.assertEqual((chat.title, chat.settings_overrides), ("Yeni ad", {"reply_probability": 0.2}))

    def test_bad_settings_overrides_are_a_400_naming_the_key(self) -> None:
        chat = ChatFactory.create()
        self.api, _, _ = role_client(Role.ADMIN)
        for overrides, expected in [
            ({"reply_probability": 2}, "settings_overrides.reply_probability: Input should be less than or equal to 1"),
            ({"reply_probability": "0.5"}, "settings_overrides.reply_probability: Input should be a valid number"),
            ({"batch_size": 1}, "settings_overrides: batch_size: not a per-chat setting; a chat may set reply_"),
        ]:
            with self.subTest(overrides=overrides):
                response = self.api.patch(f"/api/chats/{chat.pk}/", {"settings_overrides": overrides}, format="json")
                self.assertEqual(response.status_code, 400)
                self.assertTrue(response.json()["settings_overrides"][0].startswith(expected), response.json())
        chat.refresh_from_db()
        self.assertEqual(chat.settings_overrides, {})

    def test_an_operator_maps_a_forum_s_threads_to_topics_and_bad_ones_are_named(self) -> None:
        chat = ChatFactory.create(is_forum=True)
        threads = [{"thread_id": 12, "name": "Kripto", "topic": "Kripto"}]
        response = self.api.patch(f"/api/chats/{chat.pk}/", {"forum_threads": threads}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["forum_threads"], [{**threads[0], "closed": False}])
        self.assertEqual(Chat.objects.get().thread_topic(12), "Kripto")
        for bad in ([{"thread_id": 1, "topic": "BIST"}], [{"thread_id": 12}, {"thread_id": 12}], [{"id": 12}]):
            response = self.api.patch(f"/api/chats/{chat.pk}/", {"forum_threads": bad}, format="json")
            self.assertEqual((response.status_code, set(response.json())), (400, {"forum_threads"}), bad)

    def test_pause_and_resume(self) -> None:
        chat = ChatFactory.create()
        self.assertFalse(self.api.post(f"/api/chats/{chat.pk}/pause/").json()["is_enabled"])
        self.assertFalse(Chat.objects.get().is_enabled)
        self.assertTrue(self.api.post(f"/api/chats/{chat.pk}/resume/").json()["is_enabled"])


class DiscoveredChatApiTest(RedisTestCase):
    """Groups a bot was added to, waiting for an operator."""

    def test_a_discovered_group_is_listed_with_its_bots_and_enabled_by_one_action(self) -> None:
        api, _, _ = role_client(Role.OPERATOR)
        chat, _ = chat_discover(
            telegram_chat_id=-1002000111222, title="Yeni", telegram_type="supergroup", is_forum=False
        )
        MembershipFactory.create(chat=chat, bot=BotFactory.create(name="Ayşe", username="ayse_bot"))
        ChatFactory.create(title="Kum havuzu")
        [listed] = api.get("/api/chats/?discovered=true").json()["results"]
        assert {key: listed[key] for key in ("title", "telegram_chat_id", "telegram_type", "is_forum", "bots")} == {
            "title": "Yeni",
            "telegram_chat_id": -1002000111222,
            "telegram_type": "supergroup",
            "is_forum": False,
            "bots": ["@ayse_bot"],
        }
        assert (listed["is_enabled"], listed["is_discovered"]) == (False, True)
        with self.captureOnCommitCallbacks(execute=True):
            enabled = api.post(f"/api/chats/{chat.pk}/enable/").json()
        assert (enabled["is_enabled"], enabled["is_discovered"], enabled["discovered_at"]) == (True, False, None)
        asked = [
            job.args
            for job in django_rq.get_queue("low").jobs
            if job.func_name == "engine.jobs.refresh_chat_capabilities"
        ]
        assert asked == [(chat.pk,)]  # Telegram is asked for the group's capabilities at once
        assert api.get("/api/chats/?discovered=true").json()["results"] == []

    def test_viewers_cannot_enable_a_discovered_group(self) -> None:
        api, _, _ = role_client(Role.VIEWER)
        chat, _ = chat_discover(
            telegram_chat_id=-1002000111222, title="Yeni", telegram_type="supergroup", is_forum=False
        )
        assert api.post(f"/api/chats/{chat.pk}/enable/").status_code == 403
        assert Chat.objects.get().is_discovered


class MembershipApiTest(TestCase):
    """The bots of a chat."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.OPERATOR)
        self.chat = ChatFactory.create()

    def test_it_adds_a_bot_and_validates_talkativeness(self) -> None:
        bot = BotFactory.create()
        url = f"/api/chats/{self.chat.pk}/memberships/"
        self.assertEqual(self.api.post(url, {"bot": bot.pk, "talkativeness": 3}).status_code, 400)
        response = self.api.post(url, {"bot": bot.pk, "talkativeness": 0.8})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["bot_name"], bot.name)

    def test_re_enabling_clears_the_disabled_reason(self) -> None:
        membership = MembershipFactory.create(chat=self.chat, is_enabled=False, disabled_reason="bot was kicked")
        url = f"/api/chats/{self.chat.pk}/memberships/{membership.pk}/"
        self.assertEqual(self.api.get(url).json()["disabled_reason"], "bot was kicked")
        self.assertEqual(self.api.patch(url, {"is_enabled": True}).json()["disabled_reason"], "")

    def test_a_paused_membership_says_why_and_cannot_be_unpaused_by_hand(self) -> None:
        membership = MembershipFactory.create(chat=self.chat)
        membership_pause(chat=self.chat, bot=membership.bot, reason="removed from the group by Kemal (kicked)")
        url = f"/api/chats/{self.chat.pk}/memberships/{membership.pk}/"
        shown = self.api.get(url).json()
        assert (shown["is_enabled"], shown["is_paused"]) == (True, True)
        assert shown["paused_reason"] == "removed from the group by Kemal (kicked)"
        assert self.api.patch(url, {"paused_reason": "", "paused_at": None}, format="json").json()["is_paused"]

    def test_a_chat_id_beyond_64_bits_in_the_url_finds_nothing_instead_of_failing(self) -> None:
        # Found by schemathesis: filtering on chat_id with such a number overflowed SQLite's INTEGER (a 500).
        url = f"/api/chats/{2**70}/memberships/"
        self.assertEqual(self.api.get(url).json()["count"], 0)
        self.assertEqual(self.api.get(f"{url}1/").status_code, 404)
        self.assertEqual(self.api.post(url, {"bot": BotFactory.create().pk}).status_code, 404)


class MessageApiTest(TestCase):
    """Messages are read-only and filterable by chat, bot and time."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.VIEWER)
        self.chat = ChatFactory.create()

    def test_it_filters_by_chat_bot_and_since(self) -> None:
        bot = BotFactory.create()
        old = MessageFactory.create(chat=self.chat)
        Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
        MessageFactory.create(chat=self.chat, bot=bot, sender_name=bot.name)
        MessageFactory.create()
        self.assertEqual(self.api.get(f"/api/messages/?chat={self.chat.pk}").json()["count"], 2)
        self.assertEqual(self.api.get(f"/api/messages/?bot={bot.pk}").json()["results"][0]["speaker"], bot.name)
        since = (timezone.now() - timedelta(minutes=5)).isoformat()
        response = self.api.get("/api/messages/", {"chat": str(self.chat.pk), "since": since})
        self.assertEqual(response.json()["count"], 1)

    def test_a_message_says_its_forum_thread(self) -> None:
        MessageFactory.create(chat=self.chat, thread_id=12)
        self.assertEqual(self.api.get(f"/api/messages/?chat={self.chat.pk}").json()["results"][0]["thread_id"], 12)

    def test_a_bad_filter_value_is_a_json_400_naming_it(self) -> None:
        response = self.api.get("/api/messages/?since=yesterday")
        self.assertEqual(response.status_code, 400)
        self.assertIn("since", response.json())

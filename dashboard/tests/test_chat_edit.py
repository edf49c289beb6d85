"""Chat editing: a new chat, a chat's fields, and its bots (memberships), with errors inline."""

from __future__ import annotations

import json
from typing import Any

from accounts.roles import Role
from bots.tests.factories import BotFactory
from chats.models import Chat, Membership
from chats.tests.factories import ChatFactory, MembershipFactory
from dashboard.tests.edit_helpers import EditPageTestCase, field_errors, form_html
from engine.runtime_settings import OVERRIDABLE
from engine.services import setting_set


def chat_data(**changes: Any) -> dict[str, Any]:
    """The chat form as a browser submits it."""
    data = {
        "title": "Yeni Sohbet",
        "transport": "sandbox",
        "telegram_chat_id": "",
        "language": "tr",
        "timezone": "Europe/Istanbul",
        "cadence": "1.5",
        "topics": json.dumps(["BIST", "FX"]),
        "is_enabled": "on",
    }
    return data | changes


class ChatCreateTests(EditPageTestCase):
    def test_operators_and_admins_get_the_form_viewers_a_403(self) -> None:
        self.assert_every_role_sees("/chats/new/", roles=(Role.OPERATOR, Role.ADMIN))
        self.page("/chats/new/", Role.VIEWER, status=403)
        self.post("/chats/new/", chat_data(), Role.VIEWER, status=403)

    def test_it_creates_a_sandbox_chat_with_a_local_id(self) -> None:
        self.post("/chats/new/", chat_data())
        chat = Chat.objects.get()
        self.assertEqual((chat.title, chat.cadence, chat.topics), ("Yeni Sohbet", 1.5, ["BIST", "FX"]))
        self.assertIsNotNone(chat.telegram_chat_id)

    def test_a_telegram_chat_needs_its_id_next_to_the_field(self) -> None:
        html = self.post("/chats/new/", chat_data(transport="telegram"), status=400)
        self.assertIn('id="id_telegram_chat_id-errors"', html)
        self.assertIn("A Telegram chat needs its Telegram chat id.", field_errors(html, "chat-form"))

    def test_bad_topics_and_timezone_are_named_inline(self) -> None:
        html = self.post("/chats/new/", chat_data(topics='["BIST", ""]', timezone="Mars/Olympus"), status=400)
        errors = field_errors(html, "chat-form")
        self.assertIn("topics.1: String should have at least 1 character", errors)
        self.assertIn("timezone: &#x27;Mars/Olympus&#x27; is not an IANA timezone", errors)
        self.assertFalse(Chat.objects.exists())

    def test_a_telegram_chat_id_used_twice_is_refused(self) -> None:
        ChatFactory.create(transport=Chat.Transport.TELEGRAM, telegram_chat_id=-1001)
        html = self.post("/chats/new/", chat_data(transport="telegram", telegram_chat_id="-1001"), status=400)
        self.assertIn("already exists", html)
        self.assertEqual(Chat.objects.count(), 1)


class ChatEditTests(EditPageTestCase):
    def setUp(self) -> None:
        self.chat = ChatFactory.create(title="Piyasa Sohbet")
        self.url = f"/chats/{self.chat.pk}/edit/"

    def test_operators_and_admins_edit_viewers_get_a_403(self) -> None:
        self.assert_every_role_sees(self.url, roles=(Role.OPERATOR, Role.ADMIN))
        self.page(self.url, Role.VIEWER, status=403)
        self.post(self.url, chat_data(title="X"), Role.VIEWER, status=403)

    def test_edits_persist(self) -> None:
        self.post(self.url, chat_data(title="BIST Sohbet", language="en", cadence="3"))
        self.chat.refresh_from_db()
        self.assertEqual((self.chat.title, self.chat.language, self.chat.cadence), ("BIST Sohbet", "en", 3.0))

    def test_a_forum_s_threads_are_mapped_to_topics_here(self) -> None:
        Chat.objects.filter(pk=self.chat.pk).update(is_forum=True)
        self.assertIn('name="forum_threads"', self.page(self.url, Role.OPERATOR))
        threads = json.dumps([{"thread_id": 12, "name": "Kripto", "topic": "Kripto"}])
        self.post(self.url, chat_data(forum_threads=threads))
        self.chat.refresh_from_db()
        self.assertEqual(
            self.chat.forum_threads, [{"thread_id": 12, "name": "Kripto", "topic": "Kripto", "closed": False}]
        )
        html = self.post(self.url, chat_data(forum_threads='[{"thread_id": 1}]'), status=400)
        self.assertIn("forum_threads.0.thread_id", field_errors(html, "chat-form"))

    def test_a_chat_without_topics_has_no_thread_field(self) -> None:
        self.assertNotIn('name="forum_threads"', self.page(self.url, Role.OPERATOR))

    def test_an_invalid_cadence_is_a_400_inline(self) -> None:
        html = self.post(self.url, chat_data(cadence="99"), status=400)
        self.assertIn('id="id_cadence-errors"', html)
        self.assertIn("less than or equal to 20", field_errors(html, "chat-form"))

    def test_the_live_view_links_here_and_the_list_offers_a_new_chat_for_operators(self) -> None:
        self.assertIn(f'href="{self.url}"', self.page(f"/chats/{self.chat.pk}/", Role.OPERATOR))
        self.assertNotIn(f'href="{self.url}"', self.page(f"/chats/{self.chat.pk}/", Role.VIEWER))
        self.assertIn('href="/chats/new/"', self.page("/chats/", Role.OPERATOR))
        self.assertNotIn('href="/chats/new/"', self.page("/chats/", Role.VIEWER))

    def test_only_admins_delete_a_chat(self) -> None:
        self.assertNotIn("Delete chat", self.page(self.url, Role.OPERATOR))
        self.post(f"/chats/{self.chat.pk}/delete/", {}, Role.OPERATOR, status=403)
        self.post(f"/chats/{self.chat.pk}/delete/", {}, Role.ADMIN)
        self.assertFalse(Chat.objects.exists())


class ChatMembershipTests(EditPageTestCase):
    def setUp(self) -> None:
        self.chat = ChatFactory.create()
        self.bot = BotFactory.create(name="Ayşe Bot")
        self.url = f"/chats/{self.chat.pk}/memberships/"

    def test_operators_add_a_bot_and_only_bots_not_in_the_chat_are_offered(self) -> None:
        self.post(self.url, {"membership-bot": self.bot.pk, "membership-is_enabled": "on"})
        self.assertTrue(Membership.objects.get(chat=self.chat, bot=self.bot).is_enabled)
        html = self.page(f"/chats/{self.chat.pk}/edit/", Role.OPERATOR)
        self.assertNotIn(f'<option value="{self.bot.pk}">', html)
        self.assertIn("Ayşe Bot", html)

    def test_disable_and_override_talkativeness_or_get_an_inline_error(self) -> None:
        membership = MembershipFactory.create(chat=self.chat, bot=self.bot)
        prefix = f"membership-{membership.pk}"
        self.post(f"{self.url}{membership.pk}/", {f"{prefix}-talkativeness": "0.3"})
        membership.refresh_from_db()
        self.assertEqual((membership.is_enabled, membership.talkativeness), (False, 0.3))
        html = self.post(f"{self.url}{membership.pk}/", {f"{prefix}-talkativeness": "-1"}, status=400)
        self.assertIn("greater than or equal to 0.0", field_errors(html, f"{prefix}-form"))

    def test_re_enabling_clears_the_reason_the_engine_disabled_it(self) -> None:
        membership = MembershipFactory.create(chat=self.chat, is_enabled=False, disabled_reason="bot was kicked")
        self.post(f"{self.url}{membership.pk}/", {f"membership-{membership.pk}-is_enabled": "on"})
        membership.refresh_from_db()
        self.assertEqual((membership.is_enabled, membership.disabled_reason), (True, ""))

    def test_adding_needs_a_bot_named_inline(self) -> None:
        html = self.post(self.url, {"membership-is_enabled": "on"}, status=400)
        self.assertIn("This field is required.", field_errors(html, "membership-form"))

    def test_viewers_cannot_add_and_operators_cannot_remove(self) -> None:
        self.post(self.url, {"membership-bot": self.bot.pk}, Role.VIEWER, status=403)
        membership = MembershipFactory.create(chat=self.chat, bot=self.bot)
        self.post(f"{self.url}{membership.pk}/delete/", {}, Role.OPERATOR, status=403)
        self.post(f"{self.url}{membership.pk}/delete/", {}, Role.ADMIN)
        self.assertFalse(Membership.objects.exists())


class ChatOverridesTests(EditPageTestCase):
    """The chat's own values of some runtime settings: each beside the global value, empty for the global one."""

    def setUp(self) -> None:
        self.chat = ChatFactory.create(title="Piyasa Sohbet")
        self.url = f"/chats/{self.chat.pk}/overrides/"

    def post_overrides(self, status: int = 302, role: Role = Role.ADMIN, **values: str) -> str:
        return self.post(self.url, {f"overrides-{key}": value for key, value in values.items()}, role, status=status)

    def test_the_page_shows_each_overridable_setting_with_its_global_value(self) -> None:
        setting_set(key="reply_probability", value=0.4)
        html = form_html(self.page(f"/chats/{self.chat.pk}/edit/", Role.ADMIN), "overrides-form")
        for key in OVERRIDABLE:
            self.assertIn(f'name="overrides-{key}"', html)
        self.assertIn("Global: 0.4.", html)
        self.assertIn("global (on)", html)  # compliance_guard_enabled

    def test_overrides_are_saved_typed_and_shown_again(self) -> None:
        self.post_overrides(reply_probability="0", compliance_guard_enabled="false", prime_hours='["10:00-12:00"]')
        self.chat.refresh_from_db()
        self.assertEqual(
            self.chat.settings_overrides,
            {"reply_probability": 0.0, "compliance_guard_enabled": False, "prime_hours": ["10:00-12:00"]},
        )
        html = form_html(self.page(f"/chats/{self.chat.pk}/edit/", Role.ADMIN), "overrides-form")
        self.assertIn('<option value="false" selected>off</option>', html)

    def test_clearing_an_input_returns_the_setting_to_the_global_value(self) -> None:
        self.chat.settings_overrides = {"reply_probability": 0.0, "mention_probability": 1.0}
        self.chat.save()
        self.post_overrides(reply_probability="", mention_probability="1")
        self.chat.refresh_from_db()
        self.assertEqual(self.chat.settings_overrides, {"mention_probability": 1.0})

    def test_a_bad_value_is_named_at_its_field_and_nothing_is_saved(self) -> None:
        html = self.post_overrides(
            status=400,
            reply_probability="1.5",
            message_length_profile='{"short": 1, "medium": 1, "long": 0}',
            mention_probability="0.5",
        )
        self.assertIn('id="id_overrides-reply_probability-errors"', html)
        errors = field_errors(html, "overrides-form")
        self.assertIn("reply_probability: Input should be less than or equal to 1", errors)
        self.assertIn("message_length_profile: shares must add up to 1", errors)
        self.chat.refresh_from_db()
        self.assertEqual(self.chat.settings_overrides, {})

    def test_operators_see_the_overrides_read_only_and_may_not_save_them(self) -> None:
        # Runtime settings are admins': a chat's own as much as the global ones (the compliance guard among them).
        html = form_html(self.page(f"/chats/{self.chat.pk}/edit/", Role.OPERATOR), "overrides-form")
        self.assertIn('name="overrides-compliance_guard_enabled" disabled', html)
        self.assertNotIn("Save overrides", html)
        for role in (Role.OPERATOR, Role.VIEWER):
            self.post_overrides(status=403, role=role, compliance_guard_enabled="false")
        self.chat.refresh_from_db()
        self.assertEqual(self.chat.settings_overrides, {})

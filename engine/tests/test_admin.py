"""Engine admin: read-only turns, and runtime settings validated against their key's type."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bots.tests.factories import BotFactory
from chats.tests.factories import ChatFactory
from config.testing.admin import AdminTestCase
from engine.models import Setting, Turn, Watermark
from engine.tests.factories import TurnFactory


class TurnAdminTest(AdminTestCase):
    """Turns can be inspected, never created, changed or deleted from the admin."""

    def test_it_renders_the_changelist_and_change_page(self) -> None:
        turn = TurnFactory.create(inputs={"topic": "Döviz", "mode": "reply"}, error="LLM zaman aşımı")
        html = self.get_ok(reverse("admin:engine_turn_changelist"))
        self.assertIn("LLM zaman aşımı", html)
        html = self.get_ok(reverse("admin:engine_turn_change", args=[turn.pk]))
        self.assertIn("&quot;topic&quot;: &quot;Döviz&quot;", html)

    def test_it_has_no_add_page(self) -> None:
        self.assertEqual(self.client.get(reverse("admin:engine_turn_add")).status_code, 403)

    def test_it_does_not_let_a_turn_be_changed(self) -> None:
        turn = TurnFactory.create()
        url = reverse("admin:engine_turn_change", args=[turn.pk])
        self.assertNotIn('name="status"', self.get_ok(url))
        self.assertEqual(self.client.post(url, {"status": Turn.Status.SENT}).status_code, 403)
        turn.refresh_from_db()
        self.assertEqual(turn.status, Turn.Status.PLANNED)

    def test_it_lets_a_bot_with_turns_be_deleted(self) -> None:
        turn = TurnFactory.create()
        url = reverse("admin:bots_bot_delete", args=[turn.bot.pk])
        self.assertNotIn("would require deleting the following protected", self.get_ok(url))
        self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 302)
        self.assertFalse(Turn.objects.exists())

    def test_it_filters_by_status_and_searches_errors(self) -> None:
        TurnFactory.create(status=Turn.Status.FAILED, error="chat not found")
        TurnFactory.create(status=Turn.Status.SENT, error="")
        url = reverse("admin:engine_turn_changelist")
        self.assertIn("1 turn", self.get_ok(url + "?status__exact=failed"))
        self.assertIn("chat not found", self.get_ok(url + "?q=not+found"))
        self.assertIn("0 turns", self.get_ok(url + "?q=kicked"))

    def test_it_lists_turns_in_a_constant_number_of_queries(self) -> None:
        TurnFactory.create()
        url = reverse("admin:engine_turn_changelist")
        with CaptureQueriesContext(connection) as few:
            self.get_ok(url)
        for _ in range(5):
            TurnFactory.create(chat=ChatFactory.create(), bot=BotFactory.create())
        with CaptureQueriesContext(connection) as many:
            self.get_ok(url)
        self.assertEqual(len(many), len(few))


class SettingAdminTest(AdminTestCase):
    """Settings: every page renders, values are typed per key, defaults and help are shown."""

    def test_it_renders_changelist_add_and_change_pages(self) -> None:
        setting = Setting.objects.create(key="max_msgs_per_min", value=6)
        html = self.get_ok(reverse("admin:engine_setting_changelist"))
        self.assertIn("Global cap on bot messages/min.", html)
        self.get_ok(reverse("admin:engine_setting_add"))
        html = self.get_ok(reverse("admin:engine_setting_change", args=[setting.pk]))
        self.assertIn("Default: <code>6</code>", html)

    def test_it_names_the_key_when_the_value_has_the_wrong_type(self) -> None:
        response = self.client.post(reverse("admin:engine_setting_add"), {"key": "max_msgs_per_min", "value": '"six"'})
        self.assertContains(response, "max_msgs_per_min: Input should be a valid integer")
        self.assertFalse(Setting.objects.exists())

    def test_it_reports_malformed_json(self) -> None:
        response = self.client.post(reverse("admin:engine_setting_add"), {"key": "max_msgs_per_min", "value": "six"})
        self.assertContains(response, "Enter valid JSON")
        self.assertFalse(Setting.objects.exists())

    def test_it_names_the_nested_path_of_a_bad_value(self) -> None:
        data = {"key": "bot_hourly_msg_limit", "value": '{"min": 6, "max": "many"}'}
        response = self.client.post(reverse("admin:engine_setting_add"), data)
        self.assertContains(response, "bot_hourly_msg_limit.max")
        self.assertFalse(Setting.objects.exists())

    def test_it_requires_a_value(self) -> None:
        response = self.client.post(reverse("admin:engine_setting_add"), {"key": "typing_enabled", "value": ""})
        self.assertContains(response, "Enter a JSON value")
        self.assertFalse(Setting.objects.exists())

    def test_it_stores_a_valid_value(self) -> None:
        data = {"key": "typing_enabled", "value": "false"}
        self.assertEqual(self.client.post(reverse("admin:engine_setting_add"), data).status_code, 302)
        self.assertIs(Setting.objects.get(key="typing_enabled").value, False)

    def test_it_stores_an_empty_list_where_the_type_allows_one(self) -> None:
        data = {"key": "news_feed_urls", "value": "[]"}
        self.assertEqual(self.client.post(reverse("admin:engine_setting_add"), data).status_code, 302)
        self.assertEqual(Setting.objects.get(key="news_feed_urls").value, [])

    def test_it_lists_every_setting_with_its_default_on_the_add_page(self) -> None:
        html = self.get_ok(reverse("admin:engine_setting_add"))
        self.assertIn('<a href="?key=dedup_window_hours"><code>dedup_window_hours</code></a>', html)
        self.assertIn("<code>12</code></td><td>Look-back window of dedup.</td>", html)

    def test_it_prefills_the_default_of_the_chosen_key(self) -> None:
        html = self.get_ok(reverse("admin:engine_setting_add") + "?key=bot_hourly_msg_limit")
        self.assertIn("{\n  &quot;min&quot;: 6,\n  &quot;max&quot;: 12\n}</textarea>", html)

    def test_it_keeps_the_key_of_a_stored_setting(self) -> None:
        setting = Setting.objects.create(key="batch_size", value=5)
        url = reverse("admin:engine_setting_change", args=[setting.pk])
        response = self.client.post(url, {"key": "max_msgs_per_min", "value": "7"})
        self.assertEqual(response.status_code, 302)
        setting.refresh_from_db()
        self.assertEqual((setting.key, setting.value), ("batch_size", 7))


class WatermarkAdminTest(AdminTestCase):
    """The periodic readers' positions can be inspected, never added."""

    def test_it_renders_the_changelist_and_change_page_and_has_no_add_page(self) -> None:
        mark = Watermark.objects.create(name=Watermark.Name.STANCE_EVOLUTION, position=1234)
        self.assertIn("1234", self.get_ok(reverse("admin:engine_watermark_changelist")))
        self.get_ok(reverse("admin:engine_watermark_change", args=[mark.pk]))
        self.assertEqual(self.client.get(reverse("admin:engine_watermark_add")).status_code, 403)

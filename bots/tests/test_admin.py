"""Bot admin: pages render, the token is write-only and never shown, JSON is validated on the form."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from bots.models import Bot, StanceChange
from bots.schemas import emotion_default, persona_default, speed_default
from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceChangeFactory, StanceFactory
from chats.tests.factories import MembershipFactory
from config.testing.admin import AdminTestCase

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"
MASKED = "1234…2345"
INLINE_PREFIXES = ("stances", "holdings", "memories", "memberships")


def bot_form_data(**overrides: Any) -> dict[str, Any]:
    """POST data of the bot add/change form (no inline rows), with JSON fields as text."""
    data: dict[str, Any] = {
        "name": "Deniz",
        "username": "deniz_bot",
        "is_enabled": "on",
        "talkativeness": "0.5",
        "llm_model": "",
        "token": "",
        "persona": json.dumps(persona_default()),
        "emotion": json.dumps(emotion_default()),
        "speed": json.dumps(speed_default()),
        "active_hours": "[]",
    }
    for prefix in INLINE_PREFIXES:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0"})
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    data.update(overrides)
    return data


class BotAdminPagesTest(AdminTestCase):
    """Every bots admin page renders."""

    def test_it_renders_changelist_add_and_change_pages_of_every_bots_model(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        StanceFactory.create(bot=bot)
        HoldingFactory.create(bot=bot)
        MemoryFactory.create(bot=bot)
        MembershipFactory.create(bot=bot)
        objects = {"bot": bot, "stance": bot.stances.get(), "holding": bot.holdings.get(), "memory": bot.memories.get()}
        for model, obj in objects.items():
            self.get_ok(reverse(f"admin:bots_{model}_changelist"))
            self.get_ok(reverse(f"admin:bots_{model}_add"))
            self.get_ok(reverse(f"admin:bots_{model}_change", args=[obj.pk]))

    def test_the_stance_history_is_listed_and_read_only(self) -> None:
        change = StanceChangeFactory.create(cause="TCMB faiz kararı", cause_kind=StanceChange.Cause.EVENT)
        self.assertIn("TCMB faiz kararı", self.get_ok(reverse("admin:bots_stancechange_changelist")))
        self.get_ok(reverse("admin:bots_stancechange_change", args=[change.pk]))
        self.assertEqual(self.client.get(reverse("admin:bots_stancechange_add")).status_code, 403)

    def test_an_operators_stance_edit_in_the_admin_is_recorded(self) -> None:
        stance = StanceFactory.create(confidence=0.7)
        data = {"bot": stance.bot.pk, "topic": stance.topic, "stance": stance.stance, "polarity": "bearish",
                "confidence": "0.4", "cooldown_until_0": "", "cooldown_until_1": ""}  # fmt: skip
        response = self.client.post(reverse("admin:bots_stance_change", args=[stance.pk]), data)
        self.assertEqual(response.status_code, 302, response.content[:2000])
        change = stance.changes.get()
        self.assertEqual((change.cause_kind, change.old_confidence, change.new_confidence), ("operator", 0.7, 0.4))

    def test_it_shows_the_inlines_on_the_bot_change_page(self) -> None:
        stance = StanceFactory.create(topic="BIST:THYAO")
        HoldingFactory.create(bot=stance.bot, symbol="XAUUSD")
        MemoryFactory.create(bot=stance.bot, content="Kadıköy'de oturuyor.")
        membership = MembershipFactory.create(bot=stance.bot)
        html = self.get_ok(reverse("admin:bots_bot_change", args=[stance.bot.pk]))
        for text in ("BIST:THYAO", "XAUUSD", "Kadıköy&#x27;de oturuyor.", membership.chat.title):
            self.assertIn(text, html)

    def test_a_stance_edited_inline_on_the_bot_is_recorded(self) -> None:
        stance = StanceFactory.create(confidence=0.7, bot=BotFactory.create(name="Deniz", username="deniz_bot"))
        rows = {"stances-TOTAL_FORMS": "1", "stances-INITIAL_FORMS": "1", "stances-0-id": str(stance.pk),
                "stances-0-bot": str(stance.bot_id), "stances-0-topic": stance.topic, "stances-0-polarity": "bullish",
                "stances-0-confidence": "0.5", "stances-0-stance": stance.stance,
                "stances-0-cooldown_until_0": "", "stances-0-cooldown_until_1": ""}  # fmt: skip
        response = self.client.post(reverse("admin:bots_bot_change", args=[stance.bot_id]), bot_form_data() | rows)
        self.assertEqual(response.status_code, 302, response.content[:3000])
        change = stance.changes.get()
        self.assertEqual((change.cause_kind, change.old_confidence, change.new_confidence), ("operator", 0.7, 0.5))

    def test_it_shows_json_indented_and_turkish_unescaped(self) -> None:
        bot = BotFactory.create(persona={**persona_default(), "bio": "Emekli borsacı, çay sever."})
        html = self.get_ok(reverse("admin:bots_bot_change", args=[bot.pk]))
        self.assertIn("Emekli borsacı, çay sever.", html)
        self.assertIn("\n  &quot;tone&quot;: &quot;professional&quot;", html)


class BotTokenSecrecyTest(AdminTestCase):
    """The plaintext token and its ciphertext never reach admin HTML; the masked token does."""

    def setUp(self) -> None:
        super().setUp()
        self.bot = BotFactory.create(name="Deniz", token=TOKEN)

    def assert_secret_free(self, html: str) -> None:
        # assertFalse, not assertNotIn: a failure must not print the secret into the test log.
        self.assertFalse(TOKEN.split(":")[1] in html, "plaintext token in the page")
        self.assertFalse(self.bot.token_encrypted in html, "token ciphertext in the page")

    def test_it_masks_the_token_on_the_changelist(self) -> None:
        html = self.get_ok(reverse("admin:bots_bot_changelist"))
        self.assertIn(MASKED, html)
        self.assert_secret_free(html)

    def test_it_masks_the_token_on_the_change_page(self) -> None:
        html = self.get_ok(reverse("admin:bots_bot_change", args=[self.bot.pk]))
        self.assertIn(MASKED, html)
        self.assert_secret_free(html)

    def test_it_keeps_the_token_out_of_the_delete_and_history_pages(self) -> None:
        self.client.post(reverse("admin:bots_bot_change", args=[self.bot.pk]), bot_form_data(token=TOKEN[:-1] + "9"))
        self.bot.refresh_from_db()
        self.assertEqual(LogEntry.objects.count(), 1)
        for name in ("delete", "history"):
            html = self.get_ok(reverse(f"admin:bots_bot_{name}", args=[self.bot.pk]))
            self.assert_secret_free(html)
            self.assertFalse(self.bot.token.split(":")[1] in html, "new plaintext token in the page")

    def test_it_does_not_render_a_typed_token_back_when_the_form_has_errors(self) -> None:
        data = bot_form_data(name="", token="987654321:AAH-zyxwvutsrqponmlkjihgfedcba98765")
        html = self.client.post(reverse("admin:bots_bot_add"), data).content.decode()
        self.assertIn("This field is required", html)
        self.assertFalse("zyxwvutsrqponmlkjihgfedcba98765" in html, "typed token rendered back")


class BotTokenFormTest(AdminTestCase):
    """The token form field sets, keeps, replaces and clears the encrypted token."""

    def test_it_stores_a_new_bots_token_encrypted(self) -> None:
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(token=f"  {TOKEN} "))
        self.assertEqual(response.status_code, 302)
        bot = Bot.objects.get(username="deniz_bot")
        self.assertEqual(bot.token, TOKEN)
        self.assertNotIn(TOKEN, bot.token_encrypted)
        self.assertTrue(bot.token_fingerprint)

    def test_it_keeps_the_token_when_the_field_is_left_blank(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        data = bot_form_data(name="Yeni İsim", username=bot.username)
        response = self.client.post(reverse("admin:bots_bot_change", args=[bot.pk]), data)
        self.assertEqual(response.status_code, 302)
        bot.refresh_from_db()
        self.assertEqual((bot.name, bot.token), ("Yeni İsim", TOKEN))

    def test_it_replaces_the_token_when_a_new_one_is_typed(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        new_token = "555555555:BBH-abcdefghijklmnopqrstuvwxyz012345"
        self.client.post(reverse("admin:bots_bot_change", args=[bot.pk]), bot_form_data(token=new_token))
        bot.refresh_from_db()
        self.assertEqual(bot.token, new_token)

    def test_it_removes_the_token_when_clear_is_ticked(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        self.client.post(reverse("admin:bots_bot_change", args=[bot.pk]), bot_form_data(clear_token="on"))
        bot.refresh_from_db()
        self.assertEqual((bot.token_encrypted, bot.token_fingerprint), ("", None))

    def test_it_refuses_a_new_token_and_removal_at_once(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        data = bot_form_data(token="555555555:BBH-abcdefghijklmnopqrstuvwxyz012345", clear_token="on")
        response = self.client.post(reverse("admin:bots_bot_change", args=[bot.pk]), data)
        self.assertContains(response, "Either type a new token or remove it, not both.")
        bot.refresh_from_db()
        self.assertEqual(bot.token, TOKEN)

    def test_it_still_renders_a_bot_whose_token_cannot_be_decrypted(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        Bot.objects.filter(pk=bot.pk).update(token_encrypted="gAAAAABnot-a-valid-fernet-token")
        self.assertIn("cannot decrypt", self.get_ok(reverse("admin:bots_bot_changelist")))
        self.assertIn("cannot decrypt", self.get_ok(reverse("admin:bots_bot_change", args=[bot.pk])))

    def test_it_rejects_a_token_that_another_bot_uses(self) -> None:
        BotFactory.create(token=TOKEN)
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(token=TOKEN))
        self.assertContains(response, "Another bot already uses this token.")
        self.assertEqual(Bot.objects.count(), 1)

    def test_it_rejects_text_that_is_not_a_token(self) -> None:
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(token="not a token"))
        self.assertContains(response, "does not look like a Telegram bot token")
        self.assertFalse(Bot.objects.exists())


class BotJsonValidationTest(AdminTestCase):
    """Schema violations and malformed JSON are form errors, never a 500."""

    def test_it_names_the_field_path_of_a_schema_violation(self) -> None:
        persona = {**persona_default(), "risk_profile": "extreme"}
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(persona=json.dumps(persona)))
        self.assertContains(response, "persona.risk_profile")
        self.assertFalse(Bot.objects.exists())

    def test_it_reports_malformed_json_and_keeps_the_typed_text(self) -> None:
        broken = '{"tone": "street",, }'
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(persona=broken))
        self.assertContains(response, "Enter valid JSON")
        self.assertContains(response, "line 1, column 19")
        self.assertContains(response, "{&quot;tone&quot;: &quot;street&quot;,, }")
        self.assertFalse(Bot.objects.exists())

    def test_it_names_the_index_of_a_bad_active_hours_range(self) -> None:
        data = bot_form_data(active_hours='["09:00-12:00", "25:00-26:00"]')
        response = self.client.post(reverse("admin:bots_bot_add"), data)
        self.assertContains(response, "active_hours.1")
        self.assertFalse(Bot.objects.exists())

    def test_it_saves_an_emptied_active_hours_box_as_always_active(self) -> None:
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(active_hours=""))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Bot.objects.get().active_hours, [])

    def test_it_requires_a_persona(self) -> None:
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(persona=""))
        self.assertContains(response, "This field is required.")
        self.assertFalse(Bot.objects.exists())

    def test_it_saves_a_valid_persona_as_parsed_json(self) -> None:
        persona = {**persona_default(), "tone": "street", "watchlist": ["BIST:AKBNK"], "bio": "Genç yatırımcı"}
        response = self.client.post(reverse("admin:bots_bot_add"), bot_form_data(persona=json.dumps(persona)))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Bot.objects.get().persona, persona)


class BotListTest(AdminTestCase):
    """Bulk actions, filters and search on the bot changelist."""

    def test_it_disables_and_enables_the_selected_bots(self) -> None:
        chosen, other = BotFactory.create(), BotFactory.create()
        url = reverse("admin:bots_bot_changelist")
        self.client.post(url, {"action": "disable_bots", "_selected_action": [chosen.pk]})
        chosen.refresh_from_db()
        other.refresh_from_db()
        self.assertEqual((chosen.is_enabled, other.is_enabled), (False, True))
        self.client.post(url, {"action": "enable_bots", "_selected_action": [chosen.pk]})
        chosen.refresh_from_db()
        self.assertTrue(chosen.is_enabled)

    def test_it_filters_by_persona_tone(self) -> None:
        BotFactory.create(name="Sokak Ağzı", persona={**persona_default(), "tone": "street"})
        BotFactory.create(name="Profesör", persona={**persona_default(), "tone": "academic"})
        html = self.get_ok(reverse("admin:bots_bot_changelist") + "?tone=street")
        self.assertIn("Sokak Ağzı", html)
        self.assertNotIn("Profesör", html)

    def test_it_searches_by_username(self) -> None:
        BotFactory.create(name="Bir", username="birinci_bot")
        BotFactory.create(name="İki", username="ikinci_bot")
        html = self.get_ok(reverse("admin:bots_bot_changelist") + "?q=ikinci")
        self.assertIn("ikinci_bot", html)
        self.assertNotIn("birinci_bot", html)

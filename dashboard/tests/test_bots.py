"""Bot pages: list, new bot, and the bot page with its profile, stances, holdings, memories and chats."""

from __future__ import annotations

import json
from typing import Any

from accounts.roles import Role
from bots.models import Bot, Holding, Memory, Stance
from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceChangeFactory, StanceFactory
from chats.models import Membership
from chats.services import membership_pause
from chats.tests.factories import ChatFactory, MembershipFactory
from dashboard.tests.edit_helpers import TOKEN, EditPageTestCase, field_errors, form_html, persona_fields_data


def bot_data(bot: Bot | None = None, *, as_json: bool = False, **changes: Any) -> dict[str, Any]:
    """The bot form as a browser would submit it: the persona fields, or (as_json) the JSON view's texts."""
    source = bot or Bot(name="Yeni Bot")
    data: dict[str, Any] = {
        "name": source.name,
        "username": source.username,
        "talkativeness": source.talkativeness,
        "llm_model": source.llm_model,
        "token": "",
    }
    if source.is_enabled:
        data["is_enabled"] = "on"
    documents = {name: getattr(source, name) for name in ("persona", "emotion", "speed", "active_hours")}
    if as_json:
        data |= {name: json.dumps(value) for name, value in documents.items()} | {"edit_as": "json"}
    else:
        data |= persona_fields_data(documents)
    data.update(changes)
    return data


class BotListTests(EditPageTestCase):
    def test_every_role_sees_the_list_with_persona_summary_and_chats(self) -> None:
        bot = BotFactory.create(name="Kemal", persona={"tone": "veteran", "risk_profile": "low", "language": "tr"})
        MembershipFactory.create(bot=bot, chat=ChatFactory.create(title="BIST Sohbet"))
        self.assert_every_role_sees("/bots/")
        html = self.page("/bots/")
        self.assertIn(f'href="/bots/{bot.pk}/">Kemal</a>', html)
        self.assertIn("veteran · risk low · tr", html)
        self.assertIn("BIST Sohbet", html)

    def test_only_roles_that_may_add_bots_get_the_new_bot_link(self) -> None:
        self.assertNotIn('href="/bots/new/"', self.page("/bots/", Role.VIEWER))
        self.assertIn('href="/bots/new/"', self.page("/bots/", Role.OPERATOR))


class BotCreateTests(EditPageTestCase):
    def test_operators_and_admins_get_the_form_viewers_a_403(self) -> None:
        self.assert_every_role_sees("/bots/new/", roles=(Role.OPERATOR, Role.ADMIN))
        self.page("/bots/new/", Role.VIEWER, status=403)

    def test_it_creates_a_bot_with_an_encrypted_token_and_filled_in_persona(self) -> None:
        self.post("/bots/new/", bot_data(name="Deniz", token=TOKEN, persona='{"tone": "newbie"}', as_json=True))
        bot = Bot.objects.get(name="Deniz")
        self.assertEqual(bot.token, TOKEN)
        self.assertEqual(bot.persona["tone"], "newbie")
        self.assertEqual(bot.persona["risk_profile"], "medium")  # defaults filled in, as the API does

    def test_an_invalid_persona_is_a_400_naming_the_path_next_to_the_field(self) -> None:
        html = self.post(
            "/bots/new/", bot_data(persona='{"style": {"length": "huge"}}', token=TOKEN, as_json=True), status=400
        )
        self.assertIn("persona.style.length: Input should be", field_errors(html, "bot-form"))
        self.assertIn('id="id_persona-errors"', html)
        self.assertNotIn(TOKEN.split(":")[1], html)  # the typed token is not rendered back
        self.assertFalse(Bot.objects.exists())

    def test_broken_json_says_where(self) -> None:
        html = self.post("/bots/new/", bot_data(emotion='{"tone": ', as_json=True), status=400)
        self.assertIn("Enter valid JSON", field_errors(html, "bot-form"))

    def test_viewers_cannot_create(self) -> None:
        self.post("/bots/new/", bot_data(name="X"), Role.VIEWER, status=403)
        self.assertFalse(Bot.objects.exists())


class BotPageTests(EditPageTestCase):
    def setUp(self) -> None:
        self.bot = BotFactory.create(name="Kemal", token=TOKEN)
        self.stance = StanceFactory.create(bot=self.bot, topic="BIST:AKBNK")
        HoldingFactory.create(bot=self.bot, symbol="BIST:THYAO")
        MemoryFactory.create(bot=self.bot, content="Emekli öğretmen.")
        self.chat = ChatFactory.create(title="Piyasa Sohbet")
        self.membership = MembershipFactory.create(bot=self.bot, chat=self.chat)
        self.url = f"/bots/{self.bot.pk}/"

    def test_every_role_sees_the_bot_and_what_it_knows(self) -> None:
        self.assert_every_role_sees(self.url)
        html = self.page(self.url)
        for text in ("BIST:AKBNK", "BIST:THYAO", "Emekli öğretmen.", "Piyasa Sohbet", self.bot.masked_token):
            self.assertIn(text, html)

    def test_the_stance_history_lists_each_change_newest_first_to_every_role(self) -> None:
        StanceChangeFactory.create(stance=self.stance, cause="Ayı: BIST düşecek")
        StanceChangeFactory.create(
            stance=self.stance, new_polarity="bearish", cause="TCMB faiz kararı", event_id=7, cause_kind="event"
        )
        self.assert_every_role_sees(self.url)
        html = self.page(self.url, Role.VIEWER).split('id="stance-history"')[1]
        self.assertLess(html.index("TCMB faiz kararı"), html.index("Ayı: BIST düşecek"))
        self.assertIn("bullish → bearish", html)
        self.assertIn("event #7", html)

    def test_a_bot_whose_stances_never_moved_says_so(self) -> None:
        self.assertIn("No stance has moved yet.", self.page(self.url))

    def test_a_membership_telegram_paused_says_why(self) -> None:
        membership_pause(chat=self.chat, bot=self.bot, reason="removed from the group by Kemal (kicked)")
        self.assertIn("paused: removed from the group by Kemal (kicked)", self.page(self.url))

    def test_viewers_get_read_only_fields_and_no_save_or_token_fields(self) -> None:
        html = self.page(self.url, Role.VIEWER)
        self.assertNotIn("<form method", form_html(html, "bot-form"))
        self.assertNotIn('name="token"', html)
        self.assertNotIn('type="submit"', html.split('id="bot-form"')[1].split("</main>")[0])
        self.assertNotIn('id="stance-form"', html)
        self.assertIn("disabled", form_html(html, f"stance-{self.stance.pk}-form"))

    def test_operators_get_forms_but_no_delete_buttons(self) -> None:
        html = self.page(self.url, Role.OPERATOR)
        self.assertIn('id="stance-form"', html)
        self.assertIn("Save bot", html)
        self.assertNotIn("Delete", html)
        self.assertIn("Delete bot", self.page(self.url, Role.ADMIN))

    def test_a_blank_token_keeps_the_current_one_and_edits_persist(self) -> None:
        self.post(self.url, bot_data(self.bot, name="Kemal Bey", talkativeness="0.9"))
        self.bot.refresh_from_db()
        self.assertEqual((self.bot.name, self.bot.talkativeness, self.bot.token), ("Kemal Bey", 0.9, TOKEN))

    def test_a_new_token_replaces_the_old_and_remove_clears_it(self) -> None:
        new_token = "987654321:AAE-another-secret_token"
        self.post(self.url, bot_data(self.bot, token=new_token))
        self.bot.refresh_from_db()
        self.assertEqual(self.bot.token, new_token)
        self.post(self.url, bot_data(self.bot, clear_token="on"))
        self.bot.refresh_from_db()
        self.assertFalse(self.bot.has_token)

    def test_an_invalid_edit_is_a_400_with_the_error_inline_and_nothing_saved(self) -> None:
        html = self.post(
            self.url, bot_data(self.bot, speed='{"min_delay_s": 50, "max_delay_s": 5}', as_json=True), status=400
        )
        self.assertIn("min_delay_s/max_delay_s", field_errors(html, "bot-form"))
        html = self.post(self.url, bot_data(self.bot, talkativeness="3"), status=400)
        self.assertIn("less than or equal to 1", field_errors(html, "bot-form"))
        self.bot.refresh_from_db()
        self.assertEqual(self.bot.talkativeness, 0.5)

    def test_a_taken_username_is_shown_next_to_the_field(self) -> None:
        BotFactory.create(username="taken_bot")
        html = self.post(self.url, bot_data(self.bot, username="taken_bot"), status=400)
        self.assertIn('id="id_username-errors"', html)
        self.assertIn("Another bot already has this username.", field_errors(html, "bot-form"))

    def test_viewers_cannot_save_and_operators_cannot_delete(self) -> None:
        self.post(self.url, bot_data(self.bot, name="Hacked"), Role.VIEWER, status=403)
        self.post(f"{self.url}delete/", {}, Role.OPERATOR, status=403)
        self.bot.refresh_from_db()
        self.assertEqual(self.bot.name, "Kemal")

    def test_admins_delete_a_bot(self) -> None:
        self.post(f"{self.url}delete/", {}, Role.ADMIN)
        self.assertFalse(Bot.objects.filter(pk=self.bot.pk).exists())


class PersonaFieldsPageTests(EditPageTestCase):
    def setUp(self) -> None:
        self.bot = BotFactory.create(name="Kemal", persona={"tone": "veteran", "watchlist": ["BIST:THYAO"]})
        self.url = f"/bots/{self.bot.pk}/"

    def test_the_pages_show_the_fields_with_symbol_suggestions_and_link_the_json_view(self) -> None:
        for url in (self.url, "/bots/new/"):
            html = self.page(url, Role.OPERATOR)
            self.assertIn('<select name="persona_tone"', html)
            self.assertIn('list="known-symbols"', html)
            self.assertIn('<option value="BIST:AKBNK">', html)
            self.assertIn('href="?view=json"', html)
            self.assertNotIn('name="persona"', html)
        self.assertIn('value="BIST:THYAO"', form_html(self.page(self.url), "bot-form"))

    def test_the_json_view_shows_the_textareas_instead(self) -> None:
        html = self.page(f"{self.url}?view=json", Role.OPERATOR)
        self.assertIn('name="persona"', html)
        self.assertIn('name="edit_as" value="json"', html)
        self.assertNotIn('name="persona_tone"', html)

    def test_viewers_see_the_fields_read_only(self) -> None:
        html = form_html(self.page(self.url, Role.VIEWER), "bot-form")
        self.assertIn('name="persona_tone" disabled', html)
        self.assertNotIn("rows-add", html)

    def test_operators_create_a_bot_through_the_fields(self) -> None:
        data = bot_data(name="Deniz", persona_tone="newbie", persona_watchlist=["btcusdt", ""], emotion_tone="anxious")
        self.post("/bots/new/", data)
        bot = Bot.objects.get(name="Deniz")
        self.assertEqual((bot.persona["tone"], bot.persona["watchlist"]), ("newbie", ["BTCUSDT"]))
        self.assertEqual(bot.emotion["tone"], "anxious")

    def test_an_edit_through_the_fields_is_saved(self) -> None:
        data = bot_data(self.bot, speed_typing_cps_0="4", speed_typing_cps_1="9", emotion_signature_phrases=["Sabır."])
        self.post(self.url, data | {"active_hours_ranges_from": ["23:00"], "active_hours_ranges_to": ["01:30"]})
        self.bot.refresh_from_db()
        self.assertEqual(self.bot.speed["typing_cps"], [4.0, 9.0])
        self.assertEqual(self.bot.emotion["signature_phrases"], ["Sabır."])
        self.assertEqual(self.bot.active_hours, ["23:00-01:30"])

    def test_an_unknown_symbol_is_a_400_with_the_error_at_the_watchlist_and_nothing_saved(self) -> None:
        html = self.post(self.url, bot_data(self.bot, persona_watchlist=["BIST:THYAO", "NOPEX"]), status=400)
        self.assertIn('id="id_persona_watchlist-errors"', html)
        self.assertIn("&#x27;NOPEX&#x27; is not a symbol we know", field_errors(html, "bot-form"))
        self.assertIn('value="NOPEX"', html)  # the typed rows come back to be fixed
        self.bot.refresh_from_db()
        self.assertEqual(self.bot.persona["watchlist"], ["BIST:THYAO"])

    def test_a_range_error_is_at_the_range_and_the_page_stays_in_the_fields_view(self) -> None:
        html = self.post(self.url, bot_data(self.bot, speed_delay_s_0="90", speed_delay_s_1="10"), status=400)
        self.assertIn('id="id_speed_delay_s-errors"', html)
        self.assertIn("the lower bound 90 is above the upper bound 10", field_errors(html, "bot-form"))
        self.assertIn('name="edit_as" value="fields"', html)


class BotKnowledgeTests(EditPageTestCase):
    def setUp(self) -> None:
        self.bot = BotFactory.create(name="Kemal")
        self.url = f"/bots/{self.bot.pk}/"

    def stance(self, **changes: Any) -> dict[str, Any]:
        data = {"topic": "BIST:AKBNK", "polarity": "bullish", "confidence": "0.8", "stance": "Bankalar yükselir."}
        return {f"stance-{name}": value for name, value in (data | changes).items()}

    def test_operators_add_and_edit_a_stance(self) -> None:
        self.post(f"{self.url}stances/", self.stance())
        stance = Stance.objects.get(bot=self.bot)
        self.assertEqual((stance.topic, stance.confidence), ("BIST:AKBNK", 0.8))
        data = {f"stance-{stance.pk}-{key.removeprefix('stance-')}": value for key, value in self.stance().items()}
        self.post(f"{self.url}stances/{stance.pk}/", data | {f"stance-{stance.pk}-polarity": "bearish"})
        stance.refresh_from_db()
        self.assertEqual(stance.polarity, "bearish")
        change = stance.changes.get()  # the operator's edit is in the stance's history
        self.assertEqual(
            (change.cause_kind, change.old_polarity, change.new_polarity), ("operator", "bullish", "bearish")
        )

    def test_an_invalid_stance_is_a_400_with_the_error_inline_in_the_stance_form(self) -> None:
        html = self.post(f"{self.url}stances/", self.stance(confidence="1.5", stance=""), status=400)
        errors = field_errors(html, "stance-form")
        self.assertIn("less than or equal to 1.0", errors)
        self.assertIn("This field is required.", errors)
        self.assertIn('id="id_stance-confidence-errors"', form_html(html, "stance-form"))
        self.assertFalse(Stance.objects.exists())

    def test_a_second_stance_on_the_same_topic_is_an_inline_topic_error(self) -> None:
        StanceFactory.create(bot=self.bot, topic="BIST:AKBNK")
        html = self.post(f"{self.url}stances/", self.stance(), status=400)
        self.assertIn('id="id_stance-topic-errors"', form_html(html, "stance-form"))
        self.assertIn("already exists", field_errors(html, "stance-form"))

    def test_holdings_are_normalised_and_a_bad_symbol_is_named(self) -> None:
        data = {"holding-symbol": "bist:akbnk", "holding-size": "10", "holding-average_price": "42.5"}
        self.post(f"{self.url}holdings/", data)
        self.assertEqual(Holding.objects.get().symbol, "BIST:AKBNK")
        html = self.post(f"{self.url}holdings/", data | {"holding-symbol": "no such!"}, status=400)
        self.assertIn('id="id_holding-symbol-errors"', form_html(html, "holding-form"))

    def test_operators_add_a_memory(self) -> None:
        data = {"memory-kind": "routine", "memory-relevance": "0.7", "memory-content": "Sabah 9'da."}
        self.post(f"{self.url}memories/", data)
        self.assertEqual(Memory.objects.get().content, "Sabah 9'da.")

    def test_viewers_cannot_add_and_operators_cannot_delete(self) -> None:
        self.post(f"{self.url}stances/", self.stance(), Role.VIEWER, status=403)
        stance = StanceFactory.create(bot=self.bot)
        self.post(f"{self.url}stances/{stance.pk}/delete/", {}, Role.OPERATOR, status=403)
        self.assertTrue(Stance.objects.filter(pk=stance.pk).exists())

    def test_admins_delete_a_stance_holding_and_memory(self) -> None:
        for kind, item in (
            ("stances", StanceFactory.create(bot=self.bot)),
            ("holdings", HoldingFactory.create(bot=self.bot)),
            ("memories", MemoryFactory.create(bot=self.bot)),
        ):
            self.post(f"{self.url}{kind}/{item.pk}/delete/", {}, Role.ADMIN)
            self.assertFalse(type(item).objects.filter(pk=item.pk).exists(), kind)

    def test_another_bots_stance_or_an_unknown_section_is_a_404(self) -> None:
        other = StanceFactory.create()
        self.post(f"{self.url}stances/{other.pk}/", self.stance(), status=404)
        self.post(f"{self.url}secrets/", {}, status=404)


class BotMembershipTests(EditPageTestCase):
    def setUp(self) -> None:
        self.bot = BotFactory.create()
        self.chat = ChatFactory.create(title="Kripto Sohbet")
        self.url = f"/bots/{self.bot.pk}/memberships/"

    def test_operators_add_the_bot_to_a_chat_and_change_its_talkativeness(self) -> None:
        self.post(self.url, {"membership-chat": self.chat.pk, "membership-is_enabled": "on"})
        membership = Membership.objects.get(bot=self.bot, chat=self.chat)
        prefix = f"membership-{membership.pk}"
        self.post(f"{self.url}{membership.pk}/", {f"{prefix}-talkativeness": "0.2"})
        membership.refresh_from_db()
        self.assertEqual((membership.is_enabled, membership.talkativeness), (False, 0.2))

    def test_an_invalid_talkativeness_is_inline(self) -> None:
        membership = MembershipFactory.create(bot=self.bot, chat=self.chat)
        prefix = f"membership-{membership.pk}"
        html = self.post(f"{self.url}{membership.pk}/", {f"{prefix}-talkativeness": "7"}, status=400)
        self.assertIn("less than or equal to 1.0", field_errors(html, f"{prefix}-form"))

    def test_only_admins_remove_a_membership(self) -> None:
        membership = MembershipFactory.create(bot=self.bot, chat=self.chat)
        self.post(f"{self.url}{membership.pk}/delete/", {}, Role.OPERATOR, status=403)
        self.post(f"{self.url}{membership.pk}/delete/", {}, Role.ADMIN)
        self.assertFalse(Membership.objects.exists())


class TokenSecrecyTests(EditPageTestCase):
    def test_no_page_shows_the_token_or_its_ciphertext(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        chat = ChatFactory.create()
        MembershipFactory.create(bot=bot, chat=chat)
        secret = TOKEN.split(":")[1]
        pages = ["/bots/", f"/bots/{bot.pk}/", "/bots/new/", f"/chats/{chat.pk}/edit/", "/turns/", "/settings/"]
        for role in (Role.OPERATOR, Role.ADMIN):
            for url in pages:
                html = self.page(url, role)
                self.assertNotIn(secret, html, url)
                self.assertNotIn(bot.token_encrypted, html, url)
        html = self.post(f"/bots/{bot.pk}/", bot_data(bot, name=""), status=400)
        self.assertNotIn(secret, html)

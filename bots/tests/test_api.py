"""Bots API: validated JSON fields with named paths, write-only tokens, nested knowledge, enable/disable."""

from __future__ import annotations

from typing import Any

from django.test import TestCase
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.models import Bot
from bots.tests.factories import BotFactory, StanceChangeFactory, StanceFactory

TOKEN = "123456789:AAE-secret-token_value"


class BotApiTest(TestCase):
    """As an operator."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.OPERATOR)

    def test_it_creates_a_bot_with_an_encrypted_write_only_token(self) -> None:
        response = self.api.post("/api/bots/", {"name": "Kemal", "token": TOKEN, "persona": {"tone": "veteran"}})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertNotIn("token", body)
        self.assertTrue(body["has_token"])
        self.assertEqual(body["masked_token"], Bot.objects.get().masked_token)
        self.assertNotIn("AAE-secret", response.content.decode())
        self.assertEqual(body["persona"]["tone"], "veteran")
        self.assertEqual(body["persona"]["risk_profile"], "medium")  # defaults filled in
        self.assertEqual(Bot.objects.get().token, TOKEN)

    def test_it_names_the_path_of_a_bad_persona_value(self) -> None:
        response = self.api.post("/api/bots/", {"name": "X", "persona": {"risk_profile": "extreme"}}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("persona.risk_profile: Input should be", response.json()["persona"][0])

    def test_it_rejects_unknown_persona_keys_and_bad_speed_ranges(self) -> None:
        bot = BotFactory.create()
        response = self.api.patch(f"/api/bots/{bot.pk}/", {"persona": {"tonee": "x"}}, format="json")
        self.assertIn("persona.tonee", response.json()["persona"][0])
        response = self.api.patch(f"/api/bots/{bot.pk}/", {"speed": {"min_delay_s": 50, "max_delay_s": 5}})
        self.assertEqual(response.status_code, 400)
        self.assertIn("min_delay_s/max_delay_s", response.json()["speed"][0])

    def test_it_rejects_a_malformed_or_taken_token_without_echoing_it(self) -> None:
        BotFactory.create(token=TOKEN)
        response = self.api.post("/api/bots/", {"name": "Y", "token": TOKEN})
        self.assertEqual(response.json(), {"token": ["Another bot already uses this token."]})
        response = self.api.post("/api/bots/", {"name": "Y", "token": "not-a-token-secret"})
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("not-a-token-secret", response.content.decode())

    def test_patch_keeps_the_token_unless_one_is_sent(self) -> None:
        bot = BotFactory.create(token=TOKEN)
        self.api.patch(f"/api/bots/{bot.pk}/", {"talkativeness": 0.9})
        bot.refresh_from_db()
        self.assertEqual(bot.token, TOKEN)
        self.assertEqual(bot.talkativeness, 0.9)
        self.api.patch(f"/api/bots/{bot.pk}/", {"token": ""})
        bot.refresh_from_db()
        self.assertFalse(bot.has_token)

    def test_it_disables_and_enables_a_bot(self) -> None:
        bot = BotFactory.create()
        self.assertFalse(self.api.post(f"/api/bots/{bot.pk}/disable/").json()["is_enabled"])
        self.assertTrue(self.api.post(f"/api/bots/{bot.pk}/enable/").json()["is_enabled"])

    def test_it_paginates_and_filters(self) -> None:
        BotFactory.create_batch(3)
        BotFactory.create(is_enabled=False)
        page = self.api.get("/api/bots/?limit=2").json()
        self.assertEqual((page["count"], len(page["results"])), (4, 2))
        self.assertIsNotNone(page["next"])
        self.assertEqual(self.api.get("/api/bots/?is_enabled=false").json()["count"], 1)


class BotKnowledgeApiTest(TestCase):
    """Stances, holdings and memories nested under a bot."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.OPERATOR)
        self.bot = BotFactory.create()

    def test_it_lists_only_this_bots_stances(self) -> None:
        StanceFactory.create(bot=self.bot)
        StanceFactory.create()
        self.assertEqual(self.api.get(f"/api/bots/{self.bot.pk}/stances/").json()["count"], 1)

    def test_a_duplicate_topic_is_a_json_400(self) -> None:
        StanceFactory.create(bot=self.bot, topic="XAUUSD")
        data = {"topic": "XAUUSD", "stance": "x", "polarity": "bearish"}
        response = self.api.post(f"/api/bots/{self.bot.pk}/stances/", data)
        self.assertEqual(response.status_code, 400)
        self.assertIn("already exists", str(response.json()))

    def test_it_normalises_holding_symbols_and_names_a_bad_one(self) -> None:
        url = f"/api/bots/{self.bot.pk}/holdings/"
        response = self.api.post(url, {"symbol": "bist:akbnk", "size": "10", "average_price": "40"})
        self.assertEqual(response.json()["symbol"], "BIST:AKBNK")
        response = self.api.post(url, {"symbol": "??", "size": "10", "average_price": "40"})
        self.assertIn("symbol", response.json())

    def test_a_memory_needs_a_known_kind(self) -> None:
        response = self.api.post(f"/api/bots/{self.bot.pk}/memories/", {"kind": "dream", "content": "x"})
        self.assertIn("kind", response.json())

    def test_creating_under_a_missing_bot_is_404(self) -> None:
        response = self.api.post("/api/bots/999999/memories/", {"kind": "routine", "content": "x"})
        self.assertEqual(response.status_code, 404)

    def test_an_id_beyond_64_bits_in_the_url_finds_nothing_instead_of_failing(self) -> None:
        # Found by schemathesis: filtering on bot_id with such a number overflowed SQLite's INTEGER (a 500).
        huge = 2**70
        for kind in ("stances", "holdings", "memories"):
            with self.subTest(kind=kind):
                self.assertEqual(self.api.get(f"/api/bots/{huge}/{kind}/").json()["count"], 0)
                self.assertEqual(self.api.get(f"/api/bots/{huge}/{kind}/1/").status_code, 404)


# Mostly objects shaped like the documents (known keys, values of any type), sometimes any JSON value at all.
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
)
KEYS = {
    "persona": ["tone", "risk_profile", "watchlist", "never_do", "style", "bio", "language"],
    "emotion": ["tone", "empathy", "energy", "signature_emoji", "signature_phrases", "anecdotes"],
    "speed": ["base_delay_s", "delay_multiplier", "jitter_s", "min_delay_s", "typing_cps", "max_typing_s"],
}
DOCUMENTS = st.sampled_from(sorted(KEYS)).flatmap(
    lambda field: st.tuples(
        st.just(field), st.dictionaries(st.sampled_from(KEYS[field]) | st.text(max_size=6), ANY_JSON, max_size=4)
    )
)


class BotDocumentValidationTest(HypothesisTestCase):
    """A refused persona, emotion or speed is reported under its field, each message naming the path."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.OPERATOR)

    def check(self, field: str, value: Any) -> None:
        response = self.api.post("/api/bots/", {"name": "Deneme", field: value}, format="json")
        self.assertIn(response.status_code, (201, 400))
        if response.status_code == 400:
            errors = response.json()
            self.assertEqual(list(errors), [field])
            for message in errors[field]:
                self.assertTrue(message.startswith(field) or value is None, message)

    @settings(max_examples=200, deadline=None)
    @given(DOCUMENTS)
    def test_document_shaped_values(self, field_and_value: tuple[str, dict[str, Any]]) -> None:
        self.check(*field_and_value)

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from([*sorted(KEYS), "active_hours"]), ANY_JSON)
    def test_any_json_value(self, field: str, value: Any) -> None:
        self.check(field, value)


class StanceChangeApiTest(TestCase):
    """The stance history under /api/bots/<id>/stance-changes/, read only."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.VIEWER)
        self.change = StanceChangeFactory.create(cause="TCMB faiz kararı", cause_kind="event", event_id=9)
        self.url = f"/api/bots/{self.change.bot_id}/stance-changes/"

    def test_viewers_read_a_bots_changes_with_what_moved_them(self) -> None:
        StanceChangeFactory.create()  # another bot's
        response = self.api.get(self.url)
        self.assertEqual(response.status_code, 200, response.content)
        (row,) = response.json()["results"]
        self.assertEqual((row["cause_kind"], row["event_id"], row["cause"]), ("event", 9, "TCMB faiz kararı"))
        self.assertEqual((row["old_confidence"], row["new_confidence"]), (0.7, 0.65))
        self.assertEqual(self.api.get(f"{self.url}{self.change.pk}/").json()["topic"], self.change.topic)

    def test_it_filters_by_cause(self) -> None:
        self.assertEqual(self.api.get(self.url, {"cause_kind": "argument"}).json()["results"], [])

    def test_nobody_writes_it(self) -> None:
        admin, _, _ = role_client(Role.ADMIN)
        self.assertEqual(admin.post(self.url, {"topic": "X"}).status_code, 405)
        self.assertEqual(admin.delete(f"{self.url}{self.change.pk}/").status_code, 405)

    def test_an_operators_stance_edit_through_the_api_is_recorded(self) -> None:
        operator, _, _ = role_client(Role.OPERATOR)
        stance = self.change.stance
        response = operator.patch(f"/api/bots/{stance.bot_id}/stances/{stance.pk}/", {"confidence": 0.3})
        self.assertEqual(response.status_code, 200, response.content)
        latest = operator.get(self.url).json()["results"][0]
        self.assertEqual((latest["cause_kind"], latest["new_confidence"], latest["moved"]), ("operator", 0.3, 0.0))
        operator.patch(f"/api/bots/{stance.bot_id}/stances/{stance.pk}/", {"stance": "Yeni metin."})
        self.assertEqual(stance.changes.count(), 2)  # a text edit moves no view: nothing recorded

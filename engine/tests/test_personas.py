"""Persona generation: complete drafts that pass the schemas, repaired once or reported, nothing saved before review."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import CommandError, call_command
from django.test import TestCase

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.drafts import draft_validate
from bots.models import Bot
from config.testing.cases import RedisTestCase
from engine.clients.llm.offline_tasks import brief_roles, traits
from engine.services.operator_calls import OperatorCallError
from engine.services.personas import PersonaDraftsInvalid, personas_draft
from engine.tests.test_interview import fake_llm_provider

BRIEF = "Generate 5 personas for a crypto-heavy group: a retired banker, a student, a day trader, an economist and a taxi driver"  # noqa: E501
VALID = {
    "name": "Ayşe Demir",
    "username": "ayse_demir",
    "persona": {"tone": "newbie", "risk_profile": "high", "watchlist": ["BTCUSDT"], "language": "tr"},
    "emotion": {"tone": "enthusiastic", "energy": "high"},
    "speed": {"base_delay_s": 10},
    "stances": [{"topic": "BTCUSDT", "stance": "Yükseliş bekliyorum", "polarity": "bullish", "confidence": 0.7}],
    "holdings": [{"symbol": "btcusdt", "size": 0.2, "average_price": 60000}],
    "memories": [{"kind": "personal_fact", "content": "Üniversitede ekonomi okuyor"}],
}


class OfflinePersonaDraftsTest(TestCase):
    """With the offline provider: deterministic drafts from the brief."""

    def test_drafts_follow_the_briefs_roles_and_pass_the_schemas(self) -> None:
        drafted = personas_draft(brief=BRIEF, count=5)
        assert len(drafted.drafts) == 5
        assert not Bot.objects.exists(), "nothing is saved before review"
        tones = [draft["persona"]["tone"] for draft in drafted.drafts]
        assert tones == ["veteran", "newbie", "technical", "academic", "street"]
        assert [draft["persona"]["risk_profile"] for draft in drafted.drafts][:2] == ["low", "high"]
        for draft in drafted.drafts:
            with self.subTest(name=draft["name"]):
                draft_validate(draft)
                assert draft["stances"]
                assert draft["holdings"]
                assert draft["memories"]
                assert any(s["topic"] in ("BTCUSDT", "ETHUSDT", "SOLUSDT") for s in draft["stances"]), "crypto-heavy"
        assert len({draft["name"] for draft in drafted.drafts}) == 5
        assert personas_draft(brief=BRIEF, count=5).drafts == drafted.drafts, "deterministic from the brief"

    def test_roles_and_traits_are_read_from_the_brief(self) -> None:
        cases = [
            ("x: a retired banker, a student and a trader", ["retired banker", "student", "trader"]),
            ("Borsa grubu: emekli öğretmen, genç yatırımcı ve esnaf", ["emekli öğretmen", "genç yatırımcı", "esnaf"]),
            ("five personas, no list", []),
        ]
        for brief, roles in cases:
            with self.subTest(brief=brief):
                assert brief_roles(brief) == roles
        assert traits("retired banker")[:2] == ("veteran", "low")
        assert traits("üniversite öğrencisi")[:2] == ("newbie", "high")

    def test_more_drafts_than_roles_are_filled_in_the_language(self) -> None:
        drafted = personas_draft(brief="gold and dollar watchers: a teacher", count=3, language="en")
        assert [draft["persona"]["language"] for draft in drafted.drafts] == ["en", "en", "en"]
        assert drafted.drafts[0]["persona"]["tone"] == "conservative"
        assert {s["topic"] for d in drafted.drafts for s in d["stances"]} <= {"XAUUSD", "USDTRY", "EURTRY"}

    def test_the_api_returns_drafts_and_saves_nothing(self) -> None:
        api, _, _ = role_client(Role.OPERATOR)
        response = api.post("/api/personas/generate/", {"brief": BRIEF, "count": 2}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (len(body["drafts"]), body["provider"], body["repaired"]) == (2, "offline", False)
        assert not Bot.objects.exists()
        viewer, _, _ = role_client(Role.VIEWER, username="viewer2")
        assert viewer.post("/api/personas/generate/", {"brief": BRIEF}, format="json").status_code == 403

    def test_a_draft_is_saved_through_the_existing_create_endpoints(self) -> None:
        api, _, _ = role_client(Role.OPERATOR)
        draft = api.post("/api/personas/generate/", {"brief": BRIEF, "count": 1}, format="json").json()["drafts"][0]
        fields = {key: draft[key] for key in ("name", "username", "persona", "emotion", "speed")}
        bot = api.post("/api/bots/", fields, format="json")
        assert bot.status_code == 201, bot.content
        for kind in ("stances", "holdings", "memories"):
            for item in draft[kind]:
                created = api.post(f"/api/bots/{bot.json()['id']}/{kind}/", item, format="json")
                assert created.status_code == 201, created.content
        saved = Bot.objects.get()
        assert (saved.stances.count(), saved.holdings.count()) == (len(draft["stances"]), 1)

    def test_the_command_prints_drafts_or_saves_them(self) -> None:
        out = StringIO()
        call_command("generate_personas", BRIEF, "--count", "2", stdout=out)
        assert [draft["persona"]["tone"] for draft in json.loads(out.getvalue())] == ["veteran", "newbie"]
        assert not Bot.objects.exists()
        out = StringIO()
        call_command("generate_personas", BRIEF, "--count", "2", "--save", stdout=out)
        assert Bot.objects.count() == 2
        assert out.getvalue().count("saved bot") == 2
        assert Bot.objects.get(persona__tone="veteran").stances.exists()
        with self.assertRaisesMessage(CommandError, "--count must be between 1 and 10"):
            call_command("generate_personas", BRIEF, "--count", "11")


class PersonaDraftsOverHttpTest(RedisTestCase):
    """With the fake LLM server over real HTTP: what real models return, valid or not."""

    def test_valid_json_in_a_fence_is_taken_as_drafted(self) -> None:
        reply = "İşte personalar:\n```json\n" + json.dumps({"personas": [VALID]}, ensure_ascii=False) + "\n```"
        with fake_llm_provider(reply=reply) as fake:
            drafted = personas_draft(brief="bir öğrenci", count=1)
        assert drafted.drafts[0]["holdings"][0]["symbol"] == "BTCUSDT"  # normalised by the schema
        assert drafted.drafts[0]["persona"]["style"] == {"emojis": True, "length": "medium"}  # defaults filled in
        assert not drafted.repaired
        assert len(fake.requests) == 1
        assert "persona.tone is one of street, professional" in fake.requests[0].body["messages"][0]["content"]

    def test_invalid_output_is_repaired_once_or_reported_by_field(self) -> None:
        wrong = json.dumps({"personas": [{**VALID, "persona": {"tone": "pirate"}}]})
        fixed = json.dumps({"personas": [VALID]})
        cases = [("not json at all", fixed, None), (wrong, fixed, None), (wrong, wrong, "personas[0].persona.tone")]
        for first, second, error in cases:
            with self.subTest(first=first[:20], error=error), fake_llm_provider() as fake:
                fake.queue_replies(first, second)
                if error is None:
                    assert personas_draft(brief="bir öğrenci", count=1).repaired
                else:
                    with self.assertRaises(PersonaDraftsInvalid) as raised:
                        personas_draft(brief="bir öğrenci", count=1)
                    assert any(line.startswith(error) for line in raised.exception.errors), raised.exception.errors
                assert len(fake.requests) == 2
                assert "That JSON is not valid" in fake.requests[1].body["messages"][-1]["content"]
        assert not Bot.objects.exists()

    def test_the_api_reports_invalid_drafts_and_a_refused_budget(self) -> None:
        api, _, _ = role_client(Role.OPERATOR)
        with fake_llm_provider(reply="[]"):
            response = api.post("/api/personas/generate/", {"brief": "x", "count": 1}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"] == ['expected {"personas": [ ... ]} with at least one persona']
        from engine.services import settings_update

        settings_update(values={"llm_budget": {"rpm": 1, "tpm": 100, "daily_tokens": 1_000_000}})
        with fake_llm_provider(reply="[]") as fake, self.assertRaisesMessage(OperatorCallError, "LLM budget"):
            personas_draft(brief="x", count=1)
        assert fake.requests == []

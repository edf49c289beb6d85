"""Interviewing a bot: in-character private answers from its facts, logged, budgeted, screened, never posted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from unittest.mock import patch

from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.models import Bot, Interview, Stance
from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceFactory
from chats.models import Message
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from config.testing.cases import RedisTestCase
from config.testing.fake_llm import FakeLlmServer
from engine.models import Turn
from engine.services import generation, settings_update
from engine.services.interview import interview_ask, interview_subject

BEARISH_BTC = "58 binin altına sarkma riski yüksek, ETF çıkışları sürüyor"


def kemal() -> Bot:
    """A veteran, bearish on BTC and bullish on THYAO, holding both, in a Turkish chat with messages of his own."""
    bot = BotFactory.create(name="Kemal", username="kemal_bot", persona={"tone": "veteran", "language": "tr"})
    StanceFactory.create(bot=bot, topic="BTCUSDT", stance=BEARISH_BTC, polarity=Stance.Polarity.BEARISH)
    StanceFactory.create(bot=bot, topic="BIST:THYAO", stance="Turizm sezonu destekliyor", confidence=0.6)
    HoldingFactory.create(bot=bot, symbol="BTCUSDT", size=Decimal("0.5"), average_price=Decimal("61000"))
    HoldingFactory.create(bot=bot, symbol="BIST:THYAO", size=Decimal("200"), average_price=Decimal("290"))
    MemoryFactory.create(bot=bot, content="2022'de BTC çöküşünde çok para kaybetti", relevance=0.8)
    chat = ChatFactory.create()
    MembershipFactory.create(bot=bot, chat=chat)
    MessageFactory.create(chat=chat, bot=bot, text="THYAO bugün güçlü duruyor.")
    return bot


@contextmanager
def fake_llm_provider(**fake: object) -> Iterator[FakeLlmServer]:
    """The configured provider is an OpenAI-compatible server: the fake, over real HTTP (budgeted, with a breaker)."""
    server = FakeLlmServer(**fake)  # type: ignore[arg-type]
    with (
        server,
        override_settings(
            LLM_PROVIDER="openai_compat", OPENAI_COMPAT_BASE_URL=server.openai_base_url, OPENAI_COMPAT_MODEL="tiny"
        ),
        patch.object(generation, "_client", None),
    ):
        yield server


class InterviewOfflineTest(TestCase):
    """With the offline provider (the default in tests)."""

    bot: Bot

    @classmethod
    def setUpTestData(cls) -> None:
        cls.bot = kemal()

    def test_a_bot_explains_its_bearish_stance_from_its_facts(self) -> None:
        messages, turns = Message.objects.count(), Turn.objects.count()
        with patch("engine.clients.telegram.TelegramSession._call") as telegram:
            interview = interview_ask(bot=self.bot, question="Neden BTC konusunda bu kadar negatifsin?")
        assert BEARISH_BTC in interview.answer
        assert "düşüş" in interview.answer
        assert "61.000" in interview.answer  # its BTCUSDT holding's cost (every holding phrasing names it)
        assert (interview.provider, interview.model, interview.bot) == ("offline", "offline", self.bot)
        assert interview.tokens_in > 0
        assert interview.tokens_out > 0
        assert (Message.objects.count(), Turn.objects.count()) == (messages, turns), "nothing goes to a chat"
        telegram.assert_not_called()

    def test_the_answer_is_about_what_is_asked(self) -> None:
        cases = [
            ("why are you bearish on BTC?", BEARISH_BTC),
            ("THYAO hakkında ne düşünüyorsun?", "Turizm sezonu destekliyor".lower()),
            ("Dolar hakkında fikrin ne?", "net bir görüşüm yok"),
            ("Kendini tanıtır mısın?", "Ben Kemal"),
        ]
        for question, expected in cases:
            with self.subTest(question=question):
                answer = interview_ask(bot=self.bot, question=question).answer
                assert expected.casefold() in answer.casefold(), answer

    def test_an_english_persona_answers_in_english(self) -> None:
        bot = BotFactory.create(name="Emily", persona={"tone": "technical", "language": "en"})
        StanceFactory.create(bot=bot, topic="XAUUSD", stance="Central banks keep buying", polarity="bullish")
        answer = interview_ask(bot=bot, question="What about gold, XAUUSD?").answer
        assert answer.startswith("I'm bullish on XAUUSD: central banks keep buying."), answer

    def test_the_subject_is_the_bots_own_symbol_or_a_topic_named(self) -> None:
        stances, holdings = list(self.bot.stances.all()), list(self.bot.holdings.all())
        cases = [
            ("why bearish on BTC?", ("Kripto", "BTCUSDT")),
            ("thyao?", ("BIST", "BIST:THYAO")),
            ("ASELS ne olur?", ("BIST", "BIST:ASELS")),
            ("enflasyon ne olur?", ("Makro", None)),
            ("nasılsın?", (None, None)),
        ]
        for question, expected in cases:
            with self.subTest(question=question):
                assert interview_subject(question, stances, holdings) == expected

    def test_the_command_prints_the_answer_and_keeps_the_log(self) -> None:
        out, err = StringIO(), StringIO()
        call_command("interview", "@kemal_bot", "why are you bearish on BTC?", stdout=out, stderr=err)
        assert out.getvalue().startswith("Kemal: ")
        assert BEARISH_BTC in out.getvalue()
        interview = Interview.objects.get()
        assert f"interview {interview.pk} · offline" in err.getvalue()
        assert interview.asked_by is None

    def test_the_command_names_an_unknown_bot(self) -> None:
        with self.assertRaisesMessage(CommandError, "No bot matches 'nobody'"):
            call_command("interview", "nobody", "?")

    def test_the_api_asks_and_lists_interviews(self) -> None:
        api, user, _ = role_client(Role.OPERATOR)
        url = f"/api/bots/{self.bot.pk}/interviews/"
        response = api.post(url, {"question": "why are you bearish on BTC?"}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert BEARISH_BTC in body["answer"]
        assert body["asked_by"] == user.username
        listed = api.get(url).json()
        assert [row["id"] for row in listed["results"]] == [body["id"]]

    def test_a_viewer_reads_the_log_but_may_not_ask(self) -> None:
        api, _, _ = role_client(Role.VIEWER)
        url = f"/api/bots/{self.bot.pk}/interviews/"
        assert api.get(url).status_code == 200
        assert api.post(url, {"question": "?"}, format="json").status_code == 403
        assert not Interview.objects.exists()

    def test_an_unknown_bot_is_a_404(self) -> None:
        api, _, _ = role_client(Role.OPERATOR)
        assert api.post("/api/bots/999999/interviews/", {"question": "?"}, format="json").status_code == 404


class InterviewOverHttpTest(RedisTestCase):
    """With an OpenAI-compatible provider: the fake LLM server over real HTTP, governed by the LLM budget."""

    bot: Bot

    @classmethod
    def setUpTestData(cls) -> None:
        cls.bot = kemal()

    def setUp(self) -> None:
        super().setUp()
        self.api, _, _ = role_client(Role.OPERATOR)
        self.url = f"/api/bots/{self.bot.pk}/interviews/"

    def test_the_model_answers_from_a_prompt_of_the_bots_facts(self) -> None:
        answer = "BTC tarafında temkinliyim; ETF çıkışları sürdükçe 58 bin altı riskli görünüyor."
        with fake_llm_provider(reply=answer) as fake:
            response = self.api.post(self.url, {"question": "Neden BTC'de negatifsin?"}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["answer"] == answer
        assert (response.json()["provider"], response.json()["model"]) == ("openai_compat", "tiny")
        [request] = fake.requests
        system, question = request.body["messages"]
        assert "interviewing you privately" in system["content"]
        assert BEARISH_BTC in system["content"]
        assert "BTCUSDT: 0.5 at 61000" in system["content"]
        assert "THYAO bugün güçlü duruyor." in system["content"]
        assert question == {"role": "user", "content": "Neden BTC'de negatifsin?"}

    def test_the_budget_is_charged_and_a_refusal_is_a_clear_429(self) -> None:
        settings_update(values={"llm_budget": {"rpm": 1, "tpm": 100_000, "daily_tokens": 1_000_000}})
        with fake_llm_provider(reply="BTC tarafında temkinliyim, acele yok.") as fake:
            first = self.api.post(self.url, {"question": "BTC?"}, format="json")
            second = self.api.post(self.url, {"question": "BTC?"}, format="json")
        assert first.status_code == 201
        assert second.status_code == 429, second.content
        assert "LLM budget is used up" in second.json()["detail"]
        assert int(second["Retry-After"]) >= 1
        assert len(fake.requests) == 1, "a refused interview makes no request"
        assert Interview.objects.count() == 1

    def test_a_question_larger_than_the_minute_allowance_is_a_clear_413(self) -> None:
        settings_update(values={"llm_budget": {"rpm": 30, "tpm": 100, "daily_tokens": 1_000_000}})
        with fake_llm_provider(reply="BTC tarafında temkinliyim.") as fake:
            response = self.api.post(self.url, {"question": "BTC?"}, format="json")
        assert response.status_code == 413, response.content
        assert "exceeds the allowance of 100" in response.json()["detail"]
        assert fake.requests == []
        assert not Interview.objects.exists()

    def test_a_buy_order_is_repaired_once_then_refused(self) -> None:
        order = "Hemen BTC al, kesin kazanırsın!"
        fixed = "BTC tarafında temkinliyim, ETF çıkışları sürüyor."
        for replies, status, answer in (((order, fixed), 201, fixed), ((order, order), 422, None)):
            with self.subTest(replies=replies), fake_llm_provider() as fake:
                fake.queue_replies(*replies)
                response = self.api.post(self.url, {"question": "BTC alayım mı?"}, format="json")
                assert response.status_code == status, response.content
                assert len(fake.requests) == 2
                if answer is not None:
                    assert response.json()["answer"] == answer
                else:
                    assert "failed the output checks" in response.json()["detail"]
        assert Interview.objects.count() == 1

    def test_an_unavailable_provider_is_a_503_and_nothing_is_logged(self) -> None:
        with fake_llm_provider() as fake:
            fake.unauthorized(times=1)
            response = self.api.post(self.url, {"question": "BTC?"}, format="json")
        assert response.status_code == 503
        assert "LLM is unavailable" in response.json()["detail"]
        assert not Interview.objects.exists()

    def test_the_command_reports_a_refused_budget(self) -> None:
        settings_update(values={"llm_budget": {"rpm": 1, "tpm": 100_000, "daily_tokens": 1_000_000}})
        with fake_llm_provider(reply="BTC tarafında temkinliyim."):
            call_command("interview", "Kemal", "BTC?", stdout=StringIO(), stderr=StringIO())
            with self.assertRaisesMessage(CommandError, "LLM budget is used up"):
                call_command("interview", "Kemal", "BTC?", stdout=StringIO(), stderr=StringIO())

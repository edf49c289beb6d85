"""The offline provider's operator tasks through its provider interface: interview answers and persona drafts."""

from __future__ import annotations

import asyncio
import json

from django.test import SimpleTestCase

from bots.drafts import draft_validate
from engine.clients.llm import LlmRequest, OfflineProvider
from engine.clients.llm.base import GenerationHints, HoldingHint, LanguageCode, StanceHint

STANCES = [StanceHint("BTCUSDT", "bearish", "ETF outflows weigh on it"), StanceHint("XAUUSD", "bullish", "Buyers")]


def complete(hints: GenerationHints, seed: int = 1) -> str:
    request = LlmRequest(messages=[{"role": "user", "content": hints.question or ""}], seed=seed, hints=hints)
    return asyncio.run(OfflineProvider().complete(request)).text


class OfflineTasksTest(SimpleTestCase):
    def test_an_interview_answer_gives_the_stance_asked_about_in_the_bots_language(self) -> None:
        holdings = [HoldingHint("BTCUSDT", 0.5, 61000)]
        cases: list[tuple[LanguageCode, str, str]] = [
            ("en", "BTCUSDT", "I'm bearish on BTCUSDT: ETF outflows weigh on it. My reason:"),
            ("tr", "BTCUSDT", "BTCUSDT konusunda temkinliyim, düşüş tarafındayım: ETF outflows weigh on it. Gerekçem"),
            ("en", "USDTRY", "I have no firm view on USDTRY, I mostly follow BTCUSDT, XAUUSD."),
        ]
        for language, symbol, start in cases:
            hints = GenerationHints(
                language=language, mode="interview", symbol=symbol, stances=STANCES, holdings=holdings, question="?"
            )
            with self.subTest(language=language, symbol=symbol):
                assert complete(hints).startswith(start), complete(hints)
                assert complete(hints) == complete(hints), "deterministic for a seed"

    def test_persona_drafts_are_json_that_passes_the_schemas(self) -> None:
        brief = "a gold-heavy group: a retired banker, a student, an engineer"
        text = complete(GenerationHints(language="en", mode="personas", question=brief, count=4))
        drafts = json.loads(text)["personas"]
        assert [draft_validate(d).persona.tone for d in drafts] == ["veteran", "newbie", "professional", "conservative"]
        assert {s["topic"] for d in drafts for s in d["stances"]} == {"XAUUSD"}, "the brief's market"

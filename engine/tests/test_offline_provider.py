"""The offline provider: deterministic, persona-, stance- and holding-aware, compliant messages."""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import replace
from decimal import Decimal
from itertools import product

from django.test import SimpleTestCase

from bots.schemas import EmotionTone, PersonaTone
from engine.clients.llm import (
    ChatMessage,
    GenerationHints,
    HoldingHint,
    LlmRequest,
    OfflineProvider,
    StanceHint,
    phrases,
)
from engine.clients.llm.offline import display_topic, text_polarity
from engine.clients.loops import run

SEEDS = range(60)
MESSAGES: list[ChatMessage] = [{"role": "system", "content": "persona"}, {"role": "user", "content": "yaz"}]
BASE = GenerationHints(
    language="tr",
    persona_tone="veteran",
    emotion_tone="calm",
    bot_name="Hakan",
    topic="BIST:AKBNK",
    stances=[StanceHint("BIST:AKBNK", "bullish", "Bankalar toparlanıyor")],
    length="medium",
)
FORBIDDEN = re.compile(
    r"garanti|kesin kazanç|guarantee|\b(buy|sell|al|sat|alın|satın|almalı\w*|satmalı\w*|alabilirsin|satabilirsin)\b",
    re.IGNORECASE,
)
TURKISH_LETTERS = set("ıİşŞğĞ")


def write(hints: GenerationHints, seed: int | None = 0) -> str:
    return run(OfflineProvider().complete(LlmRequest(messages=MESSAGES, seed=seed, hints=hints))).text


def texts(hints: GenerationHints) -> list[str]:
    return [write(hints, seed) for seed in SEEDS]


def has_emoji(text: str) -> bool:
    return any(unicodedata.category(char) == "So" for char in text)


class DeterminismTests(SimpleTestCase):
    def test_the_same_seed_gives_the_same_text(self) -> None:
        assert [write(BASE, 42) for _ in range(3)] == [write(BASE, 42)] * 3

    def test_different_seeds_mostly_give_different_texts(self) -> None:
        assert len(set(texts(BASE))) >= 0.7 * len(SEEDS)

    def test_without_a_seed_the_same_prompt_gives_the_same_text(self) -> None:
        assert write(BASE, None) == write(BASE, None)

    def test_it_does_not_touch_the_global_random_state(self) -> None:
        import random

        random.seed(5)
        expected = random.random()
        random.seed(5)
        write(BASE, 1)
        assert random.random() == expected


class LanguageTests(SimpleTestCase):
    def test_english_and_turkish_differ(self) -> None:
        english = texts(replace(BASE, language="en"))
        turkish = texts(BASE)
        assert not any(TURKISH_LETTERS & set(text) for text in english)
        assert sum(bool(TURKISH_LETTERS & set(text)) for text in turkish) > len(SEEDS) / 2
        assert not set(english) & set(turkish)

    def test_every_tone_has_phrases_in_both_languages(self) -> None:
        for lang in ("tr", "en"):
            assert set(phrases.OPENERS[lang]) == set(PersonaTone)
            assert set(phrases.CLOSERS[lang]) == set(PersonaTone)
            assert set(phrases.EMOTIONS[lang]) == set(EmotionTone)


class StanceTests(SimpleTestCase):
    def test_the_stance_polarity_shows_and_never_its_opposite(self) -> None:
        for language, (polarity, opposite) in product(("tr", "en"), (("bullish", "bearish"), ("bearish", "bullish"))):
            with self.subTest(language=language, polarity=polarity):
                hints = replace(BASE, language=language, stances=[StanceHint("BIST:AKBNK", polarity, "x")])  # type: ignore[arg-type]
                for text in texts(hints):
                    lowered = text.casefold()
                    assert any(marker in lowered for marker in phrases.POLARITY_MARKERS[polarity]), text
                    assert not any(marker in lowered for marker in phrases.POLARITY_MARKERS[opposite]), text

    def test_a_neutral_stance_takes_no_side(self) -> None:
        hints = replace(BASE, stances=[StanceHint("AKBNK", "neutral", "x")], length="long")
        assert all(text_polarity(text) == "neutral" for text in texts(hints))

    def test_the_stance_on_another_topic_is_not_used(self) -> None:
        hints = replace(BASE, topic="XAUUSD", length="short")
        assert all(text_polarity(text) == "neutral" for text in texts(hints))
        assert all("XAUUSD" in text for text in texts(hints))

    def test_the_topic_is_named_without_the_exchange_prefix(self) -> None:
        assert display_topic("BIST:AKBNK") == "AKBNK"
        assert all("BIST:" not in text for text in texts(BASE))


class PersonaTests(SimpleTestCase):
    def test_the_tone_changes_the_vocabulary(self) -> None:
        street = " ".join(texts(replace(BASE, persona_tone="street")))
        academic = " ".join(texts(replace(BASE, persona_tone="academic")))
        assert any(opener in street for opener in phrases.OPENERS["tr"]["street"])
        assert not any(opener in street for opener in phrases.OPENERS["tr"]["academic"])
        assert any(opener in academic for opener in phrases.OPENERS["tr"]["academic"])

    def test_signature_phrases_and_emoji_appear_sometimes(self) -> None:
        hints = replace(BASE, signature_phrases=["Sabır her şeydir"], signature_emoji="🦉", emojis=True)
        written = texts(hints)
        assert 0 < sum("Sabır her şeydir" in text for text in written) < len(SEEDS)
        assert 0 < sum("🦉" in text for text in written) < len(SEEDS)

    def test_no_emoji_when_the_persona_uses_none(self) -> None:
        hints = replace(BASE, signature_emoji="🦉", emojis=False, length="long")
        assert not any(has_emoji(text) for text in texts(hints))


class HoldingsAndLengthTests(SimpleTestCase):
    def test_holdings_are_mentioned_sometimes(self) -> None:
        hints = replace(BASE, holdings=[HoldingHint("XAUUSD", Decimal("1500"), Decimal("2450.5"))])
        mentions = [text for text in texts(hints) if "XAUUSD" in text]
        assert 0 < len(mentions) < len(SEEDS)
        assert all("2.450,50" in text and "1500" not in text for text in mentions)
        assert any("1.500" in text for text in mentions)

    def test_english_holdings_use_english_number_format(self) -> None:
        hints = replace(BASE, language="en", length="long", holdings=[HoldingHint("BTCUSDT", 0.25, 61000)])
        mentions = [text for text in texts(hints) if "BTCUSDT" in text]
        assert mentions
        assert all("61,000" in text for text in mentions)
        assert any("0.25 BTCUSDT" in text for text in mentions)

    def test_short_is_shorter_than_long_on_average(self) -> None:
        lengths = {
            size: statistics.mean(len(t) for t in texts(replace(BASE, length=size)))
            for size in ("short", "medium", "long")
        }
        assert lengths["short"] < lengths["medium"] < lengths["long"]


class ReplyTests(SimpleTestCase):
    def test_replies_address_the_member(self) -> None:
        hints = replace(BASE, mode="reply", reply_to_name="Ayşe", reply_to_text="Bankalar bence zayıf")
        assert all("Ayşe" in text for text in texts(hints))

    def test_a_reply_to_the_opposite_view_disagrees(self) -> None:
        hints = replace(BASE, mode="reply", reply_to_name="Ayşe", reply_to_text="AKBNK bence zayıf, düşüş gelir")
        disagreements = [line.format(name="Ayşe") for line in phrases.REPLIES["tr"]["disagree"]]
        assert all(any(text.startswith(line) for line in disagreements) for text in texts(hints))

    def test_a_reply_to_the_same_view_agrees(self) -> None:
        hints = replace(BASE, language="en", mode="reply", reply_to_name="Sam", reply_to_text="AKBNK looks strong")
        agreements = [line.format(name="Sam") for line in phrases.REPLIES["en"]["agree"]]
        assert all(any(text.startswith(line) for line in agreements) for text in texts(hints))


class ComplianceTests(SimpleTestCase):
    def test_no_profit_promises_or_buy_sell_instructions(self) -> None:
        tones, emotions = list(PersonaTone), list(EmotionTone)
        for lang, polarity, length in product(("tr", "en"), ("bullish", "bearish", "neutral"), ("short", "long")):
            for seed in range(40):
                hints = replace(
                    BASE,
                    language=lang,  # type: ignore[arg-type]
                    persona_tone=tones[seed % len(tones)],
                    emotion_tone=emotions[seed % len(emotions)],
                    stances=[StanceHint("AKBNK", polarity, "x")],  # type: ignore[arg-type]
                    holdings=[HoldingHint("AKBNK", 100, 40)],
                    length=length,  # type: ignore[arg-type]
                    mode="reply" if seed % 2 else "new",
                    reply_to_name="Ali",
                )
                text = write(hints, seed)
                assert not FORBIDDEN.search(text), text

    def test_the_phrase_tables_themselves_are_compliant(self) -> None:
        for table in (
            phrases.STANCES,
            phrases.REASONS,
            phrases.OPENERS,
            phrases.CLOSERS,
            phrases.EMOTIONS,
            phrases.REPLIES,
        ):
            for by_key in table.values():
                for line in (line for lines in by_key.values() for line in lines):
                    assert not FORBIDDEN.search(line), line


class AccountingTests(SimpleTestCase):
    def test_tokens_latency_and_names(self) -> None:
        response = run(OfflineProvider().complete(LlmRequest(messages=MESSAGES, seed=3, hints=BASE)))
        assert (response.provider, response.model) == ("offline", "offline")
        assert response.tokens_in == (len("persona" + "yaz") + 3) // 4
        assert response.tokens_out == (len(response.text) + 3) // 4
        assert response.latency_ms < 50
        assert response.rate_limits is None

    def test_without_hints_it_still_writes_something(self) -> None:
        assert write(GenerationHints(), 1)
        assert run(OfflineProvider().complete(LlmRequest(messages=MESSAGES))).text

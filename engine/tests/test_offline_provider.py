"""The offline provider: deterministic, persona-, stance- and holding-aware, compliant messages."""

from __future__ import annotations

import random
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from itertools import product

from django.test import SimpleTestCase

from bots.demo import DEMO_BOTS, DemoBot
from bots.schemas import EmotionTone, PersonaTone
from chats.schemas import DEFAULT_TOPICS
from engine.clients.llm import (
    ChatMessage,
    GenerationHints,
    HoldingHint,
    LlmRequest,
    OfflineProvider,
    StanceHint,
    phrases,
)
from engine.clients.llm.offline import display_topic, relation_to, text_polarity
from engine.clients.loops import run
from engine.runtime_settings import RuntimeConfig
from engine.services import postprocess
from engine.services.context import choose_length
from engine.services.loading import OWN_TEXTS_LIMIT

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


# Member questions naming symbols, as the trial asked them, with the topic each symbol belongs to.
QUESTIONS = {
    "tr": [
        ("BTCUSDT", "Kripto", "BTCUSDT 100 binin üstünde kalır mı?"),
        ("XAUUSD", "XAUUSD", "XAUUSD bu seviyeden alınır mı, ne dersiniz?"),
        ("BIST:THYAO", "BIST", "THYAO bu hafta nereye gider?"),
        ("BIST:ASELS", "BIST", "ASELS'te yükseliş sürer mi?"),
        ("BIST:EREGL", "BIST", "EREGL için görüşünüz ne?"),
        ("USDTRY", "FX", "USDTRY yıl sonunda kaç olur sizce?"),
        ("BIST:AKBNK", "BIST", "AKBNK bilançosu nasıl sizce?"),
        ("BIST:TUPRS", "BIST", "TUPRS uzun vade için nasıl?"),
        ("ETHUSDT", "Kripto", "ETHUSDT neden bu kadar zayıf?"),
    ],
    "en": [
        ("BTCUSDT", "Kripto", "Will BTCUSDT hold above 100k?"),
        ("XAUUSD", "XAUUSD", "Is XAUUSD worth it at these levels?"),
        ("BIST:THYAO", "BIST", "Where is THYAO going this week?"),
        ("BIST:ASELS", "BIST", "Can ASELS keep its rally?"),
        ("BIST:EREGL", "BIST", "What's your view on EREGL?"),
        ("USDTRY", "FX", "Where does USDTRY end the year?"),
        ("BIST:AKBNK", "BIST", "How do AKBNK earnings look?"),
        ("ETHUSDT", "Kripto", "Why is ETHUSDT so weak?"),
    ],
}
Said = tuple[str, str, str | None, str | None]  # bot name, text, symbol, topic


def crowd_hints(spec: DemoBot, rng: random.Random, language: str, said: list[Said]) -> GenerationHints:
    """Hints as a turn of the demo crowd would have them: a member's question, a reply to a bot, or a new message."""
    stances = [StanceHint(s.topic, s.polarity, s.stance) for s in spec.stances]  # type: ignore[arg-type]
    memories = sorted(spec.memories, key=lambda m: m.relevance + rng.random(), reverse=True)[:3]
    base = GenerationHints(
        language=language,  # type: ignore[arg-type]
        persona_tone=str(spec.persona.tone),
        emotion_tone=str(spec.emotion.tone),
        bot_name=spec.name,
        stances=stances,
        holdings=[HoldingHint(h.symbol, h.size, h.average_price) for h in spec.holdings],
        length=choose_length(RuntimeConfig().message_length_profile, spec.persona.style.length, rng),  # type: ignore[arg-type]
        emojis=spec.persona.style.emojis,
        signature_emoji=spec.emotion.signature_emoji,
        signature_phrases=list(spec.emotion.signature_phrases),
        memories=[m.content for m in memories],
        recent=[line[1] for line in said[-20:]],
        own=[line[1] for line in reversed(said) if line[0] == spec.name][:OWN_TEXTS_LIMIT],
    )
    roll, others = rng.random(), [line for line in said[-6:] if line[0] != spec.name]
    if roll < 0.35:
        symbol, topic, question = rng.choice(QUESTIONS[language])
        return replace(
            base,
            mode="reply",
            reply_to_name="Üye Ali",
            reply_to_text=question,
            topic=topic,
            symbol=symbol,
            relation=relation_to(own_polarity(stances, symbol, topic), question),
        )
    if roll < 0.75 and others:
        name, text, their_symbol, their_topic = rng.choice(others)
        relation = relation_to(own_polarity(stances, their_symbol, their_topic or ""), text, tie=rng.randint(0, 1))
        return replace(
            base,
            mode="reply",
            reply_to_name=name,
            reply_to_text=text,
            topic=their_topic,
            symbol=their_symbol,
            relation=relation,
        )
    watch = [*spec.persona.watchlist, *DEFAULT_TOPICS]
    return replace(base, topic=rng.choice(watch))


def own_polarity(stances: list[StanceHint], symbol: str | None, topic: str) -> str:
    for wanted in (display_topic(symbol).casefold(), topic.casefold()):
        found = next((s.polarity for s in stances if display_topic(s.topic).casefold() == wanted), None)
        if found is not None:
            return found
    return "neutral"


def crowd_messages(count: int, *, language: str = "tr", seed: int = 0) -> list[tuple[str, str]]:
    """`count` messages of the demo crowd (speakers by talkativeness), each turn seeded as its turn id would."""
    said: list[Said] = []
    weights = [spec.talkativeness for spec in DEMO_BOTS]
    for turn in range(count):
        rng = random.Random(seed * 100_003 + turn)
        spec = rng.choices(DEMO_BOTS, weights=weights, k=1)[0]
        hints = crowd_hints(spec, rng, language, said)
        said.append((spec.name, write(hints, seed * 100_003 + turn + 1), hints.symbol, hints.topic))
    return [(line[0], line[1]) for line in said]


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.replace("İ", "i").casefold())


def ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def crowd_figures(messages: list[tuple[str, str]]) -> dict[str, float]:
    """Opener share (first word), per-bot most reused 3-gram share, distinct-1/2, as the issue defines them."""
    words = [tokens(text) for _, text in messages]
    bigrams = [gram for message in words for gram in ngrams(message, 2)]
    unigrams = [word for message in words for word in message]
    openers = Counter(message[0] for message in words if message)
    by_bot: dict[str, list[set[tuple[str, ...]]]] = {}
    for (bot, _), message in zip(messages, words, strict=True):
        by_bot.setdefault(bot, []).append(set(ngrams(message, 3)))
    reuse = {}
    for bot, grams in by_bot.items():
        counts = Counter(gram for message in grams for gram in message)
        reuse[bot] = max(counts.values()) / len(grams) if counts else 0.0
    return {
        "messages": len(messages),
        "most_common_opener": openers.most_common(1)[0][1] / len(messages),
        "most_common_opener_2": Counter(tuple(m[:2]) for m in words).most_common(1)[0][1] / len(messages),
        "max_bot_trigram": max(reuse.values()),
        "distinct_1": len(set(unigrams)) / len(unigrams),
        "distinct_2": len(set(bigrams)) / len(bigrams),
    }


class DeterminismTests(SimpleTestCase):
    def test_the_same_seed_gives_the_same_text(self) -> None:
        assert [write(BASE, 42) for _ in range(3)] == [write(BASE, 42)] * 3

    def test_different_seeds_mostly_give_different_texts(self) -> None:
        assert len(set(texts(BASE))) >= 0.7 * len(SEEDS)

    def test_a_draft_echoing_a_recent_message_is_redrafted(self) -> None:
        echoes = 0
        for seed in SEEDS:
            first = write(BASE, seed)
            again = write(replace(BASE, recent=["Üye Ali: selam", first]), seed)
            assert again != first
            echoes += postprocess.is_duplicate(again, [first])
        assert echoes <= 0.05 * len(SEEDS), echoes

    def test_a_draft_reusing_three_words_of_the_bots_own_messages_is_redrafted(self) -> None:
        reused = 0
        for seed in SEEDS:
            first = write(BASE, seed)
            again = tokens(write(replace(BASE, own=[postprocess.normalize(first)]), seed + 1))
            before = set(ngrams(tokens(postprocess.normalize(first)), 3))
            reused += bool(before & set(ngrams(tokens(postprocess.normalize(" ".join(again))), 3)))
        assert reused <= 0.05 * len(SEEDS), reused

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

    def test_a_signature_emoji_never_contradicts_the_message_s_direction(self) -> None:
        bearish = [StanceHint("BIST:AKBNK", "bearish", "Bankalar zayıf")]
        for emoji, stances in (("📈", bearish), ("📉", BASE.stances)):
            hints = replace(BASE, stances=stances, signature_emoji=emoji, emojis=True)
            with self.subTest(emoji=emoji):
                assert not any(emoji in text for text in texts(hints))

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


def folded(text: str) -> str:
    return text.replace("İ", "i").casefold()  # "İ".casefold() is "i" plus a combining dot


def loose(line: str, lang: str = "tr") -> re.Pattern[str]:
    """A template line's longest fixed part as a pattern that also matches its paraphrases (the subject and its
    postposition may move, so only the part between them is matched)."""
    line = max(re.split(r"\{topic\}|\{pp\}", line), key=len).strip(" ,")
    table = phrases.SYNONYMS[lang]
    keys = re.compile("|".join(re.escape(key) for key in sorted(table, key=len, reverse=True)))
    pattern, position = "", 0
    for match in keys.finditer(line):
        pattern += re.escape(line[position : match.start()])
        pattern += "(?:" + "|".join(re.escape(w) for w in [match.group(0), *table[match.group(0)]]) + ")"
        position = match.end()
    pattern += re.escape(line[position:])
    return re.compile(folded(pattern))


def contains_one_of(text: str, lines: list[str], lang: str = "tr") -> bool:
    return any(loose(line, lang).search(folded(text)) for line in lines)


class ReplyTests(SimpleTestCase):
    def test_a_reply_addresses_the_member_by_name_only_rarely(self) -> None:
        # The old provider opened every reply with the name ("Ayşe, mantıklı."): a defect of issue 18.
        hints = replace(BASE, mode="reply", reply_to_name="Ayşe", reply_to_text="Bankalar bence zayıf")
        written = [write(hints, seed) for seed in range(300)]
        named = sum("Ayşe" in text for text in written)
        assert 0 < named <= 0.1 * len(written)

    def test_a_reply_to_the_opposite_view_disagrees(self) -> None:
        hints = replace(BASE, mode="reply", reply_to_name="Ayşe", reply_to_text="AKBNK bence zayıf, düşüş gelir")
        disagreements = phrases.RELATIONS["tr"]["disagree"]
        assert all(contains_one_of(text, disagreements) for text in texts(hints))

    def test_a_reply_to_the_same_view_agrees(self) -> None:
        hints = replace(BASE, language="en", mode="reply", reply_to_name="Sam", reply_to_text="AKBNK looks strong")
        agreements = phrases.RELATIONS["en"]["agree"]
        assert all(contains_one_of(text, agreements, "en") for text in texts(hints))

    def test_the_relation_hint_decides_how_the_reply_relates(self) -> None:
        target = "AKBNK bence zayıf, düşüş gelir"
        for relation in ("agree", "disagree"):
            with self.subTest(relation=relation):
                hints = replace(BASE, mode="reply", reply_to_name="Ayşe", reply_to_text=target, relation=relation)
                assert all(contains_one_of(text, phrases.RELATIONS["tr"][relation]) for text in texts(hints))

    def test_an_ask_relation_asks_a_question_back(self) -> None:
        hints = replace(BASE, mode="reply", reply_to_name="Ayşe", reply_to_text="AKBNK uçar", relation="ask")
        asks = phrases.RELATIONS["tr"]["ask"]
        assert all(contains_one_of(text, asks) for text in texts(hints))

    def test_a_question_is_never_answered_with_makes_sense(self) -> None:
        for language, question in (("tr", "AKBNK bu hafta nereye?"), ("en", "Where is AKBNK going?")):
            with self.subTest(language=language):
                hints = replace(BASE, language=language, mode="reply", reply_to_name="Ali", reply_to_text=question)  # type: ignore[arg-type]
                for text in texts(hints):
                    assert "mantıklı" not in text.casefold(), text
                    assert "makes sense" not in text.casefold(), text


class SymbolTests(SimpleTestCase):
    QUESTION = replace(
        BASE,
        mode="reply",
        reply_to_name="Üye Ali",
        reply_to_text="THYAO bu hafta nereye?",
        topic="BIST",
        symbol="BIST:THYAO",
        relation="add",
        stances=[
            StanceHint("Kripto", "bearish", "Kripto kumardır."),
            StanceHint("BIST", "neutral", "Endeks yatay."),
            StanceHint("BIST:THYAO", "bullish", "THYAO nakit üretir."),
        ],
        holdings=[HoldingHint("BIST:THYAO", Decimal("1500"), Decimal("245.50"))],
    )

    def test_a_question_on_a_symbol_is_answered_from_the_stance_on_that_symbol(self) -> None:
        for text in texts(self.QUESTION):
            assert "THYAO" in text, text
            assert text_polarity(text) == "bullish", text
            assert "Kripto" not in text, text
            assert "BIST" not in text.replace("BIST:", ""), text

    def test_a_symbol_without_its_own_stance_takes_its_topics_stance(self) -> None:
        hints = replace(
            self.QUESTION,
            symbol="BIST:ASELS",
            reply_to_text="ASELS ne olur?",
            stances=[
                StanceHint("BIST", "bearish", "Endeks pahalı."),
            ],
        )
        for text in texts(hints):
            assert "ASELS" in text, text
            assert text_polarity(text) == "bearish", text

    def test_a_bot_without_a_view_on_the_symbol_says_so_and_stays_on_it(self) -> None:
        hints = replace(self.QUESTION, symbol="XAUUSD", topic="XAUUSD", reply_to_text="XAUUSD alınır mı?")
        for text in texts(hints):
            assert "XAUUSD" in text, text
            assert text_polarity(text) == "neutral", text
        assert all(contains_one_of(text, phrases.NO_VIEW["tr"]) for text in texts(hints))

    def test_levels_stay_near_the_bots_own_average_price(self) -> None:
        prices = [
            Decimal(match.replace(".", "").replace(",", "."))
            for text in texts(replace(self.QUESTION, length="long"))
            for match in re.findall(r"(?<![\d.,])\d{2,3}(?:,\d+)?(?![\d.,])", text)
        ]
        assert prices
        assert all(Decimal("220") <= price <= Decimal("275") for price in prices), prices

    def test_names_and_tickers_keep_their_case(self) -> None:
        for text in [write(self.QUESTION, seed) for seed in range(200)]:
            assert "üye ali" not in text, text
            assert "thyao" not in text, text


class MemoryTests(SimpleTestCase):
    def test_memories_are_told_sometimes(self) -> None:
        memory = "Her sabah açılıştan önce gazeteyi okuyup çayımı içerim"
        hints = replace(BASE, length="long", memories=[memory + "."])
        told = sum(memory in text for text in texts(hints))
        assert 0 < told < 0.4 * len(SEEDS)

    def test_a_memory_pulling_against_the_view_is_left_out(self) -> None:
        for memory in ("AKBNK zayıf, düşüş sürecek diye korkmuştum.", "2001 krizinde portföyümün yarısı eridi."):
            with self.subTest(memory=memory):
                hints = replace(BASE, length="long", memories=[memory])
                assert not any(memory.rstrip(".") in text for text in texts(hints))


class CrowdVarietyTests(SimpleTestCase):
    """The demo crowd's personas writing 600 messages (member questions, replies to each other, new messages),
    in Turkish (the demo chat's language) and in English."""

    messages: list[tuple[str, str]]
    figures: dict[str, dict[str, float]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.messages = crowd_messages(600)
        cls.figures = {"tr": crowd_figures(cls.messages), "en": crowd_figures(crowd_messages(600, language="en"))}

    def test_no_opener_starts_more_than_one_message_in_twenty(self) -> None:
        for language, figures in self.figures.items():
            with self.subTest(language=language):
                assert figures["most_common_opener"] <= 0.05, figures

    def test_no_bot_repeats_a_three_word_phrase_in_more_than_15_percent_of_its_messages(self) -> None:
        for language, figures in self.figures.items():
            with self.subTest(language=language):
                assert figures["max_bot_trigram"] <= 0.15, figures

    def test_no_bot_repeats_a_three_word_phrase_in_a_benchmark_sized_window(self) -> None:
        # bench.quality's 30 minutes: ~30 bot messages, five or six bots; the 15 % bound allows one message in seven.
        for seed in range(12):
            window = crowd_messages(30, seed=seed)
            by_bot = Counter(bot for bot, _ in window)
            talkers = [(bot, text) for bot, text in window if by_bot[bot] >= 7]
            with self.subTest(seed=seed):
                assert not talkers or crowd_figures(talkers)["max_bot_trigram"] <= 0.15, window

    def test_signature_phrases_appear_in_at_most_one_message_in_seven_per_bot(self) -> None:
        for spec in DEMO_BOTS:
            own = [text for name, text in self.messages if name == spec.name]
            signed = sum(any(phrase in text for phrase in spec.emotion.signature_phrases) for text in own)
            assert signed <= len(own) / 7, (spec.name, signed, len(own))

    def test_distinct_bigrams_reach_0_7_over_a_benchmark_sized_window(self) -> None:
        # ~170 messages: a 30-minute window, scaled from the 7-minute trial (the old provider's distinct-2 of
        # 0.53 there matches about 40 messages of this crowd); six fixed seed sets.
        windows = [crowd_figures(crowd_messages(170, seed=seed))["distinct_2"] for seed in range(6)]
        assert statistics.mean(windows) >= 0.7, windows
        assert min(windows) >= 0.65, windows


class ComplianceTests(SimpleTestCase):
    def test_the_crowd_passes_the_local_stance_and_compliance_checks(self) -> None:
        # A failed check costs a repair call; the few left come from topic keywords ("usdt" starts "USDTRY").
        said: list[Said] = []
        failed = 0
        for turn in range(600):
            rng = random.Random(turn)
            spec = rng.choices(DEMO_BOTS, weights=[s.talkativeness for s in DEMO_BOTS], k=1)[0]
            hints = crowd_hints(spec, rng, "tr", said)
            text = write(hints, turn + 1)
            said.append((spec.name, text, hints.symbol, hints.topic))
            stances = [(s.topic, str(s.polarity)) for s in hints.stances]
            failed += bool(postprocess.compliance_problems(text) + postprocess.stance_problems(text, stances))
        assert failed <= 0.01 * len(said), failed

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
            phrases.OPENERS,
            phrases.CLOSERS,
            phrases.EMOTIONS,
            phrases.RELATIONS,
            phrases.LEVELS,
            {"any": phrases.NO_VIEW, "relate": phrases.RELATE, "questions": phrases.QUESTIONS},
            {"holdings": phrases.HOLDINGS, "leads": phrases.LEADS, "tails": phrases.TAILS},
            {lang: {"synonyms": [w for ws in table.values() for w in ws]} for lang, table in phrases.SYNONYMS.items()},
            {
                lang: {side: [*parts[0], *parts[1]] for side, parts in by.items()}
                for lang, by in phrases.REASON_PARTS.items()
            },
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

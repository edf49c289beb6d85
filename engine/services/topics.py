"""Topic inference from recent talk: keywords per default topic and symbols mentioned."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

from bots.symbols import SYMBOL_PATTERN

KEYWORDS: dict[str, tuple[str, ...]] = {
    "BIST": ("bist", "borsa", "hisse", "endeks", "xu100", "bilanço", "temettü", "halka arz", "stocks", "equities"),
    "FX": ("dolar", "euro", "kur", "usdtry", "eurtry", "döviz", "parite", "dollar", "lira", "forex"),
    "Kripto": ("kripto", "bitcoin", "btc", "eth", "ethereum", "coin", "altcoin", "binance", "crypto", "usdt"),
    "Makro": ("faiz", "enflasyon", "tcmb", "merkez bankası", "fed", "büyüme", "cari açık", "rate", "inflation", "gdp"),
}
# Upper-case, 4-12 characters, letters first: THYAO, XU100, BTCUSDT, BIST:AKBNK (not USD or 2024).
TICKER = re.compile(r"\b(?:[A-Z]{2,10}:)?[A-Z]{2}[A-Z0-9]{2,10}\b")
WORD = re.compile(r"\w+", re.UNICODE)


def symbols_in(text: str) -> list[str]:
    """Ticker-shaped words (THYAO, BIST:AKBNK, BTCUSDT) in a text, in order."""
    return [match for match in TICKER.findall(text) if SYMBOL_PATTERN.match(match)]


def topic_keywords(topic: str) -> tuple[str, ...]:
    """The words that signal a topic (a custom topic is its own keyword)."""
    return KEYWORDS.get(topic, (topic.casefold(),))


@cache
def _keyword_pattern(topic: str) -> re.Pattern[str]:
    # Keywords match at the start of a word, so suffixes count (borsada, dolardan) but "eth" in
    # "method" or "rate" in "separate" do not.
    alternatives = "|".join(re.escape(word) for word in topic_keywords(topic))
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


def mentions_topic(text: str, topic: str) -> bool:
    """Whether a text talks about a topic (one of its keywords starts a word)."""
    return _keyword_pattern(topic).search(text) is not None


def topic_scores(texts: list[str], topics: list[str]) -> Counter[str]:
    """Per chat topic, the positions (1 = oldest) of the texts mentioning it, summed: later texts weigh more."""
    scores: Counter[str] = Counter()
    for position, text in enumerate(texts, start=1):
        for topic in topics:
            # One vote per text, so one keyword-heavy old message cannot outweigh the latest talk.
            if mentions_topic(text, topic):
                scores[topic] += position
    return scores


def infer_topic(texts: list[str], topics: list[str]) -> str | None:
    """The chat topic recent talk is about (ties go to the most recent mention), or None when nothing matches."""
    recent = texts[-10:]
    scores = topic_scores(recent, topics)
    if not scores:
        return None
    last_seen = {topic: max(i for i, text in enumerate(recent) if mentions_topic(text, topic)) for topic in scores}
    return max(scores, key=lambda topic: (scores[topic], last_seen[topic]))


def words(text: str) -> set[str]:
    """Lower-cased words of 3+ letters, for overlap scores."""
    return {word for word in WORD.findall(text.casefold()) if len(word) >= 3}

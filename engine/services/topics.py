"""Topic inference from recent talk: keywords per default topic, and the market symbols mentioned."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache, lru_cache

from bots.symbols import SYMBOL_PATTERN, AssetClass, asset_class, canonical_symbol

KEYWORDS: dict[str, tuple[str, ...]] = {
    "BIST": ("bist", "borsa", "hisse", "endeks", "xu100", "bilanço", "temettü", "halka arz", "stocks", "equities"),
    "FX": ("dolar", "euro", "kur", "usdtry", "eurtry", "döviz", "parite", "dollar", "lira", "forex"),
    "Kripto": ("kripto", "bitcoin", "btc", "eth", "ethereum", "coin", "altcoin", "binance", "crypto", "usdt"),
    "Makro": ("faiz", "enflasyon", "tcmb", "merkez bankası", "fed", "büyüme", "cari açık", "rate", "inflation", "gdp"),
}
# Upper-case, 4-12 characters, letters first: THYAO, XU100, BTCUSDT, BIST:AKBNK (not USD or 2024).
TICKER = re.compile(r"\b(?:[A-Z]{2,10}:)?[A-Z]{2}[A-Z0-9]{2,10}\b")
WORD = re.compile(r"\w+", re.UNICODE)
# Any case, so members' "thyao" and "btcusdt" count too; a word inside a longer one (üstünde) does not.
SYMBOL_WORD = re.compile(r"(?<![\w:])(?:[A-Za-z]{2,10}:)?[A-Za-z]{2}[A-Za-z0-9]{2,10}(?!\w)")
LOWER_CASE_MIN = 5  # a lower-case word is a symbol only from five letters on (not "sasa", "sise" in a sentence)
# The chat topic a market's symbols belong to: the first of these the chat has, else the first.
SYMBOL_TOPICS: dict[AssetClass, tuple[str, ...]] = {
    AssetClass.BIST: ("BIST",),
    AssetClass.CRYPTO: ("Kripto",),
    AssetClass.FX: ("FX",),
    # Gold is quoted like a currency pair and kept beside the dollar in Turkey: FX, unless the chat has its topic.
    AssetClass.METAL: ("Altın", "Emtia", "FX"),
}


def symbols_in(text: str) -> list[str]:
    """Ticker-shaped words (THYAO, BIST:AKBNK, BTCUSDT) in a text, in order."""
    return [match for match in TICKER.findall(text) if SYMBOL_PATTERN.match(match)]


def market_symbols_in(text: str) -> list[str]:
    """The known market symbols a text names (THYAO, btcusdt, XAUUSD), canonical (BIST:THYAO), in order, once each."""
    return list(_market_symbols(text))


@lru_cache(maxsize=4096)
def _market_symbols(text: str) -> tuple[str, ...]:
    # Cached: a chat's latest messages are read again by each of its next turns.
    found: list[str] = []
    for word in SYMBOL_WORD.findall(text):
        if not word.isupper() and len(word.rpartition(":")[2]) < LOWER_CASE_MIN:
            continue
        if asset_class(word.upper()) is not None and (symbol := canonical_symbol(word)) not in found:
            found.append(symbol)
    return tuple(found)


def symbol_topic(symbol: str, topics: list[str]) -> str | None:
    """The chat topic a symbol belongs to (THYAO → BIST, XAUUSD → FX), or None for a symbol we do not know."""
    market = asset_class(symbol)
    if market is None:
        return None
    names = SYMBOL_TOPICS[market]
    by_folded = {topic.casefold(): topic for topic in topics}
    return next((by_folded[name.casefold()] for name in names if name.casefold() in by_folded), names[0])


def topics_of(text: str, topics: list[str]) -> set[str]:
    """The chat topics a text talks about: by their keywords or by the symbols it names."""
    found = {topic for topic in topics if mentions_topic(text, topic)}
    return found | {topic for s in market_symbols_in(text) if (topic := symbol_topic(s, topics)) in topics}


def in_chat_order(found: set[str], topics: list[str]) -> list[str]:
    """Topics found, in the chat's order: ties then go the same way in every process (a set's order does not)."""
    return [topic for topic in topics if topic in found]


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
        # One vote per text, so one keyword-heavy old message cannot outweigh the latest talk.
        for topic in in_chat_order(topics_of(text, topics), topics):
            scores[topic] += position
    return scores


def infer_topic(texts: list[str], topics: list[str]) -> str | None:
    """The chat topic recent talk is about (ties go to the most recent mention), or None when nothing matches."""
    scores: Counter[str] = Counter()
    last_seen: dict[str, int] = {}
    for position, text in enumerate(texts[-10:], start=1):
        for topic in in_chat_order(topics_of(text, topics), topics):
            scores[topic] += position
            last_seen[topic] = position
    if not scores:
        return None
    return max(scores, key=lambda topic: (scores[topic], last_seen[topic]))


def words(text: str) -> set[str]:
    """Lower-cased words of 3+ letters, for overlap scores."""
    return {word for word in WORD.findall(text.casefold()) if len(word) >= 3}


# A reply quotes the part of a long message it answers (Bot API reply_parameters.quote: an exact substring of the
# message, at most 1024 UTF-16 units).
QUOTE_FROM_CHARS = 200
QUOTE_MAX_UTF16 = 1024
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def reply_quote(text: str, symbol: str | None) -> str | None:
    """The sentence of a long message a reply answers: the first naming the symbol asked about, else its first
    question; an exact substring of `text`, or None when the message is short or no one sentence stands out."""
    if len(text) <= QUOTE_FROM_CHARS:
        return None
    sentences = [match.group().strip() for match in SENTENCE.finditer(text)]
    sentences = [sentence for sentence in sentences if sentence]
    asked = [s for s in sentences if symbol is not None and symbol in market_symbols_in(s)]
    chosen = next(iter(asked or [s for s in sentences if s.endswith("?")]), None)
    if chosen is None or chosen == text.strip() or len(chosen.encode("utf-16-le")) // 2 > QUOTE_MAX_UTF16:
        return None
    return chosen

"""Phrase tables of the offline provider, in Turkish and English, and the cheap readings made from them.

Rules the tables keep (tests enforce them): only stance, reason, level and emoji entries carry a polarity,
everything else is polarity-neutral; nothing promises profit or tells anyone to buy or sell; no entry addresses
anyone by name (the provider does that, rarely). Templates start lower case (the provider capitalises a sentence's
first letter only, so names and tickers are never lowercased) and take `{topic}` (a ticker or topic as written in
chat) without Turkish case suffixes: postpositions (`{pp}`: için, tarafında…) keep them grammatical.
"""

from __future__ import annotations

from typing import Literal

from engine.clients.llm.phrases.base import Side, Table
from engine.clients.llm.phrases.details import ADVERBS, HOLDINGS, LEVELS, MEMORY_INTROS, REASON_PARTS, TOPIC_REASONS
from engine.clients.llm.phrases.synonyms import SYNONYMS
from engine.clients.llm.phrases.views import ADDRESS, NO_VIEW, QUESTIONS, RELATE, RELATIONS, STANCES, TAILS
from engine.clients.llm.phrases.voices import CLOSERS, EMOTIONS, LEADS, OPENERS

__all__ = [
    "ADDRESS",
    "ADVERBS",
    "CLOSERS",
    "DEFAULT_TOPIC",
    "EMOJIS",
    "EMOTIONS",
    "HOLDINGS",
    "LEADS",
    "LEVELS",
    "MEMORY_INTROS",
    "MOVES",
    "NO_VIEW",
    "OPENERS",
    "POLARITY_MARKERS",
    "PREPOSITIONS",
    "QUESTIONS",
    "REASON_PARTS",
    "RELATE",
    "RELATIONS",
    "STANCES",
    "SYNONYMS",
    "TAILS",
    "TOPIC_REASONS",
    "Side",
    "Table",
    "relation_to",
    "text_polarity",
]

# Word starts that give a text its direction; also used to read the polarity of the message replied to.
POLARITY_MARKERS: dict[str, list[str]] = {
    "bullish": [
        "yukarı",
        "yüksel",
        "güçl",
        "pozitif",
        "iyimser",
        "toparlan",
        "olumlu",
        "upside",
        "strong",
        "bullish",
        "higher",
        "optimistic",
        "rally",
    ],
    "bearish": [
        "aşağı",
        "düşüş",
        "düşen",
        "düşer",
        "düşecek",
        "zayıf",
        "negatif",
        "kötümser",
        "olumsuz",
        "gerile",
        "downside",
        "weak",
        "bearish",
        "lower",
        "pessimistic",
        "decline",
    ],
}

# Words of movement a memory may carry (a story of a crash is no company for a bullish view), beyond the markers.
MOVES: dict[str, list[str]] = {
    "bullish": ["yüksel", "ralli", "boğa", "roket", "uçtu", "uçacak", "katına çıktı", "rallied", "soared", "doubled"],
    "bearish": ["düştü", "düşüyor", "düşebilir", "çök", "eridi", "kaybet", "sıfırla", "crash", "dropped", "lost"],
}

DEFAULT_TOPIC = {"tr": "piyasa", "en": "the market"}

PREPOSITIONS = {
    "tr": ["için", "tarafında", "konusunda", "cephesinde", "özelinde", "açısından", "hakkında", "bakımından", "adına"],
    "en": ["on", "for", "regarding"],
}

EMOJIS: dict[str, list[str]] = {
    "bullish": ["🚀", "📈", "💪"],
    "bearish": ["📉", "😬", "🧐"],
    "neutral": ["🤔", "👀", "☕"],
}


def text_polarity(text: str) -> Side:
    """Crude direction of a message from marker words: bullish, bearish or neutral."""
    lowered = text.replace("İ", "i").casefold()  # "İ".casefold() is "i" plus a combining dot
    bullish = sum(marker in lowered for marker in POLARITY_MARKERS["bullish"])
    bearish = sum(marker in lowered for marker in POLARITY_MARKERS["bearish"])
    if bullish == bearish:
        return "neutral"
    return "bullish" if bullish > bearish else "bearish"


def relation_to(own: str, target_text: str, *, tie: int = 0) -> Literal["agree", "disagree", "ask", "add"]:
    """How a reply relates to its target, from the bot's polarity and the target's apparent one.

    A question is answered (add); two views agree or disagree; a view meets an undecided bot with a question back,
    an undecided text meets a view with an addition; two undecided ones alternate by `tie`.
    """
    if "?" in target_text:
        return "add"
    theirs = text_polarity(target_text)
    if own != "neutral" and theirs != "neutral":
        return "agree" if own == theirs else "disagree"
    if own != "neutral":
        return "add"
    if theirs != "neutral":
        return "ask"
    return "ask" if tie % 2 else "add"

"""Text helpers of the figures: words, n-grams, a message's opener, its language and its direction."""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.services.postprocess import direction as direction  # re-exported: the figures read it here
from engine.services.topics import mentions_topic

MENTION = re.compile(r"(?<!\w)@\w+")
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
NAME = "<name>"  # what an opener that addresses someone by name becomes
TURKISH_LETTERS = set("çğıöşüÇĞİÖŞÜ")
TURKISH_WORDS = frozenset({
    "ve", "bir", "bu", "için", "ne", "çok", "da", "de", "mi", "mı", "ama", "gibi", "daha", "ben", "bence", "var",
    "yok", "olur", "değil", "şu", "ile", "ki", "hep", "şimdi", "neden", "nasıl", "biraz", "bak", "evet", "hayır",
    "yani", "ya", "kadar", "sonra", "önce", "artık", "hala", "hâlâ", "diye", "olarak",
})  # fmt: skip
ENGLISH_WORDS = frozenset({
    "the", "and", "is", "to", "of", "in", "for", "it", "that", "what", "this", "on", "you", "not", "be", "are",
    "will", "with", "but", "so", "just", "think", "my", "i", "i'm", "it's", "do", "does", "have", "has", "was",
    "at", "as", "if", "or", "about", "how", "why", "yes", "no",
})  # fmt: skip


def words(text: str) -> list[str]:
    """The message's words, case-folded, without @mentions (handles are not vocabulary)."""
    return [word.casefold() for word in WORD.findall(MENTION.sub(" ", text))]


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """The n-grams of one message's words (never across messages)."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def opener(text: str, names: Iterable[str]) -> str:
    """The first two words; a leading name (a bot's or member's) is <name>: "Üye Ali, mantıklı" → "<name> mantıklı"."""
    rest = MENTION.sub(" ", text).strip()
    folded = rest.casefold()
    for name in sorted((n for n in names if n), key=len, reverse=True):
        if folded.startswith(name.casefold()) and not folded[len(name) : len(name) + 1].isalnum():
            return " ".join([NAME, *words(rest[len(name) :])[:1]])
    return " ".join(words(rest)[:2])


def about_topic(text: str, topic: str) -> bool:
    """Whether a text talks about a chat topic: it names it ("FX için…") or one of its keywords starts a word."""
    named = re.search(rf"(?<!\w){re.escape(topic)}", text, re.IGNORECASE) is not None
    return named or mentions_topic(text, topic)


def language(text: str) -> str | None:
    """ "tr" or "en" by letters and common words; None when the text gives no sign (emoji, a ticker)."""
    tokens = words(text)
    turkish = sum(1 for ch in text if ch in TURKISH_LETTERS) + 2 * sum(1 for t in tokens if t in TURKISH_WORDS)
    english = 2 * sum(1 for t in tokens if t in ENGLISH_WORDS)
    if turkish == english:
        return None
    return "tr" if turkish > english else "en"

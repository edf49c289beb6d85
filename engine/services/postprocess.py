"""Post-processing of generated text: clean-up, local checks (compliance, stances), humanisation, dedup."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Collection
from difflib import SequenceMatcher

from rapidfuzz import process
from rapidfuzz.distance import Indel

from bots.schemas import Emotion, Persona
from bots.symbols import symbols_match
from engine.services import compliance
from engine.services.topics import mentions_topic, symbols_in

TELEGRAM_MAX_CHARS = 4096
LENGTH_CAP = {"short": 220, "medium": 480, "long": 900}
NEAR_DUPLICATE_RATIO = 0.82
NOT_WORD = re.compile(r"[^\w\s]|_")  # what str.isalnum() and str.isspace() both refuse


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


BULLISH = re.compile(r"yüksel|boğa|ralli|uçacak|roket|alım fırsatı|toparlan|bullish|rally|moon|upside", re.I)
BEARISH = re.compile(
    r"düş(?:üş|ecek|er\b|üyor|ebilir|tü)|\bayı\b|çök|sat(?:ış)? baskısı|dip yapacak|bearish|crash|downside|dump", re.I
)
# An optional "[12:30]" stamp (the history format of the prompt) and a speaker name before a colon.
LABEL = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(?P<name>[\w .'@-]{1,40}):\s+(?=\S)")
PROTECTED = re.compile(r"\d|[A-Z]{2,}|:")
QUOTES = '"“”«»'
# Words a message itself may start with before a colon ("Hedef: 300", "Not: …"): never a speaker's label.
FIELD_WORDS = _words(
    "not note ps uyarı disclaimer feragat özet summary sonuç conclusion hedef target destek support "
    "direnç resistance stop risk strateji strategy yorum görüş bence update edit tldr kısaca soru "
    "question fiyat price grafik chart trend seviye seviyeler levels bilgi info eta ayrıca also"
)
APOSTROPHE = re.compile(r"['’]")
# How models label the bot's own line: the history calls it "sen"/"you"; some add "Cevap:" or "Answer:".
SELF_LABELS = _words(
    "sen you ben me cevap yanıt yanıtım cevabım mesaj mesajım answer reply response message assistant asistan"
)


def clean_output(text: str, *, bot_name: str) -> str:
    """Strip what models add around a chat message: quotes, a name label, surrounding whitespace."""
    text = strip_quotes(text)
    label = LABEL.match(text)
    if text.casefold().startswith(bot_name.casefold() + ":"):
        text = text[len(bot_name) + 1 :]
    elif label and (label["name"].strip() == bot_name or _name_like(label["name"])):
        text = text[label.end() :]
    return re.sub(r"\s+", " ", strip_quotes(text)).strip()


def _name_like(label: str) -> bool:
    # A name: one to three capitalised words ("Ayşe", "Mehmet Bey"), or what the bot is called in the history.
    # Tickers (BIST:THYAO), times (12:30), a message's own fields ("Hedef: 300") and sentences are not labels.
    words = label.split()
    if not words or len(words) > 3 or PROTECTED.search(label) or words[0].casefold() in FIELD_WORDS:
        return False
    return label.strip().casefold() in SELF_LABELS or all(word[0].isupper() for word in words)


def strip_quotes(text: str) -> str:
    """The text without quotes around the whole of it."""
    text = text.strip()
    if len(text) >= 2 and text[0] in QUOTES and text[-1] in QUOTES:
        return text[1:-1].strip()
    return text


def compliance_problems(text: str) -> list[str]:
    """Profit guarantees or direct buy/sell instructions in a message (`engine/services/compliance.py`)."""
    return [str(finding) for finding in compliance.findings(text)]


def direction(text: str) -> str:
    """bullish, bearish or neutral: the direction the text's words take (neither or both: neutral)."""
    bullish, bearish = bool(BULLISH.search(text)), bool(BEARISH.search(text))
    if bullish == bearish:
        return "neutral"
    return "bullish" if bullish else "bearish"


def talks_about(text: str, topic: str, *, mentioned: list[str] | None = None) -> bool:
    """Whether a text is about a stance's topic or symbol: it names it, a keyword of it, or the symbol."""
    mentioned = symbols_in(text) if mentioned is None else mentioned
    return (
        topic.casefold() in text.casefold()
        or mentions_topic(text, topic)
        or any(_same_symbol(topic, symbol) for symbol in mentioned)
    )


def stance_problems(text: str, stances: list[tuple[str, str]]) -> list[str]:
    """Stances the text contradicts: it talks about the stance's topic with only the opposite direction."""
    mentioned = symbols_in(text)
    bullish, bearish = bool(BULLISH.search(text)), bool(BEARISH.search(text))
    problems = []
    for topic, polarity in stances:
        about = talks_about(text, topic, mentioned=mentioned)
        if about and polarity == "bullish" and bearish and not bullish:
            problems.append(f"contradicts the bullish view on {topic}")
        elif about and polarity == "bearish" and bullish and not bearish:
            problems.append(f"contradicts the bearish view on {topic}")
    return problems


def _same_symbol(left: str, right: str) -> bool:
    try:
        return symbols_match(left, right)
    except ValueError:
        return False


def humanize(text: str, *, persona: Persona, emotion: Emotion, rng: random.Random, names: Collection[str] = ()) -> str:
    """At most two light, persona-driven touches; tickers, numbers, symbols and names are never altered.

    `names`: the words of the names the chat knows (its speakers); a first word among them stays capitalised.
    """
    touches = 0
    if persona.tone in ("street", "newbie") and rng.random() < 0.5:
        text, touched = _lowercase_first(text, names)
        touches += touched
        if text.endswith(".") and not text.endswith(".."):
            text, touches = text[:-1], touches + 1
    emoji = emotion.signature_emoji if persona.style.emojis else None
    if touches < 2 and emoji and emoji not in text and rng.random() < 0.25:
        text = f"{text} {emoji}"
    return text


def _lowercase_first(text: str, names: Collection[str]) -> tuple[str, int]:
    first, _, rest = text.partition(" ")
    # "I" is ambiguous (Turkish ı, English i) and str.lower("İ") adds a combining dot: leave those alone.
    if not first or PROTECTED.search(first) or not first[0].isupper() or first[0] in "Iİ":
        return text, 0
    if _starts_a_name(first, rest, names):
        return text, 0
    return first[0].lower() + text[1:], 1


def _starts_a_name(first: str, rest: str, names: Collection[str]) -> bool:
    """A known name, a proper noun by its Turkish apostrophe ("Kemal'e"), or the start of a capitalised run
    ("Kemal Aydın", "Üye Ali", "Merkez Bankası")."""
    word = first.rstrip(",.!?;:…")
    stem = APOSTROPHE.split(word, 1)[0]
    return stem != word or stem in names or (bool(rest) and rest[0].isupper())


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation or emoji, single spaces: the form duplicates are compared in."""
    # Dotless ı has no decomposition: fold it to i by hand so "altın" equals "altin".
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    return " ".join(NOT_WORD.sub("", decomposed).split())


def is_duplicate(text: str, recent: list[str], *, normalized: bool = False) -> bool:
    """Exact or near-duplicate (normalised similarity ≥ 0.82) of any recent message, from any bot.

    `normalized`: the recent texts are already in `normalize`'s form (as stored with bot messages).
    """
    candidate = normalize(text)
    if not candidate:
        return True
    seen = recent if normalized else [normalize(other) for other in recent]
    # An upper bound first, over every text in one call in C: SequenceMatcher's matching blocks are a common
    # subsequence, so its ratio is at most 2·LCS / total (Indel similarity). Most texts end here, before the
    # quadratic ratio(); an exact duplicate scores 1.
    close = process.extract(
        candidate,
        seen,
        scorer=Indel.normalized_similarity,
        processor=None,
        score_cutoff=NEAR_DUPLICATE_RATIO,
        limit=None,
    )
    return any(
        SequenceMatcher(None, candidate, other, autojunk=False).ratio() >= NEAR_DUPLICATE_RATIO for other, _, _ in close
    )


def add_mention(text: str, username: str | None) -> str:
    """Prefix the @handle of the bot being answered, unless the text already has it."""
    username = (username or "").lstrip("@")
    if not username or re.search(rf"(?<!\w)@{re.escape(username)}(?!\w)", text, re.IGNORECASE):
        return text
    return f"@{username} {text}"


def cap_length(text: str, length: str) -> str:
    """Cut over-long output at a sentence or word boundary (Telegram allows 4096; chat is far shorter)."""
    limit = min(LENGTH_CAP.get(length, TELEGRAM_MAX_CHARS), TELEGRAM_MAX_CHARS)
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]  # one character more, to see a sentence ending exactly at the cap
    boundary = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if boundary > limit // 2:
        return cut[: boundary + 1]
    head = text[: limit - 1]  # room for the ellipsis
    if text[limit - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip() + "…"

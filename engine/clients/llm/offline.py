"""The offline provider: persona-, stance- and holding-aware chat messages from templates, no network."""

from __future__ import annotations

import random
import time
import zlib
from decimal import Decimal

from engine.clients.llm import phrases
from engine.clients.llm.base import (
    GenerationHints,
    HoldingHint,
    LlmRequest,
    LlmResponse,
    StanceHint,
    estimate_prompt_tokens,
    estimate_tokens,
)

EXTRAS_BY_LENGTH = {"short": (0, 0), "medium": (1, 2), "long": (3, 4)}
EMOJI_PROBABILITY = 0.55


class OfflineProvider:
    """Composes plausible messages from the request's hints; deterministic for a given seed."""

    name = "offline"

    @classmethod
    def from_settings(cls) -> OfflineProvider:
        """The provider (it needs no settings)."""
        return cls()

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Write one message (no network, ~0 latency)."""
        started = time.perf_counter()
        text = compose(request.hints or GenerationHints(), random.Random(_seed(request)))
        return LlmResponse(
            text=text,
            model=request.model or "offline",
            provider=self.name,
            tokens_in=estimate_prompt_tokens(request.messages),
            tokens_out=estimate_tokens(text),
            latency_ms=round((time.perf_counter() - started) * 1000),
        )


def _seed(request: LlmRequest) -> int:
    # Without a seed the same prompt still gives the same text (stable across processes, unlike hash()).
    if request.seed is not None:
        return request.seed
    return zlib.crc32("\n".join(message["content"] for message in request.messages).encode())


def compose(hints: GenerationHints, rng: random.Random) -> str:
    """The message: optional reply address, the stance, extras by length, maybe an emoji."""
    lang = hints.language if hints.language in phrases.STANCES else "tr"
    stance = pick_stance(hints)
    polarity = stance.polarity if stance else "neutral"
    topic = display_topic(stance.topic if stance else hints.topic) or phrases.DEFAULT_TOPIC[lang]
    sentences = []
    if hints.mode == "reply" and hints.reply_to_name:
        sentences.append(_reply_opening(hints, lang, polarity, rng))
    sentences.append(_core(hints, lang, polarity, topic, rng))
    sentences.extend(_extras(hints, lang, polarity, topic, rng))
    text = " ".join(_sentence(part, lang, hints.emotion_tone, rng) for part in sentences)
    return _with_emoji(text, hints, polarity, rng)


def pick_stance(hints: GenerationHints) -> StanceHint | None:
    """The stance on the current topic (symbol prefixes ignored), else the first stance when no topic."""
    if hints.topic:
        wanted = display_topic(hints.topic).casefold()
        return next((s for s in hints.stances if display_topic(s.topic).casefold() == wanted), None)
    return hints.stances[0] if hints.stances else None


def display_topic(topic: str | None) -> str:
    """A topic or symbol as people write it in chat ("BIST:AKBNK" → "AKBNK")."""
    return (topic or "").rsplit(":", 1)[-1].strip()


def _reply_opening(hints: GenerationHints, lang: str, polarity: str, rng: random.Random) -> str:
    theirs = text_polarity(hints.reply_to_text or "")
    relation = "agree" if theirs == polarity else "disagree"
    if "neutral" in (theirs, polarity):
        relation = "neutral"
    return rng.choice(phrases.REPLIES[lang][relation]).format(name=hints.reply_to_name)


def text_polarity(text: str) -> str:
    """Crude direction of a message from marker words: bullish, bearish or neutral."""
    lowered = text.casefold()
    scores = {side: sum(marker in lowered for marker in words) for side, words in phrases.POLARITY_MARKERS.items()}
    if scores["bullish"] == scores["bearish"]:
        return "neutral"
    return "bullish" if scores["bullish"] > scores["bearish"] else "bearish"


def _core(hints: GenerationHints, lang: str, polarity: str, topic: str, rng: random.Random) -> str:
    core = rng.choice(phrases.STANCES[lang][polarity]).format(topic=topic)
    openers = phrases.OPENERS[lang].get(hints.persona_tone)
    if openers and rng.random() < 0.6:
        core = f"{rng.choice(openers)}, {core}"
    return core


def _extras(hints: GenerationHints, lang: str, polarity: str, topic: str, rng: random.Random) -> list[str]:
    low, high = EXTRAS_BY_LENGTH.get(hints.length, (1, 2))
    pool = [rng.choice(phrases.REASONS[lang][polarity])]
    pool += _tone_lines(hints, lang, rng)
    if hints.holdings and rng.random() < 0.5:
        pool.append(_holding_line(rng.choice(hints.holdings), lang, rng))
    rng.shuffle(pool)
    chosen = pool[: rng.randint(low, high)]
    if hints.signature_phrases and rng.random() < 0.3:
        chosen.append(rng.choice(hints.signature_phrases))
    if hints.length == "long" and hints.mode == "new" and rng.random() < 0.5:
        chosen.append(rng.choice(phrases.QUESTIONS[lang]).format(topic=topic))
    return chosen


def _tone_lines(hints: GenerationHints, lang: str, rng: random.Random) -> list[str]:
    lines = []
    for table, tone in ((phrases.EMOTIONS, hints.emotion_tone), (phrases.CLOSERS, hints.persona_tone)):
        options = table[lang].get(tone)
        if options:
            lines.append(rng.choice(options))
    return lines


def _holding_line(holding: HoldingHint, lang: str, rng: random.Random) -> str:
    return rng.choice(phrases.HOLDINGS[lang]).format(
        symbol=display_topic(holding.symbol),
        size=format_number(holding.size, lang, 4),
        price=format_number(holding.avg_price, lang, 2, trim=False),
    )


def format_number(value: Decimal | float, lang: str, decimals: int, *, trim: bool = True) -> str:
    """A number as written in the language (Turkish: 1.234,5; English: 1,234.5); whole numbers without decimals."""
    number = Decimal(str(value))
    places = 0 if number == number.to_integral_value() else decimals
    text = f"{number:,.{places}f}"
    if places and trim:
        text = text.rstrip("0").rstrip(".")
    if lang == "tr":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def _sentence(part: str, lang: str, emotion_tone: str, rng: random.Random) -> str:
    part = part.strip()
    first = "İ" if lang == "tr" and part[:1] == "i" else part[:1].upper()
    part = first + part[1:]
    if part[-1] in ".?!":
        return part
    return part + ("!" if emotion_tone == "enthusiastic" and rng.random() < 0.5 else ".")


def _with_emoji(text: str, hints: GenerationHints, polarity: str, rng: random.Random) -> str:
    if not hints.emojis or rng.random() >= EMOJI_PROBABILITY:
        return text
    if hints.signature_emoji and rng.random() < 0.6:
        return f"{text} {hints.signature_emoji}"
    return f"{text} {rng.choice(phrases.EMOJIS[polarity])}"

"""Figures about who talks and how varied and coherent the bots' text is (pure functions of a transcript)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from engine.quality import text
from engine.quality.transcript import Line, Transcript
from engine.services import postprocess

MIN_MESSAGES_FOR_REUSE = 7  # below this a bot's repeated 3-gram says little: one in seven is the target
SEGMENT_BIGRAMS = 100  # distinct-2 is length-sensitive: the adjusted variant averages fixed-size segments
DUPLICATE_LOOKBACK = 500  # earlier bot messages of the chat a sent message is compared with
POLARITIES = ("bullish", "bearish", "neutral")
MIN_BOTS_FOR_CONVERGENCE = 3


@dataclass(frozen=True)
class Measure:
    """A figure's value (None: nothing to measure in the window) and what it is made of."""

    value: float | None
    detail: str = ""


def _ratio(part: int, whole: int, detail: str = "") -> Measure:
    return Measure(part / whole if whole else None, detail or f"{part} of {whole}")


def spoken(transcript: Transcript) -> list[Line]:
    """The bot messages that carry text (reactions are not talk)."""
    return [line for line in transcript.bot_lines if line.kind != "reaction"]


def bots_active(transcript: Transcript) -> Measure:
    """Eligible bots that sent at least one message, over eligible bots."""
    eligible = {pk for pk, bot in transcript.bots.items() if bot.eligible}
    speaking = {line.bot_id for line in spoken(transcript)} & eligible
    return _ratio(len(speaking), len(eligible))


def members_active(transcript: Transcript) -> Measure:
    """Distinct members who wrote in the window."""
    count = len({line.speaker for line in transcript.member_lines})
    return Measure(float(count), f"{count} members")


def speaker_gini(transcript: Transcript) -> Measure:
    """Gini coefficient of message counts over eligible bots (0 = all equal, 1 = one bot says everything)."""
    counts = Counter(line.bot_id for line in spoken(transcript) if line.bot_id is not None)
    eligible = [pk for pk, bot in transcript.bots.items() if bot.eligible] or list(counts)
    values = [counts.get(pk, 0) for pk in eligible]
    total = sum(values)
    if len(values) < 2 or not total:
        return Measure(None if not total else 0.0, f"{len(values)} eligible bots, {total} messages")
    spread = sum(abs(a - b) for a in values for b in values)
    return Measure(spread / (2 * len(values) * total), f"{len(values)} eligible bots, {total} messages")


def same_speaker_in_a_row(transcript: Transcript) -> Measure:
    """Bot messages that directly follow a message of the same bot, over bot messages with a predecessor."""
    repeats = followers = 0
    for lines in transcript.by_chat():
        talk = [line for line in lines if line.kind != "reaction"]
        for previous, line in itertools.pairwise(talk):
            if line.is_bot:
                followers += 1
                repeats += previous.speaker == line.speaker
    return _ratio(repeats, followers)


def distinct(transcript: Transcript, n: int) -> Measure:
    """Distinct n-grams over all n-grams of the bot messages (n-grams never span two messages)."""
    grams = [gram for line in spoken(transcript) for gram in text.ngrams(text.words(line.text), n)]
    return _ratio(len(set(grams)), len(grams), f"{len(set(grams))} distinct of {len(grams)} {n}-grams")


def distinct_2_adjusted(transcript: Transcript) -> Measure:
    """Mean distinct-2 of consecutive 100-bigram segments, so long and short windows compare."""
    grams = [gram for line in spoken(transcript) for gram in text.ngrams(text.words(line.text), 2)]
    if len(grams) < SEGMENT_BIGRAMS:
        return _ratio(len(set(grams)), len(grams), f"{len(grams)} bigrams: fewer than one segment")
    segments = [grams[i : i + SEGMENT_BIGRAMS] for i in range(0, len(grams) - SEGMENT_BIGRAMS + 1, SEGMENT_BIGRAMS)]
    mean = sum(len(set(segment)) / SEGMENT_BIGRAMS for segment in segments) / len(segments)
    return Measure(mean, f"{len(segments)} segments of {SEGMENT_BIGRAMS} bigrams")


def _names(transcript: Transcript) -> set[str]:
    names = {bot.name for bot in transcript.bots.values()}
    names |= {bot.name.split()[0] for bot in transcript.bots.values() if bot.name.split()}
    return names | {line.speaker_name for line in transcript.member_lines if line.speaker_name}


def openers(transcript: Transcript) -> Counter[str]:
    """How many bot messages open with each opener (first two words; a leading name is <name>)."""
    names = _names(transcript)
    return Counter(text.opener(line.text, names) for line in spoken(transcript))


def top_opener(transcript: Transcript) -> Measure:
    """The most common opener's messages over bot messages."""
    counts = openers(transcript)
    if not counts:
        return Measure(None, "no bot messages")
    phrase, count = counts.most_common(1)[0]
    return _ratio(count, sum(counts.values()), f"“{phrase}” in {count} of {sum(counts.values())}")


def name_openers(transcript: Transcript) -> Measure:
    """Bot messages that open by addressing someone by name, over bot messages."""
    counts = openers(transcript)
    named = sum(count for phrase, count in counts.items() if phrase.startswith(text.NAME))
    return _ratio(named, sum(counts.values()))


def _per_bot(transcript: Transcript) -> dict[int, list[Line]]:
    bots: dict[int, list[Line]] = {}
    for line in spoken(transcript):
        assert line.bot_id is not None
        bots.setdefault(line.bot_id, []).append(line)
    return bots


def _bot_name(transcript: Transcript, bot_id: int) -> str:
    facts = transcript.bots.get(bot_id)
    return facts.name if facts else f"bot {bot_id}"


def trigram_reuse(transcript: Transcript) -> Measure:
    """Worst bot: the share of its messages containing its most reused 3-gram (bots with ≥ 7 messages)."""
    worst: tuple[float, str] | None = None
    for bot_id, lines in _per_bot(transcript).items():
        if len(lines) < MIN_MESSAGES_FOR_REUSE:
            continue
        counts = Counter(gram for line in lines for gram in set(text.ngrams(text.words(line.text), 3)))
        if not counts:
            continue
        gram, count = counts.most_common(1)[0]
        share = count / len(lines)
        if worst is None or share > worst[0]:
            worst = (share, f"{_bot_name(transcript, bot_id)}: “{' '.join(gram)}” in {count} of {len(lines)}")
    return Measure(*worst) if worst else Measure(None, f"no bot with {MIN_MESSAGES_FOR_REUSE}+ messages")


def signature_phrase_share(transcript: Transcript) -> Measure:
    """Worst bot: the share of its messages containing one of its signature phrases (bots with ≥ 7 messages)."""
    worst: tuple[float, str] | None = None
    for bot_id, lines in _per_bot(transcript).items():
        facts = transcript.bots.get(bot_id)
        phrases = [postprocess.normalize(p) for p in (facts.signature_phrases if facts else ())]
        if len(lines) < MIN_MESSAGES_FOR_REUSE or not any(phrases):
            continue
        hits = sum(any(p and p in postprocess.normalize(line.text) for p in phrases) for line in lines)
        share = hits / len(lines)
        if worst is None or share > worst[0]:
            worst = (share, f"{_bot_name(transcript, bot_id)}: {hits} of {len(lines)}")
    return Measure(*worst) if worst else Measure(None, "no bot with signature phrases and 7+ messages")


def duplicates_rejected(transcript: Transcript) -> Measure:
    """Turns skipped as a near-duplicate of a recent message, over turns that went to generation."""
    return _ratio(transcript.duplicates_rejected, transcript.turns_written)


def duplicates_sent(transcript: Transcript) -> Measure:
    """Sent bot messages that are near-duplicates (the engine's own test) of an earlier bot message of the chat."""
    found = total = 0
    for lines in transcript.by_chat():
        earlier: list[str] = []
        for line in lines:
            if not line.is_bot or line.kind == "reaction":
                continue
            total += 1
            recent = earlier[-DUPLICATE_LOOKBACK:]
            found += bool(recent) and postprocess.is_duplicate(line.text, recent, normalized=True)
            earlier.append(postprocess.normalize(line.text))
    return Measure(float(found) if total else None, f"{found} of {total}")


def _views(transcript: Transcript) -> dict[str, dict[int, str]]:
    """Per topic, each bot's view: the direction most of its polar messages on the topic take (else neutral)."""
    said: dict[str, dict[int, Counter[str]]] = {}
    for line in spoken(transcript):
        topic = line.topic or next((t for t in transcript.topics if text.about_topic(line.text, t)), None)
        if topic is not None and line.bot_id is not None:
            said.setdefault(topic, {}).setdefault(line.bot_id, Counter())[text.direction(line.text)] += 1
    views: dict[str, dict[int, str]] = {}
    for topic, bots in said.items():
        for bot_id, counts in bots.items():
            polar = Counter({p: counts[p] for p in ("bullish", "bearish") if counts[p]})
            views.setdefault(topic, {})[bot_id] = polar.most_common(1)[0][0] if polar else "neutral"
    return views


def _entropy(values: list[str]) -> float:
    counts = Counter(values)
    total = len(values)
    bits = -sum(c / total * math.log2(c / total) for c in counts.values())
    return abs(bits) / math.log2(len(POLARITIES))  # abs: one view is 0.0, not -0.0


def stance_entropy(transcript: Transcript) -> Measure:
    """Mean over topics (2+ bots spoke on it) of the entropy of the bots' views, 0 (one view) to 1 (even split)."""
    views = {topic: list(bots.values()) for topic, bots in _views(transcript).items() if len(bots) >= 2}
    if not views:
        return Measure(None, "no topic with 2+ bots")
    per_topic = {topic: _entropy(values) for topic, values in views.items()}
    detail = ", ".join(f"{topic} {value:.2f}" for topic, value in sorted(per_topic.items()))
    return Measure(sum(per_topic.values()) / len(per_topic), detail)


def convergence(transcript: Transcript) -> Measure:
    """Over topics with 3+ bots: the bots holding their topic's majority view, over all bots' views."""
    views = [list(bots.values()) for bots in _views(transcript).values() if len(bots) >= MIN_BOTS_FOR_CONVERGENCE]
    majority = sum(Counter(values).most_common(1)[0][1] for values in views)
    return _ratio(majority, sum(len(values) for values in views))


def stance_contradictions(transcript: Transcript) -> Measure:
    """Sent bot messages the stance check flags against the bot's own stances, over bot messages."""
    lines = spoken(transcript)
    flagged = 0
    for line in lines:
        facts = transcript.bots.get(line.bot_id or 0)
        flagged += bool(facts and postprocess.stance_problems(line.text, list(facts.stances)))
    return _ratio(flagged, len(lines))


def compliance_flags(transcript: Transcript) -> Measure:
    """Sent bot messages with a profit promise or a direct buy/sell instruction, over bot messages."""
    lines = spoken(transcript)
    return _ratio(sum(bool(postprocess.compliance_problems(line.text)) for line in lines), len(lines))


def chat_language(transcript: Transcript) -> Measure:
    """Bot messages in the chat's language, over bot messages whose language shows (emoji-only ones do not)."""
    guessed = [(line, text.language(line.text)) for line in spoken(transcript)]
    known = [(line, lang) for line, lang in guessed if lang is not None]
    same = sum(lang == transcript.language_of_chat(line.chat_id) for line, lang in known)
    return _ratio(same, len(known))

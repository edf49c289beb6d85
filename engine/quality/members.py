"""Figures about members and threads: answered, by whom first, on topic, doubled replies, bot-to-bot chains."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bots.symbols import symbols_match
from engine.quality.talk import Measure, _ratio, spoken
from engine.quality.text import about_topic
from engine.quality.transcript import Line, Transcript
from engine.services.topics import symbols_in, topic_keywords

ANSWER_GRACE = timedelta(minutes=2)  # an unanswered member message this young at the window's end may still be
PING_PONG_MIN = 4  # A → B → A → B: two bots answering each other, each replying to the other's last message


@dataclass(frozen=True)
class Subjects:
    """What a member's message asks about: the symbols it names and the chat topics it mentions."""

    symbols: tuple[str, ...]
    topics: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.symbols or self.topics)


def asked_subjects(message: str, topics: tuple[str, ...]) -> Subjects:
    """The symbols a message names (THYAO, BTCUSDT), and the topics of those symbols or named in the rest of it."""
    symbols = tuple(dict.fromkeys(symbols_in(message)))
    rest = message
    for symbol in symbols:
        rest = rest.replace(symbol, " ")
    asked = [topic for topic in topics if about_topic(rest, topic)]
    asked += [topic for topic in (symbol_topic(symbol, topics) for symbol in symbols) if topic is not None]
    return Subjects(symbols, tuple(dict.fromkeys(asked)))


def symbol_topic(symbol: str, topics: tuple[str, ...]) -> str | None:
    """The chat topic a symbol belongs to: its exchange (BIST:THYAO), else the topic keyword its ticker starts with,
    the longest one winning (BTCUSDT: "btc", Kripto; USDTRY: "usdtry", FX, not "usdt"); None when nothing says."""
    exchange, _, ticker = symbol.rpartition(":")
    if exchange and exchange in topics:
        return exchange
    starts = [
        (len(word), topic) for topic in topics for word in topic_keywords(topic) if ticker.casefold().startswith(word)
    ]
    return max(starts)[1] if starts else None


def is_on_topic(reply: str, subjects: Subjects) -> bool:
    """The reply names one of the asked symbols (any case, with or without exchange) or talks about an asked topic."""
    for symbol in subjects.symbols:
        ticker = symbol.split(":")[-1]
        if re.search(rf"(?<!\w){re.escape(ticker)}(?!\w)", reply, re.IGNORECASE):
            return True
        if any(_same(symbol, named) for named in symbols_in(reply)):
            return True
    return any(about_topic(reply, topic) for topic in subjects.topics)


def _same(left: str, right: str) -> bool:
    try:
        return symbols_match(left, right)
    except ValueError:
        return False


def replies(transcript: Transcript) -> dict[int, list[Line]]:
    """For each message id, the bot messages replying to it, oldest first."""
    found: dict[int, list[Line]] = {}
    for line in spoken(transcript):
        if line.reply_to is not None:
            found.setdefault(line.reply_to, []).append(line)
    return found


def addressed(transcript: Transcript) -> list[Line]:
    """Member messages addressed to a bot (a mention or a reply): answered, or old enough to have been."""
    end = transcript.until or (transcript.lines[-1].at if transcript.lines else None)
    threads = replies(transcript)
    return [
        line
        for line in transcript.member_lines
        if line.addressed_bot is not None and (line.id in threads or end is None or line.at <= end - ANSWER_GRACE)
    ]


def answered(transcript: Transcript) -> Measure:
    """Addressed member messages with at least one bot reply, over addressed member messages."""
    threads, asked = replies(transcript), addressed(transcript)
    return _ratio(sum(line.id in threads for line in asked), len(asked))


def latencies(transcript: Transcript) -> list[float]:
    """Seconds from each answered addressed member message to its first bot reply."""
    threads = replies(transcript)
    answered_lines = [line for line in addressed(transcript) if line.id in threads]
    return sorted((threads[line.id][0].at - line.at).total_seconds() for line in answered_lines)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of sorted values; None for none."""
    if not values:
        return None
    rank = max(1, -(-len(values) * q // 100))
    return values[int(rank) - 1]


def latency(transcript: Transcript, q: float) -> Measure:
    """The q-th percentile of member-to-first-reply seconds."""
    values = latencies(transcript)
    return Measure(percentile(values, q), f"{len(values)} answered")


def addressed_first(transcript: Transcript) -> Measure:
    """Answered addressed member messages whose first reply came from the addressed bot."""
    threads = replies(transcript)
    answered_lines = [line for line in addressed(transcript) if line.id in threads]
    first = sum(threads[line.id][0].bot_id == line.addressed_bot for line in answered_lines)
    return _ratio(first, len(answered_lines))


def on_topic(transcript: Transcript) -> Measure:
    """Bot replies to member messages that asked about something, which name that symbol or topic."""
    threads = replies(transcript)
    hits = total = 0
    for line in transcript.member_lines:
        subjects = asked_subjects(line.text, transcript.topics)
        if not subjects:
            continue
        for reply in threads.get(line.id, []):
            total += 1
            hits += is_on_topic(reply.text, subjects)
    return _ratio(hits, total)


def doubled_replies(transcript: Transcript) -> Measure:
    """(bot, message) pairs where the bot replied to the same message more than once."""
    threads = replies(transcript)
    doubled = sum(
        1
        for lines in threads.values()
        for bot_id in {line.bot_id for line in lines}
        if sum(line.bot_id == bot_id for line in lines) > 1
    )
    total = sum(len({line.bot_id for line in lines}) for lines in threads.values())
    return Measure(float(doubled) if total else None, f"{doubled} of {total} (bot, message) threads")


def ping_pong(transcript: Transcript) -> Measure:
    """Chains of 4+ bot messages where two bots each reply to the other's last message (A → B → A → B)."""
    by_id = {line.id: line for line in transcript.lines}
    depth: dict[int, int] = {}
    for line in spoken(transcript):
        parent = by_id.get(line.reply_to) if line.reply_to is not None else None
        if parent is None or not parent.is_bot or parent.bot_id == line.bot_id:
            depth[line.id] = 1
            continue
        grandparent = by_id.get(parent.reply_to) if parent.reply_to is not None else None
        alternates = grandparent is not None and grandparent.bot_id == line.bot_id
        depth[line.id] = depth.get(parent.id, 1) + 1 if alternates else 2
    chains = sum(1 for value in depth.values() if value == PING_PONG_MIN)
    return Measure(float(chains) if depth else None, f"longest {max(depth.values(), default=0)} messages")

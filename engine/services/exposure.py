"""What a bot's message must not give away or point at: its hidden prompt, links, strangers' @handles.

A member can ask a bot to repeat its instructions, paste its bio, list its portfolio, post a link or ping someone;
these checks run on every output (`screening.screen`). Overlap is measured on `normalize.fold`'s form, so a
leak with look-alike letters or changed casing is still one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

from engine.services.normalize import fold
from engine.services.prompts import TEXT


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


LEAK_RUN = 6  # words in a row shared with the bio, instructions or a "never do" line: recited, not said
MEMORY_RUN = 5  # words in a row shared with a memory: it is recalled
MEMORIES_LISTED = 2  # memories recalled in one message: a dump of what the bot remembers
HOLDINGS_LISTED = 2  # holdings named with their exact quantity in one message: the portfolio list
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")
THOUSANDS = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
# Saying that it has a prompt or instructions at all is out of character, whatever follows.
PROMPT_TALK = re.compile(
    r"\b(?:system\s+prompt|(?:my|the)\s+(?:instructions|prompt|system\s+message)|i\s+(?:was|am|have\s+been)\s+"
    r"(?:instructed|told|programmed)\s+to|(?:my|the)\s+(?:bio|persona|character\s+description)|"
    r"(?:sistem\s+(?:istem|mesaj|prompt)\w*|talimatlarim\w*|bana\s+verilen\s+(?:gorev|talimat)\w*|promptum\w*|"
    r"yonergelerim\w*|biyografim\w*|karakter\s+tanimim\w*|personam\w*))\b"
)
TLDS = _set(
    "com net org io co me tr ly gg xyz app info biz ru de uk us ai finance exchange link site online top club vip "
    "pro cc to tv live money trade market shop store dev news page pw ws su cn in eu fm sh gl ink one bet"
)
URL = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w@.])(?:[\w-]+\.)+(?P<tld>[^\W\d_]{2,12})(?![\w.])(?:[/?#]\S*)?(?:['’]\w+)?", re.I
)
TRAILING = ".,!?;:)]»”'\""
LINK_LEFTOVER = re.compile(r"\s*[:\-–—>→]+\s*$|\(\s*\)|\s+(?=[,.!?;])")
MENTION = re.compile(r"(?<![\w@.])@(?P<handle>[A-Za-z][A-Za-z0-9_]{2,31})(?![\w@])[,:]?\s*")


def leaked(
    text: str,
    *,
    hidden: Iterable[str],
    memories: Iterable[str] = (),
    holdings: Iterable[tuple[str, Decimal | float]] = (),
) -> bool:
    """Whether the message recites its hidden prompt: instructions, bio or "never do" lines (`hidden`), several
    memories, or several holdings with their quantities, or talks about having a prompt."""
    words = _words(text)
    if PROMPT_TALK.search(" ".join(words)):
        return True
    runs: dict[int, set[tuple[str, ...]]] = {}  # the message's runs of each length, made once
    if not _of(words, LEAK_RUN, runs).isdisjoint(INSTRUCTION_RUNS):
        return True
    if any(_recites(words, source, LEAK_RUN, runs) for source in hidden):
        return True
    if sum(_recites(words, memory, MEMORY_RUN, runs) for memory in memories) >= MEMORIES_LISTED:
        return True
    return holdings_listed(text, holdings, words=words)


def holdings_listed(
    text: str, holdings: Iterable[tuple[str, Decimal | float]], *, words: list[str] | None = None
) -> bool:
    """Several holdings each named with its exact quantity ("500 THYAO, 0,25 BTC"): the portfolio as a list."""
    holdings = list(holdings)
    if len(holdings) < HOLDINGS_LISTED:
        return False
    present = set(_words(text) if words is None else words)
    named = [size for symbol, size in holdings if not _names(symbol).isdisjoint(present)]
    if len(named) < HOLDINGS_LISTED:
        return False
    numbers = {float(number.replace(",", ".")) for number in NUMBER.findall(THOUSANDS.sub("", text))}
    return sum(float(size) in numbers for size in named) >= HOLDINGS_LISTED


@lru_cache(maxsize=4096)
def _names(symbol: str) -> frozenset[str]:
    """How a holding's symbol is named in chat: BIST:THYAO as "thyao", BTCUSDT as "btcusdt" or "btc"."""
    ticker = fold(symbol.rsplit(":", 1)[-1])
    return frozenset({ticker, ticker.removesuffix("usdt"), ticker.removesuffix("usd"), ticker.removesuffix("try")})


def _words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _recites(words: list[str], source: str, n: int, made: dict[int, set[tuple[str, ...]]]) -> bool:
    """Whether the words share a run of n with the source (all of it when it is shorter, from three words)."""
    length, runs = _runs_of(source, n)
    return bool(runs) and not runs.isdisjoint(_of(words, length, made))


def _of(words: list[str], n: int, made: dict[int, set[tuple[str, ...]]]) -> set[tuple[str, ...]]:
    if n not in made:
        made[n] = _runs(words, n)
    return made[n]


@lru_cache(maxsize=4096)  # a bot's bio and memories, met again on each of its turns
def _runs_of(source: str, n: int) -> tuple[int, frozenset[tuple[str, ...]]]:
    words = _words(source)
    length = min(n, len(words))
    return length, frozenset(_runs(words, length) if length >= 3 else ())


def strip_links(text: str) -> str:
    """The text without URLs, t.me links and bare domains (and the colon or arrow that pointed at them)."""
    parts, start = [], 0
    for match in URL.finditer(text):
        if match["tld"] is not None and fold(match["tld"]) not in TLDS:
            continue
        parts.append(LINK_LEFTOVER.sub("", text[start : match.start()]))
        start = match.start() + len(match.group().rstrip(TRAILING))  # "t.me/x," keeps its comma for the sentence
    if not parts:
        return text
    kept = " ".join(part.strip() for part in [*parts, text[start:]] if part.strip())
    return LINK_LEFTOVER.sub("", kept).strip()


def has_link(text: str) -> bool:
    """Whether the text holds a URL, a t.me link or a bare domain."""
    return strip_links(text) != text


def strip_mentions(text: str, known: frozenset[str]) -> str:
    """The text without @handles of anyone outside `known` (case-folded handles without "@")."""
    return MENTION.sub(lambda match: match.group(0) if match["handle"].casefold() in known else "", text).strip()


def _instruction_runs() -> frozenset[tuple[str, ...]]:
    """Runs of the prompt's fixed instructions (both languages), placeholders dropped."""
    lines: list[str] = []
    for language in TEXT.values():
        for value in language.values():
            lines += [str(text) for text in value.values()] if isinstance(value, dict) else [str(value)]
    runs: set[tuple[str, ...]] = set()
    for line in lines:
        for piece in re.split(r"\{[^}]*\}", line):
            runs |= _runs(_words(piece), LEAK_RUN)
    return frozenset(runs)


INSTRUCTION_RUNS = _instruction_runs()

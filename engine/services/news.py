"""News headlines: feeds fetched in the background into NewsItem rows, and a fresh one picked for a turn.

Turns never touch the network for news: a periodic job (engine.jobs.fetch_news) downloads the
configured RSS/Atom feeds with httpx, feedparser parses the bytes, and headline_for reads the cache.
Feed URLs are typed by operators, so every connection (redirects too) goes to a public address only
(config.security.public_http_client), with at most MAX_REDIRECTS hops, MAX_FEED_BYTES and the timeout.
"""

from __future__ import annotations

import hashlib
import html
import logging
import random
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
from django.utils import timezone

from config.security import public_http_client
from engine.models import NewsItem
from engine.services.topics import KEYWORDS, symbols_in

logger = logging.getLogger(__name__)

USER_AGENT = "Piyasa/0.1 (+news headlines; feedparser)"
MAX_FEED_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_PARALLEL_FEEDS = 8
RETENTION_HOURS = 72
SUMMARY_MAX_CHARS = 1000
MAX_SYMBOLS = 8
FRESHEST = 5  # headline_for picks among this many of the freshest matches
CANDIDATES = 300  # upper bound on rows headline_for loads; feeds give a few hundred items per day

TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")
LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
TURKISH_LETTERS = frozenset("ğüşıöçĞÜŞİÖÇ")
TURKISH_WORDS = frozenset({"ve", "bir", "bu", "için", "ile", "da", "de", "mi", "olarak", "daha", "yüzde", "oldu"})
ENGLISH_WORDS = frozenset({"the", "and", "of", "to", "in", "for", "on", "as", "with", "is", "at", "its", "by"})


class FeedError(Exception):
    """A feed that could not be used (too large, not RSS/Atom)."""


@dataclass(frozen=True)
class FetchResult:
    """What one news_fetch did: entries parsed, new rows stored, and the reason per failed feed URL."""

    fetched: int = 0
    stored: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def fold(text: str) -> str:
    """Case- and dotted/dotless-i-insensitive form, so BİST, Bist and bist, or BANKASI and bankası match."""
    return text.casefold().replace("i\u0307", "i").replace("ı", "i")


def _word_start(needle: str) -> re.Pattern[str]:
    # Match at a word start only, so Turkish suffixes still match (faizi, doları) but "eth" is not found in "whether".
    return re.compile(r"(?<!\w)" + re.escape(fold(needle)))


KEYWORD_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    topic: tuple(_word_start(word) for word in words) for topic, words in KEYWORDS.items()
}


def _shouting(line: str) -> bool:
    """Mostly upper-case words (an all-caps headline), where every long word would look like a ticker."""
    words = LETTER_WORD.findall(line)
    return len(words) > 2 and sum(word.isupper() for word in words) * 2 > len(words)


def topics_in(text: str) -> list[str]:
    """The chat topics whose keywords occur in text, then the symbols it names (deduplicated)."""
    folded = fold(text)
    topics = [topic for topic, patterns in KEYWORD_PATTERNS.items() if any(p.search(folded) for p in patterns)]
    symbols = [symbol for line in text.splitlines() if not _shouting(line) for symbol in symbols_in(line)]
    return list(dict.fromkeys([*topics, *symbols[:MAX_SYMBOLS]]))


def language_guess(text: str, declared: str = "") -> str:
    """tr or en: the feed's declared language when it is one of them, otherwise a guess from the text."""
    declared = declared.strip().lower()
    if declared[:2] in ("tr", "en"):
        return declared[:2]
    tokens = re.findall(r"\w+", text.lower())
    turkish = sum(char in TURKISH_LETTERS for char in text) + sum(token in TURKISH_WORDS for token in tokens)
    english = sum(token in ENGLISH_WORDS for token in tokens)
    return "tr" if turkish > english else "en"


def plain_text(raw: str, limit: int) -> str:
    """Text without HTML tags, entities or runs of whitespace, cut to limit characters."""
    text = SPACE.sub(" ", html.unescape(TAG.sub(" ", raw))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _download(client: httpx.Client, url: str, timeout_s: float) -> bytes:
    """The feed's bytes; httpx errors for network trouble and HTTP errors, FeedError when too large or slow."""
    deadline = time.monotonic() + timeout_s  # httpx times each read; this bounds the whole download
    with client.stream("GET", url) as response:
        response.raise_for_status()
        if int(response.headers.get("content-length") or 0) > MAX_FEED_BYTES:
            raise FeedError(f"larger than {MAX_FEED_BYTES} bytes")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_FEED_BYTES:
                raise FeedError(f"larger than {MAX_FEED_BYTES} bytes")
            if time.monotonic() > deadline:
                raise FeedError(f"download took longer than {timeout_s:g}s")
    return bytes(body)


def _parse(content: bytes) -> Any:
    """feedparser's result for the bytes (never a URL: feedparser would do its own network I/O)."""
    parsed = feedparser.parse(content)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS/Atom feed ({reason})" if reason else "not an RSS/Atom feed")
    return parsed


def _entry_time(entry: Any, now: datetime) -> datetime:
    """The entry's publication (or update) time in UTC, never in the future; now when it has none."""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not stamp:
        return now
    year, month, day, hour, minute, second = stamp[:6]
    try:
        return min(datetime(year, month, day, hour, minute, second, tzinfo=UTC), now)
    except ValueError:  # a leap second (60) or a broken date
        return now


def _entry_link(entry: Any) -> str:
    link = str(entry.get("link") or "").strip()
    return link if link.startswith(("http://", "https://")) and len(link) <= 1000 else ""


def _uid(source: str, guid: str, link: str, title: str) -> str:
    key = guid or link or f"{source}\n{title}"
    return hashlib.sha256(key.encode()).hexdigest()


def _item(source: str, entry: Any, feed_language: str, now: datetime) -> NewsItem | None:
    """An unsaved NewsItem for a feed entry, or None for an entry without a title."""
    title = plain_text(str(entry.get("title") or ""), 500)
    if not title:
        return None
    summary = plain_text(str(entry.get("summary") or ""), SUMMARY_MAX_CHARS)
    link = _entry_link(entry)
    declared = (entry.get("title_detail") or {}).get("language") or feed_language
    return NewsItem(
        source=source[:500],
        uid=_uid(source, str(entry.get("id") or "").strip(), link, title),
        title=title,
        summary=summary,
        link=link,
        language=language_guess(f"{title} {summary}", declared or ""),
        topics=topics_in(f"{title}\n{summary}"),
        published_at=_entry_time(entry, now),
    )


def feed_items(source: str, content: bytes, *, now: datetime, max_age_hours: float = RETENTION_HOURS) -> list[NewsItem]:
    """Unsaved NewsItems of a feed document, skipping entries older than max_age_hours; FeedError if not a feed."""
    parsed = _parse(content)
    language = str(parsed.feed.get("language") or "")
    cutoff = now - timedelta(hours=max_age_hours)
    items = (_item(source, entry, language, now) for entry in parsed.entries)
    return [item for item in items if item is not None and item.published_at >= cutoff]


def _fetch_one(client: httpx.Client, url: str, timeout_s: float, now: datetime) -> list[NewsItem] | str:
    """The feed's items, or the reason it failed (logged); never raises for a bad feed."""
    try:
        return feed_items(url, _download(client, url, timeout_s), now=now)
    except httpx.HTTPStatusError as error:
        reason = f"HTTP {error.response.status_code}"
    except (httpx.HTTPError, httpx.InvalidURL, FeedError) as error:
        reason = f"{type(error).__name__}: {error}"[:300]
    except Exception as error:
        # A feed is untrusted input handled by third-party code: one bad feed must not break the others.
        logger.warning("news feed %s failed unexpectedly", url, exc_info=True)
        return f"unexpected {type(error).__name__}: {error}"[:300]
    logger.warning("news feed %s failed: %s", url, reason)
    return reason


def news_store(*, items: Iterable[NewsItem]) -> int:
    """Insert the items not stored yet (by uid), in bulk; returns how many were new."""
    by_uid = {item.uid: item for item in items}
    existing = set(NewsItem.objects.filter(uid__in=list(by_uid)).values_list("uid", flat=True))
    new = [item for uid, item in by_uid.items() if uid not in existing]
    # ignore_conflicts: a concurrent fetch may have inserted the same uid since the read above.
    NewsItem.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def news_fetch(*, urls: list[str], timeout_s: float = 10.0) -> FetchResult:
    """Download and parse every feed (in parallel), store new headlines; a bad feed is reported, never raised."""
    now = timezone.now()
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}
    with (
        public_http_client(
            timeout=timeout_s, follow_redirects=True, max_redirects=MAX_REDIRECTS, headers=headers
        ) as client,
        ThreadPoolExecutor(max_workers=MAX_PARALLEL_FEEDS) as pool,
    ):
        # Threads only do HTTP and parsing; the database is written from this thread.
        outcomes = dict(zip(urls, pool.map(lambda url: _fetch_one(client, url, timeout_s, now), urls), strict=True))
    failed = {url: outcome for url, outcome in outcomes.items() if isinstance(outcome, str)}
    items = [item for outcome in outcomes.values() if not isinstance(outcome, str) for item in outcome]
    return FetchResult(fetched=len(items), stored=news_store(items=items), failed=failed)


def news_prune(*, older_than_hours: float = RETENTION_HOURS) -> int:
    """Delete headlines published more than older_than_hours ago; returns how many."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = NewsItem.objects.filter(published_at__lt=cutoff).delete()
    return deleted


def _matches(item: NewsItem, topic: str, pattern: re.Pattern[str]) -> bool:
    """The item was tagged with the topic (or symbol), or the title names it."""
    ticker = topic.rpartition(":")[2]  # BIST:THYAO is tagged and written as THYAO
    return topic in item.topics or ticker in item.topics or bool(pattern.search(fold(item.title)))


def headline_for(
    *,
    topic: str,
    language: str,
    rng: random.Random,
    exclude: set[int] | None = None,
    max_age_hours: float = 12,
    sources: list[str] | None = None,
) -> NewsItem | None:
    """A fresh headline on the topic, in the chat's language when there is one, picked at random among the freshest;
    from the `sources` feeds only, when given."""
    if not topic.strip():
        return None
    cutoff = timezone.now() - timedelta(hours=max_age_hours)
    rows = NewsItem.objects.filter(published_at__gte=cutoff).order_by("-published_at")
    if sources is not None:
        rows = rows.filter(source__in=sources)
    if exclude:
        rows = rows.exclude(pk__in=exclude)
    pattern = _word_start(topic.rpartition(":")[2])
    matching = [item for item in rows[:CANDIDATES] if _matches(item, topic, pattern)]
    preferred = [item for item in matching if item.language == language] or matching
    if not preferred:
        return None
    freshest = preferred[:FRESHEST]
    # Fresher headlines weigh more, but every bot of a chat does not get the same one.
    return rng.choices(freshest, weights=range(len(freshest), 0, -1))[0]

"""The one loader of the quality figures: a window of chats' messages and facts, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from bots.models import Stance
from chats.models import Chat, Membership, Message
from chats.schemas import DEFAULT_TOPICS
from engine.kinds import KINDS
from engine.models import Turn
from engine.quality.transcript import BotFacts, Line, Transcript
from engine.services.activity import is_active

MAX_LINES = 20_000  # a window with more messages is measured on its newest
ELIGIBILITY_STEP = timedelta(minutes=10)  # a bot within its active hours at any of these moments was eligible
MAX_MOMENTS = 144  # a long window is sampled more sparsely (a day at 10 minutes)
MENTION = re.compile(r"(?<!\w)@(\w{3,64})")
TEXT_KINDS = [kind for kind, spec in KINDS.items() if spec.writes_text]
MESSAGE_FIELDS = (
    "id", "chat_id", "bot_id", "sender_user_id", "sender_name", "sender_username", "text", "reply_to_id",
    "reply_to__bot_id", "metadata", "created_at", "turn__kind",
)  # fmt: skip


def transcript_load(
    *, chat_ids: list[int] | None, since: datetime, until: datetime, max_lines: int = MAX_LINES
) -> Transcript:
    """The messages of the chats (every chat: None) in [since, until) with their bots' facts: six queries.

    Beyond `max_lines` messages, the newest are the ones loaded.
    """
    chats = {row["id"]: row for row in _chats(chat_ids).values("id", "language", "timezone", "topics")}
    ids = list(chats)
    rows = _messages(ids, since, until, max_lines)
    memberships = _memberships(ids)
    stances = _stances({row["bot_id"] for row in memberships})
    priority = _priority_replies(ids, since, until)
    counts = _turn_counts(ids, since, until)
    bots = _bot_facts(memberships, stances, chats, since, until)
    usernames: dict[int, dict[str, int]] = {}
    for row in memberships:
        if row["bot__username"]:
            usernames.setdefault(row["chat_id"], {})[row["bot__username"].casefold()] = row["bot_id"]
    lines = tuple(_line(row, priority, usernames.get(row["chat_id"], {})) for row in rows)
    topics = tuple(dict.fromkeys(topic for chat in chats.values() for topic in chat["topics"] or []))
    return Transcript(
        lines=lines,
        bots=bots,
        languages={pk: chat["language"] for pk, chat in chats.items()},
        topics=topics or tuple(DEFAULT_TOPICS),
        since=since,
        until=until,
        turns_written=counts["written"],
        duplicates_rejected=counts["duplicates"],
    )


def _chats(chat_ids: list[int] | None) -> Any:
    return Chat.objects.all() if chat_ids is None else Chat.objects.filter(pk__in=chat_ids)


def _messages(chat_ids: list[int], since: datetime, until: datetime, limit: int) -> list[dict[str, Any]]:
    window = Message.objects.filter(chat_id__in=chat_ids, created_at__gte=since, created_at__lt=until)
    newest = window.order_by("-created_at", "-id").values(*MESSAGE_FIELDS)[:limit]
    return list(reversed(list(newest)))


def _memberships(chat_ids: list[int]) -> list[dict[str, Any]]:
    fields = ("is_enabled", "bot__is_enabled", "bot__name", "bot__username", "bot__emotion", "bot__active_hours")
    return [dict(row) for row in Membership.objects.filter(chat_id__in=chat_ids).values("chat_id", "bot_id", *fields)]


def _stances(bot_ids: set[int]) -> dict[int, list[tuple[str, str]]]:
    stances: dict[int, list[tuple[str, str]]] = {}
    for stance in Stance.objects.filter(bot_id__in=bot_ids).values("bot_id", "topic", "polarity"):
        stances.setdefault(stance["bot_id"], []).append((stance["topic"], stance["polarity"]))
    return stances


def _priority_replies(chat_ids: list[int], since: datetime, until: datetime) -> dict[int, int]:
    """Member message id -> the bot ingestion gave its priority reply (the addressed bot, as ingestion decided)."""
    asked = Q(reply_to__created_at__gte=since, reply_to__created_at__lt=until)
    turns = Turn.objects.filter(asked, chat_id__in=chat_ids, kind=Turn.Kind.PRIORITY_REPLY)
    return {message_id: bot_id for message_id, bot_id in turns.values_list("reply_to_id", "bot_id") if message_id}


def _turn_counts(chat_ids: list[int], since: datetime, until: datetime) -> dict[str, int]:
    generated = ~Q(status__in=[Turn.Status.PLANNED, Turn.Status.GENERATING])
    duplicate = Q(status=Turn.Status.SKIPPED, error__startswith="duplicate")
    turns = Turn.objects.filter(chat_id__in=chat_ids, kind__in=TEXT_KINDS, created_at__gte=since, created_at__lt=until)
    return turns.aggregate(written=Count("id", filter=generated), duplicates=Count("id", filter=duplicate))


def _bot_facts(
    memberships: list[dict[str, Any]],
    stances: dict[int, list[tuple[str, str]]],
    chats: dict[int, dict[str, Any]],
    since: datetime,
    until: datetime,
) -> dict[int, BotFacts]:
    step = max(ELIGIBILITY_STEP, (until - since) / MAX_MOMENTS)
    moments = [since + step * i for i in range(int((until - since) / step) + 1)] + [until]
    facts: dict[int, BotFacts] = {}
    for row in memberships:
        zone, hours = chats[row["chat_id"]]["timezone"], row["bot__active_hours"] or []
        eligible = row["is_enabled"] and row["bot__is_enabled"] and any(is_active(m, zone, hours) for m in moments)
        known = facts.get(row["bot_id"])
        facts[row["bot_id"]] = BotFacts(
            name=row["bot__name"],
            username=row["bot__username"] or "",
            eligible=bool(eligible) or (known is not None and known.eligible),
            stances=tuple(stances.get(row["bot_id"], [])),
            signature_phrases=tuple((row["bot__emotion"] or {}).get("signature_phrases", [])),
        )
    return facts


def _line(row: dict[str, Any], priority: dict[int, int], usernames: dict[str, int]) -> Line:
    metadata = row["metadata"] or {}
    is_bot = row["bot_id"] is not None
    return Line(
        id=row["id"],
        at=row["created_at"],
        text=row["text"],
        speaker=f"bot:{row['bot_id']}" if is_bot else f"member:{row['sender_user_id'] or row['sender_name']}",
        speaker_name=row["sender_name"] or row["sender_username"],
        bot_id=row["bot_id"],
        reply_to=row["reply_to_id"],
        addressed_bot=None if is_bot else _addressed(row, priority, usernames),
        topic=metadata.get("topic"),
        kind=row["turn__kind"],
        flags=tuple(metadata.get("flags", [])),
        chat_id=row["chat_id"],
    )


def _addressed(row: dict[str, Any], priority: dict[int, int], usernames: dict[str, int]) -> int | None:
    """The bot a member message is for: the one ingestion gave its priority reply, else a mention, else a reply."""
    if row["id"] in priority:
        return priority[row["id"]]
    for handle in MENTION.findall(row["text"]):
        if handle.casefold() in usernames:
            return usernames[handle.casefold()]
    return row["reply_to__bot_id"]

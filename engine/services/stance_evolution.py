"""Stances that evolve: the arguments of new chat messages (a periodic batch) and market events move them.

Off the hot path: the engine's turns never wait for this; the next turn's batch load reads the moved stances as
it reads every stance. Each batch runs a fixed number of queries, whatever its size. The rule is
`engine.services.stance_drift`; every change is a `StanceChange` row (old → new, and what moved it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from bots.models import Stance, StanceChange
from chats.models import Membership, Message
from engine.models import Watermark
from engine.runtime_settings import RuntimeConfig
from engine.services import stance_drift
from engine.services.context import stance_covers
from engine.services.postprocess import direction, talks_about
from engine.services.stance_drift import Push, StanceState

BATCH_MESSAGES = 1000
MAX_AGE = timedelta(hours=1)  # a backlog (evolution was off, the worker down) is not argued again hours later
SETTLE = timedelta(seconds=5)  # ids are allocated before commit: a message still committing is read next batch
CAUSE_CHARS = 200
FLIP_TEXTS = {
    ("tr", "bullish"): "Fikrimi değiştirdim: artık yükseliş bekliyorum.",
    ("tr", "bearish"): "Fikrimi değiştirdim: artık düşüş bekliyorum.",
    ("en", "bullish"): "I changed my mind: I now expect a rally.",
    ("en", "bearish"): "I changed my mind: I now see more downside.",
}
MESSAGE_FIELDS = ("id", "chat_id", "bot_id", "bot__name", "sender_user_id", "sender_name", "text", "metadata")


@dataclass(frozen=True)
class Moved:
    """A push aimed at one stance, with what to record as its cause."""

    stance_id: int
    push: Push
    kind: StanceChange.Cause
    cause: str
    speaker_bot_id: int | None = None
    message_id: int | None = None
    event_id: int | None = None


def stances_evolve(*, config: RuntimeConfig, now: datetime | None = None, seed: str = "") -> list[StanceChange]:
    """Move stances by the arguments of the chat messages since the watermark (one batch); the changes made."""
    if not config.stance_evolution_enabled:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        mark, _ = Watermark.objects.get_or_create(name=Watermark.Name.STANCE_EVOLUTION)
        rows = _new_messages(after=mark.position, now=now)
        # Claimed before any change: a second worker running the same batch finds the position moved and stops.
        if not rows or not _claim(mark.position, rows[-1]["id"]):
            return []
        listeners = _listeners({row["chat_id"] for row in rows})
        stances = _stances(Q(bot_id__in={bot for bots in listeners.values() for bot in bots}))
        pushes = _arguments(rows, listeners, stances, seed=seed)
        return _apply(pushes, stances, now=now)


def apply_event(
    symbols_or_topics: Sequence[str],
    direction: str,
    intensity: float,
    at: datetime,
    *,
    event_id: int | None = None,
    cause: str = "",
    chat_ids: Collection[int] | None = None,
    config: RuntimeConfig | None = None,
) -> list[StanceChange]:
    """Move the stances on these symbols or topics (of the bots in `chat_ids`, or every bot) by a market event:
    `direction` bullish or bearish, `intensity` 0..1 (a push of that strength, within each stance's bounds)."""
    from engine.selectors import settings_all

    if not (config or settings_all()).stance_evolution_enabled or direction not in stance_drift.POLAR:
        return []
    in_chats = (
        Q() if chat_ids is None else Q(bot_id__in=Membership.objects.filter(chat_id__in=chat_ids).values("bot_id"))
    )
    with transaction.atomic():
        stances = _stances(in_chats)
        push = Push(direction, intensity)
        text = cause[:CAUSE_CHARS]
        pushes = [
            Moved(s.pk, push, StanceChange.Cause.EVENT, text, event_id=event_id)
            for s in stances.values()
            if any(stance_covers(s.topic, subject) for subject in symbols_or_topics)
        ]
        return _apply(pushes, stances, now=at)


def _new_messages(*, after: int, now: datetime) -> list[dict[str, Any]]:
    window = Q(pk__gt=after, created_at__gte=now - MAX_AGE, created_at__lt=now - SETTLE)
    return list(Message.objects.filter(window).order_by("pk").values(*MESSAGE_FIELDS)[:BATCH_MESSAGES])


def _claim(position: int, to: int) -> bool:
    claimed = Watermark.objects.filter(name=Watermark.Name.STANCE_EVOLUTION, position=position).update(position=to)
    return claimed == 1


def _listeners(chat_ids: set[int]) -> dict[int, list[int]]:
    """Per chat, the bots in it (enabled memberships): the ones that saw its messages."""
    listeners: dict[int, list[int]] = {}
    for chat_id, bot_id in Membership.objects.filter(chat_id__in=chat_ids, is_enabled=True).values_list(
        "chat_id", "bot_id"
    ):
        listeners.setdefault(chat_id, []).append(bot_id)
    return listeners


def _stances(where: Q) -> dict[int, Stance]:
    """The stances (locked until the batch commits) with their bot's risk profile and language, by id."""
    rows = (
        Stance.objects.select_for_update(of=("self",))
        .filter(where)
        .annotate(
            risk=KeyTextTransform("risk_profile", "bot__persona"),
            language=KeyTextTransform("language", "bot__persona"),
        )
        .order_by("pk")
    )
    return {stance.pk: stance for stance in rows}


def _arguments(
    rows: list[dict[str, Any]], listeners: dict[int, list[int]], stances: dict[int, Stance], *, seed: str
) -> list[Moved]:
    """The pushes of the messages on the stances of the bots that saw them: one per speaker and stance (the
    speaker's latest), so that repeating oneself persuades no more than saying it once."""
    by_bot: dict[int, list[Stance]] = {}
    for stance in stances.values():
        by_bot.setdefault(stance.bot_id, []).append(stance)
    topics = {stance.topic for stance in stances.values()}
    latest: dict[tuple[str, int], Moved] = {}
    for row in rows:
        way = direction(row["text"])
        if way == "neutral":
            continue
        speaker = f"bot:{row['bot_id']}" if row["bot_id"] else f"member:{row['sender_user_id']}"
        argued = {topic for topic in topics if _argues(row, topic)}  # once a message, not once a listener
        for bot_id in listeners.get(row["chat_id"], []):
            for stance in by_bot.get(bot_id, []) if bot_id != row["bot_id"] else []:
                if stance.topic in argued:
                    latest[(speaker, stance.pk)] = _argument(row, way, stance, by_bot, seed=seed)
    return list(latest.values())


def _argues(row: dict[str, Any], topic: str) -> bool:
    said_topic = (row["metadata"] or {}).get("topic") or ""
    return said_topic.casefold() == topic.casefold() or talks_about(row["text"], topic)


def _argument(row: dict[str, Any], way: str, stance: Stance, by_bot: dict[int, list[Stance]], *, seed: str) -> Moved:
    speaker_bot = row["bot_id"]
    own = next((s for s in by_bot.get(speaker_bot, []) if s.topic.casefold() == stance.topic.casefold()), None)
    strength = stance_drift.argument_strength(
        text=row["text"],
        speaker_confidence=own.confidence if own else None,
        member=speaker_bot is None,
        seed=f"{seed}:{row['id']}:{stance.pk}",
    )
    who = row["bot__name"] if speaker_bot else f"member «{row['sender_name'][:40]}»"
    cause = f"{who}: {row['text']}"[:CAUSE_CHARS]
    return Moved(stance.pk, Push(way, strength), StanceChange.Cause.ARGUMENT, cause, speaker_bot, row["id"])


def _apply(pushes: Iterable[Moved], stances: dict[int, Stance], *, now: datetime) -> list[StanceChange]:
    """Apply the pushes in order, each stance within its day's cap; save the stances and record each change."""
    moved = _moved_today(set(stances), now=now)
    states = {
        pk: StanceState(s.polarity, s.confidence, s.cooldown_until, moved.get(pk, 0.0)) for pk, s in stances.items()
    }
    changes: list[StanceChange] = []
    for push in pushes:
        stance, state = stances[push.stance_id], states[push.stance_id]
        result = stance_drift.drift(
            state, push.push, stance_drift.risk_band(getattr(stance, "risk", "") or ""), now=now
        )
        if result is None:
            continue
        states[push.stance_id] = replace(result.as_state, moved_today=state.moved_today + result.moved)
        changes.append(_change(stance, state, result, push))
    changed = {change.stance_id for change in changes}
    for pk in changed:
        _update(stances[pk], states[pk], now=now)
    Stance.objects.bulk_update(
        [stances[pk] for pk in changed], ["polarity", "confidence", "cooldown_until", "stance", "updated_at"]
    )
    return StanceChange.objects.bulk_create(changes)


def _moved_today(stance_ids: set[int], *, now: datetime) -> dict[int, float]:
    day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = StanceChange.objects.filter(stance_id__in=stance_ids, created_at__gte=day)
    return dict(today.values("stance_id").annotate(total=Sum("moved")).values_list("stance_id", "total"))


def _change(stance: Stance, old: StanceState, new: stance_drift.Drift, push: Moved) -> StanceChange:
    return StanceChange(
        stance_id=stance.pk,
        bot_id=stance.bot_id,
        topic=stance.topic,
        old_polarity=old.polarity,
        new_polarity=new.polarity,
        old_confidence=old.confidence,
        new_confidence=new.confidence,
        moved=round(new.moved, 4),
        cause_kind=push.kind,
        cause=push.cause,
        speaker_bot_id=push.speaker_bot_id,
        message_id=push.message_id,
        event_id=push.event_id,
    )


def _update(stance: Stance, state: StanceState, *, now: datetime) -> None:
    if state.polarity != stance.polarity:
        # The old text argues the old view: a flipped stance says it turned (the record keeps what it was).
        # A persona without a language reads as SQL null (SQLite: the text "null"): Turkish, the default.
        language = "en" if getattr(stance, "language", None) == "en" else "tr"
        stance.stance = FLIP_TEXTS[(language, state.polarity)]
    stance.polarity, stance.confidence, stance.cooldown_until = state.polarity, state.confidence, state.cooldown_until
    stance.updated_at = now

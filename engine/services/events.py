"""Market events: operators inject them, one process fires each (`event_fire`), the crowd reacts while they are
fresh (planning's burst, the prompts' event line)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bots.symbols import canonical_symbol
from chats.models import Chat
from engine.models import MarketEvent

# The burst: a chat's pace is multiplied by 1 + BURST_GAIN · intensity · exp(-t / BURST_DECAY_S) after an event.
BURST_GAIN = 4.0
BURST_DECAY_S = 5 * 60.0  # simulated seconds (the scale factor speeds the whole chat up, the decay with it)
FRESH_S = 20 * 60.0  # simulated seconds an event stays in prompts and pace (the burst is < 2 % of its peak by then)
INTENSITY_LEVELS = {"low": 0.3, "medium": 0.6, "high": 0.9}
MAX_SYMBOLS = 8
MAX_TOPICS = 4
STANCE_DIRECTION: dict[str, str] = {MarketEvent.Direction.UP: "bullish", MarketEvent.Direction.DOWN: "bearish"}


@dataclass(frozen=True)
class FreshEvent:
    """A fired event as the planner and the prompts read it."""

    pk: int
    text: str
    symbols: tuple[str, ...]
    topics: tuple[str, ...]
    direction: str
    intensity: float
    fired_at: datetime

    def age_s(self, now: datetime, *, scale: float) -> float:
        """Simulated seconds since it fired."""
        return max(0.0, (now - self.fired_at).total_seconds()) * scale

    def excitement(self, now: datetime, *, scale: float) -> float:
        """What it adds to its chats' pace now: BURST_GAIN · intensity · exp(-t/τ)."""
        return BURST_GAIN * self.intensity * math.exp(-self.age_s(now, scale=scale) / BURST_DECAY_S)


def parse_intensity(value: Any) -> float:
    """0..1 from a number or low/medium/high."""
    if isinstance(value, str) and value.strip().casefold() in INTENSITY_LEVELS:
        return INTENSITY_LEVELS[value.strip().casefold()]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError("Give a number from 0 to 1, or low, medium or high.") from None
    if not 0.0 <= number <= 1.0:
        raise ValidationError("Give a number from 0 to 1, or low, medium or high.")
    return number


def parse_symbols(values: Iterable[str]) -> list[str]:
    """The symbols in canonical form (THYAO → BIST:THYAO), each once; an unknown form names itself."""
    found: list[str] = []
    for raw in values:
        if not raw.strip():
            continue
        try:
            symbol = canonical_symbol(raw.strip())
        except ValueError as error:
            raise ValidationError(f"{raw.strip()!r}: {error}") from None
        if symbol not in found:
            found.append(symbol)
    if len(found) > MAX_SYMBOLS:
        raise ValidationError(f"At most {MAX_SYMBOLS} symbols.")
    return found


def event_create(
    *,
    text: str,
    direction: str,
    intensity: float,
    symbols: Iterable[str] = (),
    topics: Iterable[str] = (),
    fire_at: datetime | None = None,
    chats: Iterable[Chat] = (),
    created_by: Any = None,
) -> MarketEvent:
    """Store an event (its symbols validated); one due now fires at once, a later one when the cron finds it."""
    now = timezone.now()
    event = MarketEvent(
        text=text.strip(),
        symbols=parse_symbols(symbols),
        topics=[topic.strip() for topic in topics if topic.strip()][:MAX_TOPICS],
        direction=direction,
        intensity=intensity,
        fire_at=fire_at or now,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    event.full_clean(exclude=["chats"])
    with transaction.atomic():
        event.save()
        event.chats.set(list(chats))
    if event.fire_at <= now:
        event_fire(event_id=event.pk)
        event.refresh_from_db()
    return event


def event_cancel(*, event: MarketEvent) -> bool:
    """Cancel a scheduled event; False when it already fired or was cancelled (one conditional UPDATE)."""
    now = timezone.now()
    cancelled = MarketEvent.objects.filter(pk=event.pk, fired_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=now
    )
    event.refresh_from_db()
    return cancelled == 1


def event_fire(*, event_id: int, now: datetime | None = None) -> bool:
    """Fire an event: the one place it happens. Claimed with a conditional UPDATE (fired_at IS NULL), so however
    many cron or worker processes try, exactly one fires it (True); its chats (every enabled chat when none was
    chosen) become due at once, where their crowds start reacting."""
    from engine.services import planning, stance_evolution  # both read this module (fresh events, its types)

    now = now or timezone.now()
    with transaction.atomic():
        claimed = MarketEvent.objects.filter(pk=event_id, fired_at__isnull=True, cancelled_at__isnull=True).update(
            fired_at=now
        )
        if claimed != 1:
            return False
        event = MarketEvent.objects.get(pk=event_id)
        chat_ids = list(event.chats.values_list("pk", flat=True))
        if not chat_ids:  # "every enabled chat" is the set when it fires, kept on the event
            chat_ids = list(Chat.objects.filter(is_enabled=True).values_list("pk", flat=True))
            event.chats.set(chat_ids)
        stance_evolution.apply_event(  # inside the claim: an event moves stances once, however often it is fired
            [*event.symbols, *event.topics],
            STANCE_DIRECTION.get(event.direction, ""),  # a mixed event moves nobody
            event.intensity,
            now,
            event_id=event.pk,
            cause=event.text,
            chat_ids=chat_ids,
        )
    planning.chats_due_now(chat_ids, now=now)
    return True


def events_fire_due(*, now: datetime | None = None) -> int:
    """Fire every scheduled event whose time has come; how many this process fired."""
    now = now or timezone.now()
    due = MarketEvent.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, fire_at__lte=now)
    return sum(event_fire(event_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def fresh_events(chat_ids: Iterable[int], *, now: datetime, scale: float) -> dict[int, list[FreshEvent]]:
    """Each chat's events fired in the last FRESH_S simulated seconds, newest first; one query for any chats."""
    ids = set(chat_ids)
    if not ids:
        return {}
    since = now - timedelta(seconds=FRESH_S / max(scale, 1e-6))
    rows = MarketEvent.chats.through.objects.filter(
        chat_id__in=ids, marketevent__fired_at__gte=since, marketevent__fired_at__lte=now
    ).order_by("-marketevent__fired_at", "-marketevent_id")
    fields = ("chat_id", "marketevent_id", "marketevent__text", "marketevent__symbols", "marketevent__topics")
    found: dict[int, list[FreshEvent]] = {}
    for chat_id, pk, text, symbols, topics, direction, intensity, fired_at in rows.values_list(
        *fields, "marketevent__direction", "marketevent__intensity", "marketevent__fired_at"
    ):
        event = FreshEvent(pk, text, tuple(symbols or ()), tuple(topics or ()), direction, intensity, fired_at)
        found.setdefault(chat_id, []).append(event)
    return found


def excitement(events: Iterable[FreshEvent], *, now: datetime, scale: float) -> float:
    """The pace multiplier of a chat with these fresh events: 1 + Σ BURST_GAIN · intensity · exp(-t/τ)."""
    return 1.0 + sum(event.excitement(now, scale=scale) for event in events)

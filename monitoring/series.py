"""Per-minute series for the dashboard's charts, aggregated in the database from messages and turns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMinute
from django.utils import timezone

from chats.models import Message
from engine.models import Turn

SERIES_MINUTES = 60


def _per_minute(queryset: QuerySet[Any], field: str, **aggregates: Any) -> dict[dt.datetime, dict[str, Any]]:
    rows = queryset.annotate(minute=TruncMinute(field)).values("minute").annotate(**aggregates)
    return {row.pop("minute"): row for row in rows}


def activity_series(*, minutes: int = SERIES_MINUTES, now: dt.datetime | None = None) -> dict[str, Any]:
    """Bot messages in the last 60 s; messages, failed turns, LLM latency and tokens per minute (oldest first)."""
    end = (now or timezone.now()).replace(second=0, microsecond=0)
    buckets = [end - dt.timedelta(minutes=back) for back in range(minutes - 1, -1, -1)]
    start = buckets[0]
    messages = _per_minute(
        Message.objects.filter(created_at__gte=start),
        "created_at",
        bots=Count("id", filter=Q(bot__isnull=False)),
        members=Count("id", filter=Q(bot__isnull=True)),
    )
    llm = _per_minute(
        Turn.objects.filter(ready_at__gte=start, llm_calls__gt=0),
        "ready_at",
        latency_avg=Avg("llm_latency_ms"),
        latency_max=Max("llm_latency_ms"),
        prompt=Sum("tokens_in"),
        completion=Sum("tokens_out"),
    )
    failed = _per_minute(
        Turn.objects.filter(finished_at__gte=start, status=Turn.Status.FAILED), "finished_at", n=Count("id")
    )
    return {
        "messages_last_minute": Message.objects.filter(
            created_at__gte=(now or timezone.now()) - dt.timedelta(minutes=1), bot__isnull=False
        ).count(),
        "minutes": [int(minute.timestamp()) for minute in buckets],
        "bot_messages": [messages.get(minute, {}).get("bots", 0) for minute in buckets],
        "member_messages": [messages.get(minute, {}).get("members", 0) for minute in buckets],
        "failed_turns": [failed.get(minute, {}).get("n", 0) for minute in buckets],
        "llm_latency_ms_avg": [_rounded(llm.get(minute, {}).get("latency_avg")) for minute in buckets],
        "llm_latency_ms_max": [llm.get(minute, {}).get("latency_max") for minute in buckets],
        "tokens_prompt": [llm.get(minute, {}).get("prompt") or 0 for minute in buckets],
        "tokens_completion": [llm.get(minute, {}).get("completion") or 0 for minute in buckets],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)

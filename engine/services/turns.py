"""Turn writes: atomic status transitions (the only place a status changes, so outcomes are counted here)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.models import Turn
from monitoring import metrics


def turn_transition(
    *, turn_id: int, from_status: str, to_status: str, turn_kind: str | None = None, **fields: Any
) -> bool:
    """Move a turn from one status to another if, and only if, it is still in from_status.

    A conditional UPDATE that must change exactly one row: two workers racing for the same
    turn cannot both win, so no turn is generated or sent twice. `turn_kind`, when the caller knows
    it, saves reading it back for the outcome metric.
    """
    if to_status not in Turn.TRANSITIONS.get(from_status, frozenset()):
        raise ValueError(f"a turn cannot go from {from_status} to {to_status}")
    now = timezone.now()
    stamp = Turn.TIMESTAMP_FIELD.get(to_status) or ("finished_at" if to_status in Turn.TERMINAL else "")
    if stamp:
        fields.setdefault(stamp, now)
    changed = Turn.objects.filter(pk=turn_id, status=from_status).update(status=to_status, **fields) == 1
    if changed and to_status in Turn.TERMINAL:
        _count_outcome(turn_id, to_status, turn_kind)
    return changed


def _count_outcome(turn_id: int, outcome: str, kind: str | None) -> None:
    # Counted once the change is committed: a rolled-back transition is not an outcome.
    if kind is None:
        kind = Turn.objects.filter(pk=turn_id).values_list("kind", flat=True).first() or ""
    transaction.on_commit(lambda: metrics.record_turn_outcome(kind, outcome))

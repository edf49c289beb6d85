"""Turn writes: atomic status transitions."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from engine.models import Turn


def turn_transition(*, turn_id: int, from_status: str, to_status: str, **fields: Any) -> bool:
    """Move a turn from one status to another if, and only if, it is still in from_status.

    A conditional UPDATE that must change exactly one row: two workers racing for the same
    turn cannot both win, so no turn is generated or sent twice.
    """
    if to_status not in Turn.TRANSITIONS.get(from_status, frozenset()):
        raise ValueError(f"a turn cannot go from {from_status} to {to_status}")
    now = timezone.now()
    stamp = Turn.TIMESTAMP_FIELD.get(to_status) or ("finished_at" if to_status in Turn.TERMINAL else "")
    if stamp:
        fields.setdefault(stamp, now)
    changed = Turn.objects.filter(pk=turn_id, status=from_status).update(status=to_status, **fields)
    return changed == 1

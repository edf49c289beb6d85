"""Turn writes: atomic status transitions (the only place a status changes, so outcomes are counted here)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine import queries
from engine.models import Turn
from monitoring import metrics


class Outcome(StrEnum):
    """What a pipeline step did with a turn: the jobs return one per turn id."""

    READY = "ready"  # written; its typing and send are scheduled
    RETRY = "retry"  # the LLM or Telegram asked to wait: scheduled again
    DEFERRED = "deferred"  # a limit had no room: the send waits for it
    RATE_LIMITED = "rate_limited"  # Telegram's 429: the bot waits, the turn is ready again
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"  # the send may have reached Telegram: never resent
    NOT_CLAIMED = "not_claimed"  # another job claimed it first
    LOST_CLAIM = "lost_claim"  # the recovery sweep took it back meanwhile
    NOT_READY = "not_ready"  # no longer waiting to be sent when the job looked


def turn_transition(
    *, turn_id: int, from_status: str, to_status: str, turn_kind: str | None = None, **fields: Any
) -> bool:
    """Move a turn from one status to another if, and only if, it is still in from_status.

    A conditional UPDATE that must change exactly one row: two workers racing for the same
    turn cannot both win, so no turn is generated or sent twice. `turn_kind`, when the caller knows
    it, saves reading it back for the outcome metric.
    """
    kinds = {turn_id: turn_kind} if turn_kind is not None else None
    return bool(
        turns_transition(turn_ids=[turn_id], from_status=from_status, to_status=to_status, kinds=kinds, **fields)
    )


def turns_transition(
    *,
    turn_ids: list[int],
    from_status: str,
    to_status: str,
    kinds: Mapping[int, str] | None = None,
    increments: Mapping[str, int] | None = None,
    **fields: Any,
) -> list[int]:
    """Move several turns in one conditional UPDATE: the ids (in the order given) that were still in from_status.

    Each row moves at most once, as with `turn_transition`, so two workers claiming overlapping batches never
    share a turn. `increments` add to counters (field → amount). A terminal status counts each moved turn's
    outcome (`kinds` saves reading them back).
    """
    if not turn_ids:
        return []
    for name, value in fields.items():
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{name}: an expression; add to a counter with increments={{{name!r}: n}}")
    values = {"status": to_status, **fields, **_stamp(from_status, to_status, fields)}
    moved = queries.turns_move(turn_ids, from_status=from_status, values=values, increments=increments or {})
    return _won(turn_ids, moved, to_status, kinds)


def turns_transition_each(
    *, rows: Mapping[int, dict[str, Any]], from_status: str, to_status: str, kinds: Mapping[int, str] | None = None
) -> list[int]:
    """`turns_transition` with each turn's own values (the same fields in every row), in one UPDATE for all:
    the ids (in the order given) that were still in from_status.

    A batch's turns become `ready` (or `sent`, each with its message) together this way.
    """
    if not rows:
        return []
    shared = {"status": to_status, **_stamp(from_status, to_status, {})}
    moved = queries.turns_move_each(rows, from_status=from_status, shared=shared)
    return _won(list(rows), moved, to_status, kinds)


def _won(turn_ids: list[int], moved: set[int], to_status: str, kinds: Mapping[int, str] | None) -> list[int]:
    """The moved ids in the order given; a terminal status counts each one's outcome."""
    won = [turn_id for turn_id in turn_ids if turn_id in moved]
    if to_status in Turn.TERMINAL:
        for turn_id in won:
            _count_outcome(turn_id, to_status, (kinds or {}).get(turn_id))
    return won


def _stamp(from_status: str, to_status: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The transition's timestamp field, unless the caller set it; a transition outside the status machine raises."""
    if to_status not in Turn.TRANSITIONS.get(from_status, frozenset()):
        raise ValueError(f"a turn cannot go from {from_status} to {to_status}")
    stamp = Turn.TIMESTAMP_FIELD.get(to_status) or ("finished_at" if to_status in Turn.TERMINAL else "")
    return {stamp: timezone.now()} if stamp and stamp not in fields else {}


def _count_outcome(turn_id: int, outcome: str, kind: str | None) -> None:
    # Counted once the change is committed: a rolled-back transition is not an outcome.
    if kind is None:
        kind = Turn.objects.filter(pk=turn_id).values_list("kind", flat=True).first() or ""
    transaction.on_commit(lambda: metrics.record_turn_outcome(kind, outcome))

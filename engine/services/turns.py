"""Turn writes: atomic status transitions (the only place a status changes, so outcomes are counted here)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from config import sql
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
    kinds = {turn_id: turn_kind} if turn_kind is not None else None
    return bool(
        turns_transition(turn_ids=[turn_id], from_status=from_status, to_status=to_status, kinds=kinds, **fields)
    )


def turns_transition(
    *, turn_ids: list[int], from_status: str, to_status: str, kinds: Mapping[int, str] | None = None, **fields: Any
) -> list[int]:
    """Move several turns in one conditional UPDATE: the ids (in the order given) that were still in from_status.

    Each row moves at most once, as with `turn_transition`, so two workers claiming overlapping batches never
    share a turn. A terminal status counts each moved turn's outcome (`kinds` saves reading them back).
    """
    if not turn_ids:
        return []
    _stamp(from_status, to_status, fields)
    values = {"status": to_status, **fields}
    expressions = {name: _increment(value) for name, value in values.items() if hasattr(value, "resolve_expression")}
    increments = {name: increment for name, increment in expressions.items() if increment is not None}
    if len(increments) == len(expressions):
        # Every claim and status change: SQL built once per set of fields and number of turns (compiling the
        # UPDATE afresh cost a millisecond a batch).
        sources = tuple((name, increments[name][0] if name in increments else None) for name in values)
        statement = _update_many_sql(connection.vendor, sources, len(turn_ids))
        params = [
            increments[name][1] if name in increments else _prepared(name, value) for name, value in values.items()
        ]
        params += [*turn_ids, from_status]
    else:  # another expression (a Case, say): the ORM compiles it
        # QuerySet.update() returns only a row count; UPDATE ... RETURNING (PostgreSQL, SQLite ≥ 3.35) says which.
        query = cast(UpdateQuery, Turn.objects.filter(pk__in=turn_ids, status=from_status).query.chain(UpdateQuery))
        query.add_update_values(values)
        compiled, params = query.get_compiler(connection.alias).as_sql()
        statement = f"{compiled} RETURNING {connection.ops.quote_name('id')}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        moved = {row[0] for row in cursor.fetchall()}
    return _won(turn_ids, moved, to_status, kinds)


def turns_transition_each(
    *, rows: Mapping[int, dict[str, Any]], from_status: str, to_status: str, kinds: Mapping[int, str] | None = None
) -> list[int]:
    """`turns_transition` with each turn's own values (the same fields in every row), in one UPDATE for all:
    the ids (in the order given) that were still in from_status.

    A batch's turns become `ready` (or `sent`, each with its message) together this way: one statement, its
    SQL built once per set of fields, instead of an UPDATE a turn. Values are prepared for the database as
    `QuerySet.update` does.
    """
    if not rows:
        return []
    shared: dict[str, Any] = {"status": to_status}
    _stamp(from_status, to_status, shared)
    names = ("id", *next(iter(rows.values())))
    params: list[Any] = []
    for turn_id, values in rows.items():
        params += [_prepared("id", turn_id), *(_prepared(name, values[name]) for name in names[1:])]
    params += [_prepared(name, value) for name, value in shared.items()]
    with connection.cursor() as cursor:
        cursor.execute(_update_each_sql(connection.vendor, len(rows), names, tuple(shared)), [*params, from_status])
        moved = {row[0] for row in cursor.fetchall()}
    return _won(list(rows), moved, to_status, kinds)


def _won(turn_ids: list[int], moved: set[int], to_status: str, kinds: Mapping[int, str] | None) -> list[int]:
    """The moved ids in the order given; a terminal status counts each one's outcome."""
    won = [turn_id for turn_id in turn_ids if turn_id in moved]
    if to_status in Turn.TERMINAL:
        for turn_id in won:
            _count_outcome(turn_id, to_status, (kinds or {}).get(turn_id))
    return won


def _prepared(name: str, value: Any) -> Any:
    """A field's value prepared for the database exactly as `QuerySet.update` prepares it."""
    field = sql.field(Turn, name)
    if hasattr(value, "prepare_database_save"):
        value = value.prepare_database_save(field)  # a model instance: its primary key
    return field.get_db_prep_save(value, connection=connection)


def _increment(value: Any) -> tuple[str, int] | None:
    """`F(name) + n` as (name, n); None for any other value."""
    if not isinstance(value, CombinedExpression) or value.connector != "+":
        return None
    lhs, rhs = value.lhs, value.rhs
    if isinstance(lhs, F) and isinstance(rhs, Value) and isinstance(rhs.value, int):
        return lhs.deconstruct()[1][0], rhs.value
    return None


@cache
def _update_many_sql(vendor: str, fields: tuple[tuple[str, str | None], ...], count: int) -> str:
    """UPDATE … SET each field to a value (or to a source field plus an amount) WHERE id IN (…) AND status …
    RETURNING id."""
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(_column(name))} = {quote(_column(source)) + ' + ' if source else ''}%s" for name, source in fields
    )
    ids = ", ".join(["%s"] * count)
    table = quote(Turn._meta.db_table)
    return (
        f"UPDATE {table} SET {assignments} WHERE {quote('id')} IN ({ids}) AND {quote('status')} = %s "
        f"RETURNING {quote('id')}"
    )


@cache
def _update_each_sql(vendor: str, count: int, names: tuple[str, ...], shared: tuple[str, ...]) -> str:
    """WITH v (id, …) AS (VALUES (…), …) UPDATE … FROM v (PostgreSQL; SQLite ≥ 3.33). PostgreSQL takes the VALUES'
    types from the first row, so that row carries casts."""
    quote = connection.ops.quote_name
    table, columns = quote(Turn._meta.db_table), [quote(_column(name)) for name in names]
    row = [f"CAST(%s AS {_db_type(name)})" if vendor == "postgresql" else "%s" for name in names]
    values = ", ".join([f"({', '.join(row)})", *[f"({', '.join(['%s'] * len(names))})"] * (count - 1)])
    assignments = [f"{column} = v.{column}" for column in columns[1:]]
    assignments += [f"{quote(_column(name))} = %s" for name in shared]
    return (
        f"WITH v ({', '.join(columns)}) AS (VALUES {values}) UPDATE {table} SET {', '.join(assignments)} FROM v "
        f"WHERE {table}.{quote('id')} = v.{quote('id')} AND {table}.{quote('status')} = %s "
        f"RETURNING {table}.{quote('id')}"
    )


def _column(name: str) -> str:
    return sql.column(Turn, name)


def _db_type(name: str) -> str:
    field = sql.field(Turn, name)
    # The primary key's own type may carry an identity clause; a reference to it has the plain type.
    db_type = field.rel_db_type(connection) if field.primary_key else field.db_type(connection)
    assert db_type is not None  # every concrete column has one
    return db_type


def _stamp(from_status: str, to_status: str, fields: dict[str, Any]) -> None:
    """Check the transition is allowed and add its timestamp to the fields written."""
    if to_status not in Turn.TRANSITIONS.get(from_status, frozenset()):
        raise ValueError(f"a turn cannot go from {from_status} to {to_status}")
    stamp = Turn.TIMESTAMP_FIELD.get(to_status) or ("finished_at" if to_status in Turn.TERMINAL else "")
    if stamp:
        fields.setdefault(stamp, timezone.now())


def _count_outcome(turn_id: int, outcome: str, kind: str | None) -> None:
    # Counted once the change is committed: a rolled-back transition is not an outcome.
    if kind is None:
        kind = Turn.objects.filter(pk=turn_id).values_list("kind", flat=True).first() or ""
    transaction.on_commit(lambda: metrics.record_turn_outcome(kind, outcome))

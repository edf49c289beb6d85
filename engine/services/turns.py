"""Turn writes: atomic status transitions (the only place a status changes, so outcomes are counted here)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import F, Field, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.sql import UpdateQuery
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
    _stamp(from_status, to_status, fields)
    if any(hasattr(value, "resolve_expression") for value in fields.values()):  # F(), Case(): the ORM compiles them
        changed = Turn.objects.filter(pk=turn_id, status=from_status).update(status=to_status, **fields) == 1
    else:
        changed = _update_one(turn_id, from_status, {"status": to_status, **fields})
    if changed and to_status in Turn.TERMINAL:
        _count_outcome(turn_id, to_status, turn_kind)
    return changed


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
    if all(_increment(value) is not None for value in values.values() if hasattr(value, "resolve_expression")):
        # The claims of every batch: SQL built once per set of fields and number of turns (compiling the UPDATE
        # afresh cost a millisecond a batch).
        sql = _update_many_sql(
            connection.vendor, tuple((name, _increment(value)) for name, value in values.items()), len(turn_ids)
        )
        params = [*_prepared_or_increments(values), *turn_ids, from_status]
    else:
        # QuerySet.update() returns only a row count; UPDATE ... RETURNING (PostgreSQL, SQLite ≥ 3.35) says which.
        query = cast(UpdateQuery, Turn.objects.filter(pk__in=turn_ids, status=from_status).query.chain(UpdateQuery))
        query.add_update_values(values)
        sql, params = query.get_compiler(connection.alias).as_sql()
        sql = f"{sql} RETURNING {connection.ops.quote_name('id')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
        params += _prepared(names, [turn_id, *(values[name] for name in names[1:])])
    params += _prepared(tuple(shared), list(shared.values()))
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


def _update_one(turn_id: int, from_status: str, values: dict[str, Any]) -> bool:
    """The conditional UPDATE of one turn with plain values, its SQL built once per set of fields.

    The ORM compiles an UPDATE afresh on every call; on the hot path that was most of the cost.
    """
    with connection.cursor() as cursor:
        sql = _update_sql(connection.vendor, tuple(values))
        cursor.execute(sql, [*_prepared(tuple(values), list(values.values())), turn_id, from_status])
        return bool(cursor.rowcount == 1)


def _prepared(names: tuple[str, ...], values: list[Any]) -> list[Any]:
    """Values prepared for the database exactly as `QuerySet.update` prepares them."""
    params = []
    for name, value in zip(names, values, strict=True):
        field = _field(name)
        if hasattr(value, "prepare_database_save"):
            value = value.prepare_database_save(field)  # a model instance: its primary key
        params.append(field.get_db_prep_save(value, connection=connection))
    return params


def _increment(value: Any) -> tuple[str, int] | None:
    """`F(name) + n` as (name, n); None for any other value."""
    if not isinstance(value, CombinedExpression) or value.connector != "+":
        return None
    lhs, rhs = value.lhs, value.rhs
    if isinstance(lhs, F) and isinstance(rhs, Value) and isinstance(rhs.value, int):
        return lhs.deconstruct()[1][0], rhs.value
    return None


def _prepared_or_increments(values: dict[str, Any]) -> list[Any]:
    """The parameters of `_update_many_sql`'s assignments: each value prepared, or an increment's amount."""
    params: list[Any] = []
    for name, value in values.items():
        increment = _increment(value)
        params += [increment[1]] if increment is not None else _prepared((name,), [value])
    return params


@cache
def _update_many_sql(vendor: str, fields: tuple[tuple[str, tuple[str, int] | None], ...], count: int) -> str:
    """UPDATE … SET each field to a value (or a field plus an amount) WHERE id IN (…) AND status … RETURNING id."""
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(_column(name))} = {quote(_column(increment[0])) + ' + ' if increment else ''}%s"
        for name, increment in fields
    )
    ids = ", ".join(["%s"] * count)
    table = quote(Turn._meta.db_table)
    return (
        f"UPDATE {table} SET {assignments} WHERE {quote('id')} IN ({ids}) AND {quote('status')} = %s "
        f"RETURNING {quote('id')}"
    )


@cache
def _field(name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", Turn._meta.get_field(name))


@cache
def _update_sql(vendor: str, names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(name))} = %s" for name in names)
    table = quote(Turn._meta.db_table)
    return f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s AND {quote('status')} = %s"


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
    column = _field(name).column
    assert column is not None  # a concrete field
    return column


def _db_type(name: str) -> str:
    field = _field(name)
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

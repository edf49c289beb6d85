"""Statements shared by every app that the ORM cannot make cheaply, each with its plain-ORM reference.

Why hand-built at all: the ORM compiles a statement afresh on every call, which costs more CPU than running it for
the engine's per-batch statements (docs/decisions/018-prepared-turn-writes.md). Each one here is SQL built once per
shape and bound to each call's values; its `*_orm` twin says what it means, and a test holds the two to the same
rows on SQLite and on PostgreSQL. Apps keep their own such statements in their `queries.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models import F

# The vendors every hand-built statement is written and tested for (CI runs the suite on both).
SUPPORTED_VENDORS = frozenset({"postgresql", "sqlite"})


def require_supported_vendor(vendor: str) -> None:
    """Refuse, at start-up, a database the hand-built statements were never written for."""
    if vendor not in SUPPORTED_VENDORS:
        supported = " or ".join(sorted(SUPPORTED_VENDORS))
        raise ImproperlyConfigured(f"Piyasa runs on {supported}; DATABASE_URL names a {vendor} database")


def database_ping() -> None:
    """One round trip to the database (`SELECT 1`); raises the driver's error when it is unreachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def add_to_counts(model: type[models.Model], field_name: str, counts: Mapping[int, int], **values: Any) -> None:
    """Add each row's amount to a counter field (primary key → amount) and set `values` on those rows.

    One UPDATE per distinct amount (a batch's uses are one each, almost always).
    """
    params = [field(model, name).get_db_prep_save(value, connection) for name, value in values.items()]
    for amount in sorted(set(counts.values())):
        ids = [pk for pk, count in counts.items() if count == amount]
        with connection.cursor() as cursor:
            cursor.execute(_add_sql(model, field_name, tuple(values), len(ids)), [amount, *params, *ids])


def add_to_counts_orm(model: type[models.Model], field_name: str, counts: Mapping[int, int], **values: Any) -> None:
    """`add_to_counts` through the ORM: the reference it is tested against."""
    for amount in sorted(set(counts.values())):
        ids = [pk for pk, count in counts.items() if count == amount]
        model._default_manager.filter(pk__in=ids).update(**{field_name: F(field_name) + amount}, **values)


@cache
def _add_sql(model: type[models.Model], field_name: str, names: tuple[str, ...], count: int) -> str:
    quote = connection.ops.quote_name
    counter = quote(column(model, field_name))
    assignments = [f"{counter} = {counter} + %s", *(f"{quote(column(model, name))} = %s" for name in names)]
    primary_key = quote(column(model, model._meta.pk.name))
    ids = ", ".join(["%s"] * count)
    return f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} WHERE {primary_key} IN ({ids})"


def column(model: type[models.Model], name: str) -> str:
    """The database column of one of the model's fields."""
    column = field(model, name).column
    assert column is not None  # a concrete field
    return column


@cache
def field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """One of the model's own fields (a column, not a relation's other side)."""
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


def prepared(model: type[models.Model], name: str, value: Any) -> Any:
    """A field's value prepared for the database exactly as `QuerySet.update` prepares it."""
    target = field(model, name)
    if hasattr(value, "prepare_database_save"):
        value = value.prepare_database_save(target)  # a model instance: its primary key
    return target.get_db_prep_save(value, connection=connection)

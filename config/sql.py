"""Hot-path writes whose SQL is built once per shape (the ORM compiles an UPDATE afresh on every call)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection, models


def add_to_counts(model: type[models.Model], field: str, counts: Mapping[int, int], **values: Any) -> None:
    """Add each row's amount to a counter field (primary key → amount) and set `values` on those rows.

    One UPDATE per distinct amount: the engine counts a batch's uses (one each, almost always) this way.
    """
    for amount in sorted(set(counts.values())):
        ids = [pk for pk, count in counts.items() if count == amount]
        params = [_field(model, name).get_db_prep_save(value, connection) for name, value in values.items()]
        with connection.cursor() as cursor:
            cursor.execute(_add_sql(connection.vendor, model, field, tuple(values), len(ids)), [amount, *params, *ids])


@cache
def _add_sql(vendor: str, model: type[models.Model], field: str, names: tuple[str, ...], count: int) -> str:
    quote = connection.ops.quote_name
    column = quote(_column(model, field))
    assignments = [f"{column} = {column} + %s", *(f"{quote(_column(model, name))} = %s" for name in names)]
    primary_key = quote(_column(model, model._meta.pk.name))
    ids = ", ".join(["%s"] * count)
    return f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} WHERE {primary_key} IN ({ids})"


def _column(model: type[models.Model], name: str) -> str:
    column = _field(model, name).column
    assert column is not None  # a concrete field
    return column


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)  # a column of the model, not a relation's other side
    return field

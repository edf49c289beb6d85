"""Hot-path statements whose SQL is built once per shape (the ORM compiles a query afresh on every call)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection, models


def add_to_counts(model: type[models.Model], field_name: str, counts: Mapping[int, int], **values: Any) -> None:
    """Add each row's amount to a counter field (primary key → amount) and set `values` on those rows.

    One UPDATE per distinct amount: the engine counts a batch's uses (one each, almost always) this way.
    """
    params = [field(model, name).get_db_prep_save(value, connection) for name, value in values.items()]
    for amount in sorted(set(counts.values())):
        ids = [pk for pk, count in counts.items() if count == amount]
        with connection.cursor() as cursor:
            cursor.execute(
                _add_sql(connection.vendor, model, field_name, tuple(values), len(ids)), [amount, *params, *ids]
            )


@cache
def _add_sql(vendor: str, model: type[models.Model], field_name: str, names: tuple[str, ...], count: int) -> str:
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

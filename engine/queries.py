"""The engine's hand-built statements, each named, each with its plain-ORM reference (`*_orm`).

Why hand-built: they run for every batch of turns, and the ORM compiles a statement afresh on every call, which
costs more CPU than running it (docs/decisions/018-prepared-turn-writes.md, docs/decisions/019-prepared-hot-reads.md).
Each is SQL built once per shape (the batch's size) and bound to the batch's values; its reference says what it
means, and a test holds the two to the same rows on SQLite and on PostgreSQL (config.queries.SUPPORTED_VENDORS,
checked at start-up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.fields.json import KT
from django.db.models.functions import RowNumber
from django.utils import timezone

from bots.models import Bot
from chats.models import Message
from config.queries import column, field, prepared
from engine.models import Turn


class HistoryRow(NamedTuple):
    """A message of a chat's history with its bot's name, as `messages_since` reads it."""

    chat_id: int
    pk: int
    bot_id: int | None
    bot_name: str | None
    bot_username: str | None
    sender_name: str
    sender_username: str
    sender_is_bot: bool
    text: str
    created_at: datetime
    telegram_message_id: int | None
    reply_to_id: int | None
    thread_id: int | None  # the forum topic it is in; None: General, or a chat without topics
    addressed_bot_id: int | None  # the bot a member's message is for: the bot of its priority reply, unless dropped


DROPPED = (Turn.Status.SKIPPED, Turn.Status.FAILED)  # turns that ended without a message
HISTORY_FIELDS = (
    "chat_id",
    "id",
    "bot_id",
    "bot__name",
    "bot__username",
    "sender_name",
    "sender_username",
    "sender_is_bot",
    "text",
    "created_at",
    "telegram_message_id",
    "reply_to_id",
    "thread_id",
    "addressed_bot_id",
)
Scope = tuple[int, int | None]  # (chat, forum thread): one history; a chat without topics is all thread None


def history_values(messages: QuerySet[Message]) -> QuerySet[Message, tuple[Any, ...]]:
    """The messages as `HistoryRow` values (their addressed bot annotated): what `messages_since` reads, by the ORM.

    A priority reply that was skipped or failed addresses no one: the message is anyone's to answer again.
    """
    priority = Turn.objects.filter(reply_to=OuterRef("pk"), kind=Turn.Kind.PRIORITY_REPLY).exclude(status__in=DROPPED)
    return messages.annotate(addressed_bot_id=Subquery(priority.values("bot_id")[:1])).values_list(*HISTORY_FIELDS)


def messages_since(bounds: Sequence[tuple[int, int | None, datetime | None]]) -> list[HistoryRow]:
    """Each (chat, thread)'s messages since its bound (all of them when None), newest first per chat, with their
    bots' names.

    A filter of one condition group per (chat, thread): the ORM compiled it afresh for every batch.
    """
    if not bounds:
        return []
    shapes = sorted(bounds, key=_bound_shape)  # grouped by shape, so a batch's SQL is built once per mix of shapes
    params = [value for chat_id, thread, moment in shapes for value in _bound_params(chat_id, thread, moment)]
    with connection.cursor() as cursor:
        cursor.execute(_messages_since_sql(tuple(_bound_shape(bound) for bound in shapes)), params)
        rows = cursor.fetchall()
    return [HistoryRow._make((*row[:9], _aware(row[9]), *row[10:])) for row in rows]


def messages_since_orm(bounds: Sequence[tuple[int, int | None, datetime | None]]) -> list[HistoryRow]:
    """`messages_since` through the ORM: the reference it is tested against."""
    if not bounds:
        return []
    condition = Q()
    for chat_id, thread, moment in bounds:
        scope = Q(chat_id=chat_id, thread_id=thread)  # thread None: IS NULL
        condition |= scope & Q(created_at__gte=moment) if moment is not None else scope
    rows = history_values(Message.objects.filter(condition).order_by("chat_id", "-created_at", "-id"))
    return [HistoryRow._make(row) for row in rows]


def _bound_shape(bound: tuple[int, int | None, datetime | None]) -> tuple[bool, bool]:
    """(in a thread, bounded in time): what the bound's condition looks like."""
    return bound[1] is not None, bound[2] is not None


def _bound_params(chat_id: int, thread: int | None, moment: datetime | None) -> list[Any]:
    return [chat_id, *([thread] if thread is not None else []), *([_moment(moment)] if moment is not None else [])]


@cache
def _messages_since_sql(shapes: tuple[tuple[bool, bool], ...]) -> str:
    quote = connection.ops.quote_name
    messages, bots, turns = quote(Message._meta.db_table), quote(Bot._meta.db_table), quote(Turn._meta.db_table)
    m = {name: f"m.{quote(name)}" for name in [*HISTORY_FIELDS[:3], *HISTORY_FIELDS[5:13]]}
    thread = {True: f"{m['thread_id']} = %s", False: f"{m['thread_id']} IS NULL"}
    since = {True: f" AND {m['created_at']} >= %s", False: ""}
    conditions = [f"({m['chat_id']} = %s AND {thread[threaded]}{since[bounded]})" for threaded, bounded in shapes]
    # At most one priority reply per message (turn_one_priority_reply), found through the reply_to index.
    dropped = ", ".join(f"'{status.value}'" for status in DROPPED)
    addressed = (
        f"(SELECT t.{quote('bot_id')} FROM {turns} t WHERE t.{quote('reply_to_id')} = {m['id']} "
        f"AND t.{quote('kind')} = '{Turn.Kind.PRIORITY_REPLY.value}' AND t.{quote('status')} NOT IN ({dropped}))"
    )
    return (
        f"SELECT {m['chat_id']}, {m['id']}, {m['bot_id']}, b.{quote('name')}, b.{quote('username')}, "
        f"{m['sender_name']}, {m['sender_username']}, {m['sender_is_bot']}, {m['text']}, {m['created_at']}, "
        f"{m['telegram_message_id']}, {m['reply_to_id']}, {m['thread_id']}, {addressed} "
        f"FROM {messages} m LEFT OUTER JOIN {bots} b ON {m['bot_id']} = b.{quote('id')} "
        f"WHERE {' OR '.join(conditions)} ORDER BY {m['chat_id']}, {m['created_at']} DESC, {m['id']} DESC"
    )


def own_statements(bot_ids: Iterable[int], topics: Iterable[str], limit: int) -> list[tuple[int, str, str]]:
    """(bot, topic, text) of the newest `limit` messages of each bot on each topic (the `topic` of their metadata),
    in rank order: a window over a JSON key, which the ORM compiled afresh for every batch."""
    bots, names = sorted(set(bot_ids)), sorted(set(topics))
    if not bots or not names:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_own_statements_sql(len(bots), len(names)), [*bots, *names, limit])
        return cursor.fetchall()  # rows are tuples already


def own_statements_orm(bot_ids: Iterable[int], topics: Iterable[str], limit: int) -> list[tuple[int, str, str]]:
    """`own_statements` through the ORM: the reference it is tested against."""
    topic = KT("metadata__topic")
    rows = (
        Message.objects.filter(bot_id__in=set(bot_ids), metadata__topic__in=set(topics))
        .annotate(topic=topic, rank=_newest_first([F("bot_id"), topic]))
        .filter(rank__lte=limit)
    )
    return list(rows.order_by("rank").values_list("bot_id", "topic", "text"))


@cache
def _own_statements_sql(bots: int, topics: int) -> str:
    quote = connection.ops.quote_name
    bot, text, created, pk = (quote(name) for name in ("bot_id", "text", "created_at", "id"))
    metadata = quote("metadata")
    topic = f"{metadata} ->> 'topic'" if connection.vendor == "postgresql" else f"json_extract({metadata}, '$.topic')"
    rank = f"ROW_NUMBER() OVER (PARTITION BY {bot}, {topic} ORDER BY {created} DESC, {pk} DESC)"
    return (
        f"SELECT {bot}, {quote('topic')}, {text} FROM (SELECT {bot}, {topic} AS {quote('topic')}, {text}, "
        f"{rank} AS {quote('rank')} FROM {quote(Message._meta.db_table)} WHERE {bot} IN ({_marks(bots)}) "
        f"AND {topic} IN ({_marks(topics)})) ranked WHERE {quote('rank')} <= %s ORDER BY {quote('rank')}"
    )


BotText = tuple[int, int, str, int, int | None]


def recent_bot_texts(chat_ids: Iterable[int], since: datetime, limit: int) -> list[BotText]:
    """(chat, message id, stored normalised text, bot, thread) of each chat's newest `limit` bot messages since
    `since`, newest first per chat: a window the ORM compiled afresh for every batch."""
    ids = sorted(set(chat_ids))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_recent_bot_texts_sql(len(ids)), [*ids, _moment(since), limit])
        return cursor.fetchall()  # rows are tuples already


def recent_bot_texts_orm(chat_ids: Iterable[int], since: datetime, limit: int) -> list[BotText]:
    """`recent_bot_texts` through the ORM: the reference it is tested against."""
    rows = (
        Message.objects.filter(chat_id__in=set(chat_ids), bot__isnull=False, created_at__gte=since)
        .annotate(rank=_newest_first([F("chat_id")]))
        .filter(rank__lte=limit)
    )
    return list(rows.order_by("chat_id", "rank").values_list("chat_id", "id", "text_normalized", "bot_id", "thread_id"))


@cache
def _recent_bot_texts_sql(chats: int) -> str:
    quote = connection.ops.quote_name
    chat, pk, normalized, created, bot, thread = (
        quote(name) for name in ("chat_id", "id", "text_normalized", "created_at", "bot_id", "thread_id")
    )
    rank = f"ROW_NUMBER() OVER (PARTITION BY {chat} ORDER BY {created} DESC, {pk} DESC)"
    return (
        f"SELECT {chat}, {pk}, {normalized}, {bot}, {thread} FROM (SELECT {chat}, {pk}, {normalized}, {bot}, {thread}, "
        f"{rank} AS {quote('rank')} FROM {quote(Message._meta.db_table)} WHERE {chat} IN ({_marks(chats)}) "
        f"AND {bot} IS NOT NULL AND {created} >= %s) ranked WHERE {quote('rank')} <= %s "
        f"ORDER BY {chat}, {quote('rank')}"
    )


def turns_move(
    turn_ids: Sequence[int], *, from_status: str, values: Mapping[str, Any], increments: Mapping[str, int]
) -> set[int]:
    """Set `values` and add `increments` on the turns still in `from_status`, in one conditional UPDATE: the ids it
    moved (`RETURNING id`, which `QuerySet.update` cannot say)."""
    if not turn_ids:
        return set()
    fields = (*((name, None) for name in values), *((name, name) for name in increments))
    params = [*(prepared(Turn, name, value) for name, value in values.items()), *increments.values()]
    with connection.cursor() as cursor:
        cursor.execute(_turns_move_sql(fields, len(turn_ids)), [*params, *turn_ids, from_status])
        return {row[0] for row in cursor.fetchall()}


def turns_move_orm(
    turn_ids: Sequence[int], *, from_status: str, values: Mapping[str, Any], increments: Mapping[str, int]
) -> set[int]:
    """`turns_move` through the ORM (the rows locked, then updated): the reference it is tested against."""
    with transaction.atomic():
        rows = Turn.objects.select_for_update().filter(pk__in=turn_ids, status=from_status)
        moved = set(rows.values_list("pk", flat=True))
        changes = {**values, **{name: F(name) + amount for name, amount in increments.items()}}
        Turn.objects.filter(pk__in=moved).update(**changes)
    return moved


@cache
def _turns_move_sql(fields: tuple[tuple[str, str | None], ...], count: int) -> str:
    """UPDATE … SET each field to a value (or to a source field plus an amount) WHERE id IN (…) AND status = …
    RETURNING id."""
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(_column(name))} = {quote(_column(source)) + ' + ' if source else ''}%s" for name, source in fields
    )
    table = quote(Turn._meta.db_table)
    return (
        f"UPDATE {table} SET {assignments} WHERE {quote('id')} IN ({_marks(count)}) AND {quote('status')} = %s "
        f"RETURNING {quote('id')}"
    )


def turns_move_each(rows: Mapping[int, Mapping[str, Any]], *, from_status: str, shared: Mapping[str, Any]) -> set[int]:
    """Set each turn's own values (the same fields in every row) and the `shared` ones on the turns still in
    `from_status`, in one UPDATE from a VALUES list: the ids it moved."""
    if not rows:
        return set()
    names = ("id", *next(iter(rows.values())))
    params: list[Any] = []
    for turn_id, values in rows.items():
        params += [prepared(Turn, "id", turn_id), *(prepared(Turn, name, values[name]) for name in names[1:])]
    params += [prepared(Turn, name, value) for name, value in shared.items()]
    with connection.cursor() as cursor:
        cursor.execute(_turns_move_each_sql(len(rows), names, tuple(shared)), [*params, from_status])
        return {row[0] for row in cursor.fetchall()}


def turns_move_each_orm(
    rows: Mapping[int, Mapping[str, Any]], *, from_status: str, shared: Mapping[str, Any]
) -> set[int]:
    """`turns_move_each` through the ORM (the rows locked, then one UPDATE each): the reference it is tested against."""
    with transaction.atomic():
        locked = Turn.objects.select_for_update().filter(pk__in=list(rows), status=from_status)
        moved = set(locked.values_list("pk", flat=True))
        for turn_id in moved:
            Turn.objects.filter(pk=turn_id).update(**rows[turn_id], **shared)
    return moved


@cache
def _turns_move_each_sql(count: int, names: tuple[str, ...], shared: tuple[str, ...]) -> str:
    """WITH v (id, …) AS (VALUES (…), …) UPDATE … FROM v (PostgreSQL; SQLite ≥ 3.33). PostgreSQL takes the VALUES'
    types from the first row, so that row carries casts."""
    quote = connection.ops.quote_name
    table, columns = quote(Turn._meta.db_table), [quote(_column(name)) for name in names]
    postgres = connection.vendor == "postgresql"
    row = [f"CAST(%s AS {_db_type(name)})" if postgres else "%s" for name in names]
    values = ", ".join([f"({', '.join(row)})", *[f"({_marks(len(names))})"] * (count - 1)])
    assignments = [f"{column} = v.{column}" for column in columns[1:]]
    assignments += [f"{quote(_column(name))} = %s" for name in shared]
    return (
        f"WITH v ({', '.join(columns)}) AS (VALUES {values}) UPDATE {table} SET {', '.join(assignments)} FROM v "
        f"WHERE {table}.{quote('id')} = v.{quote('id')} AND {table}.{quote('status')} = %s "
        f"RETURNING {table}.{quote('id')}"
    )


def _newest_first(partition: list[Any]) -> Window:
    """Each row's number within its partition, newest first."""
    return Window(RowNumber(), partition_by=partition, order_by=[F("created_at").desc(), F("id").desc()])


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _moment(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _aware(moment: datetime) -> datetime:
    """A datetime as the ORM returns it: SQLite's cursor gives it naive, in the connection's time zone."""
    return timezone.make_aware(moment, connection.timezone) if timezone.is_naive(moment) else moment


def _column(name: str) -> str:
    return column(Turn, name)


def _db_type(name: str) -> str:
    turn_field = field(Turn, name)
    # The primary key's own type may carry an identity clause; a reference to it has the plain type.
    db_type = turn_field.rel_db_type(connection) if turn_field.primary_key else turn_field.db_type(connection)
    assert db_type is not None  # every concrete column has one
    return db_type

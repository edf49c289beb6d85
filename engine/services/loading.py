"""Loading a batch of claimed turns: everything their contexts are built from, in a fixed number of queries.

The batch's size does not change the number of queries (docs/decisions/007-batch-context-loads.md): a turn's chat
and bot come with it, the rest is read for the whole batch as plain rows and handed on as frozen values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from bots.models import Bot, Holding, Memory, Stance
from chats.models import Chat, Membership, Message, speaker_label
from engine import queries
from engine.models import Turn
from engine.runtime_settings import RuntimeConfig
from engine.services import postprocess
from engine.services.events import FreshEvent, fresh_events

R = TypeVar("R", Stance, Holding, Memory)
HISTORY_LIMIT = 20
HOLDINGS_LIMIT = 5
MEMORY_SCAN_LIMIT = 200
DEDUP_SCAN_LIMIT = 200
OWN_TEXTS_LIMIT = 12  # the bot's own recent messages a writer avoids rephrasing the same way (GenerationHints.own)


@dataclass(frozen=True)
class RecentMessage:
    """A message of a chat's history, as a plain row (a Message instance for each line cost far more to build)."""

    pk: int
    bot_id: int | None
    bot_username: str
    speaker_label: str
    sender_is_bot: bool
    text: str
    created_at: datetime
    telegram_message_id: int | None
    reply_to_id: int | None = None  # the message it answers
    thread_id: int | None = None  # the forum topic it is in (None: General, or a chat without topics)
    addressed_bot_id: int | None = None  # for a member's message: the bot it is for (its priority reply's bot)


@dataclass(frozen=True)
class BotFacts:
    """What a bot's prompt states about it: its stances, its first holdings, its most relevant memories."""

    stances: list[Stance]
    holdings: list[Holding]
    memories: list[Memory]


@dataclass(frozen=True)
class RefreshState:
    """Where the bot's persona refresh stands in a chat (kept on its membership)."""

    messages_since_refresh: int
    refreshed_at: datetime | None


@dataclass(frozen=True)
class LoadedTurn:
    """A claimed turn with what its context is built from, as its batch read it."""

    turn: Turn
    chat: Chat
    bot: Bot
    history: list[RecentMessage]  # the latest messages of the turn's thread (a chat without topics: all), oldest first
    target: RecentMessage | None  # the message the turn was planned on (`reply_to`), if any
    facts: BotFacts
    refresh: RefreshState | None  # None when the bot is no longer a member of the chat
    recent_texts: list[str]  # the thread's recent bot messages, normalised, for dedup (empty when dedup is off)
    own_texts: list[str]  # the bot's own among them, newest first, at most OWN_TEXTS_LIMIT
    config: RuntimeConfig  # the chat's own: its overrides over the global settings
    events: tuple[FreshEvent, ...] = ()  # the chat's fresh market events, newest first


def load_batch(turn_ids: list[int], *, config: RuntimeConfig) -> list[LoadedTurn]:
    """The turns (in the order given, those that exist) with everything their contexts need."""
    turns = {turn.pk: turn for turn in Turn.objects.filter(pk__in=turn_ids).select_related("chat", "bot")}
    ordered = [turns[turn_id] for turn_id in turn_ids if turn_id in turns]
    scopes = {_scope(turn) for turn in ordered}
    histories = latest_histories(scopes)
    targets = _targets(ordered, histories)
    facts = bot_facts({turn.bot_id: turn.bot for turn in ordered}.values())
    refresh = _refresh_states(ordered)
    chat_ids = {turn.chat_id for turn in ordered}
    texts = recent_bot_texts(chat_ids, config) if config.dedup_enabled else {}
    events = fresh_events(chat_ids, now=timezone.now(), scale=config.scale_factor)
    configs = {turn.chat_id: config.for_chat(turn.chat.settings_overrides) for turn in ordered}  # once per chat
    return [
        LoadedTurn(
            turn=turn,
            chat=turn.chat,
            bot=turn.bot,
            history=histories[_scope(turn)],
            target=targets.get(turn.reply_to_id) if turn.reply_to_id is not None else None,
            facts=facts[turn.bot_id],
            refresh=refresh.get((turn.chat_id, turn.bot_id)),
            recent_texts=[text for _, text in texts.get(_scope(turn), [])],
            own_texts=[text for bot, text in texts.get(_scope(turn), []) if bot == turn.bot_id][:OWN_TEXTS_LIMIT],
            config=configs[turn.chat_id],
            events=tuple(events.get(turn.chat_id, ())),
        )
        for turn in ordered
    ]


def _scope(turn: Turn) -> queries.Scope:
    """The history a turn speaks into: its chat's, in a forum its thread's."""
    return turn.chat_id, turn.thread_id


def latest_messages(chat_id: int, limit: int = HISTORY_LIMIT, *, thread_id: int | None = None) -> list[RecentMessage]:
    """The latest `limit` messages of a chat (of a forum thread), oldest first (the newest are never cut off)."""
    return latest_histories({(chat_id, thread_id)}, limit)[(chat_id, thread_id)]


def latest_histories(
    scopes: set[queries.Scope], limit: int = HISTORY_LIMIT
) -> dict[queries.Scope, list[RecentMessage]]:
    """Each (chat, thread)'s latest `limit` messages, oldest first; two index-bound queries.

    The time of each one's `limit`-th newest message is looked up first (one index probe each), then only the
    messages since then are read: a window ranking each chat's messages would read all it ever had
    (docs/decisions/020-index-bound-histories.md).
    """
    histories: dict[queries.Scope, list[RecentMessage]] = {scope: [] for scope in scopes}
    for row in queries.messages_since(_history_bounds(scopes, limit)):
        history = histories.get((row.chat_id, row.thread_id))
        if history is not None and len(history) < limit:  # messages tied with the oldest kept one may come too
            history.append(_recent(row))
    for history in histories.values():
        history.reverse()
    return histories


def _history_bounds(scopes: set[queries.Scope], limit: int) -> list[tuple[int, int | None, datetime | None]]:
    """When each scope's `limit`-th newest message was written (None: it has fewer), in one query over the chats:
    a bound per thread met in the batch (a chat without topics has one, thread None)."""
    threads = sorted({thread for _, thread in scopes}, key=lambda thread: -1 if thread is None else thread)
    newest = Message.objects.filter(chat_id=OuterRef("pk")).order_by("-created_at", "-id")
    since = {
        f"since_{index}": Subquery(newest.filter(thread_id=thread).values("created_at")[limit - 1 : limit])
        for index, thread in enumerate(threads)
    }
    rows = Chat.objects.filter(pk__in={chat_id for chat_id, _ in scopes}).annotate(**since).values("pk", *since)
    return [
        (row["pk"], thread, row[f"since_{index}"])
        for row in rows
        for index, thread in enumerate(threads)
        if (row["pk"], thread) in scopes
    ]


def _recent(row: queries.HistoryRow) -> RecentMessage:
    label = speaker_label(row.bot_name, row.sender_name, row.sender_username)
    return RecentMessage(
        row.pk,
        row.bot_id,
        row.bot_username or "",
        label,
        row.sender_is_bot,
        row.text,
        row.created_at,
        row.telegram_message_id,
        row.reply_to_id,
        row.thread_id,
        row.addressed_bot_id,
    )


def _targets(turns: list[Turn], histories: dict[queries.Scope, list[RecentMessage]]) -> dict[int, RecentMessage]:
    """The messages the turns were planned on: from their threads' histories, the older ones in one query."""
    found = {message.pk: message for turn in turns for message in histories[_scope(turn)]}
    missing = {turn.reply_to_id for turn in turns if turn.reply_to_id is not None and turn.reply_to_id not in found}
    if missing:
        rows = queries.history_values(Message.objects.filter(pk__in=missing))
        found |= {row[1]: _recent(queries.HistoryRow(*row)) for row in rows}
    return found


def _refresh_states(turns: list[Turn]) -> dict[tuple[int, int], RefreshState]:
    """Each (chat, bot) membership's refresh state, as plain rows (a subquery per field on the turns cost more)."""
    rows = Membership.objects.filter(
        chat_id__in={turn.chat_id for turn in turns}, bot_id__in={turn.bot_id for turn in turns}
    ).values_list("chat_id", "bot_id", "messages_since_refresh", "persona_refreshed_at")
    return {(chat_id, bot_id): RefreshState(count, at) for chat_id, bot_id, count, at in rows}


def bot_facts(bots: Iterable[Bot]) -> dict[int, BotFacts]:
    """Each bot's stances, first HOLDINGS_LIMIT holdings and MEMORY_SCAN_LIMIT most relevant memories: three
    queries for any number of bots (docs/decisions/022-bot-facts-plain-queries.md)."""
    ids = {bot.pk for bot in bots}
    stances = _by_bot(Stance.objects.filter(bot_id__in=ids), ["topic"], len(ids), limit=None)
    holdings = _by_bot(Holding.objects.filter(bot_id__in=ids), ["symbol"], len(ids), limit=HOLDINGS_LIMIT)
    memories = _by_bot(
        Memory.objects.filter(bot_id__in=ids), [F("relevance").desc(), "id"], len(ids), limit=MEMORY_SCAN_LIMIT
    )
    return {
        bot_id: BotFacts(stances.get(bot_id, []), holdings.get(bot_id, []), memories.get(bot_id, [])) for bot_id in ids
    }


def _by_bot(rows: QuerySet[R], order: list[Any], bots: int, *, limit: int | None) -> dict[int, list[R]]:
    """Each bot's rows in `order`, the first `limit` of each: one plain query bounded by limit × bots, ranked per
    bot only when that bound is reached (a bot rarely has more rows than the limit)."""
    found: list[R] = list(rows.order_by("bot_id", *order)[: None if limit is None else limit * bots])
    if limit is not None and len(found) == limit * bots:  # some bot may have more: rank within each bot
        ranked = rows.annotate(rank=Window(RowNumber(), partition_by=F("bot_id"), order_by=order))
        found = list(ranked.filter(rank__lte=limit).order_by("bot_id", *order))
    grouped: dict[int, list[R]] = {}
    for row in found:  # under the bound one bot may still have more than `limit` (when another has fewer)
        of_bot = grouped.setdefault(row.bot_id, [])
        if limit is None or len(of_bot) < limit:
            of_bot.append(row)
    return grouped


def recent_bot_texts(chat_ids: set[int], config: RuntimeConfig) -> dict[queries.Scope, list[tuple[int, str]]]:
    """Each (chat, thread)'s bot messages inside the dedup window as (bot, normalised text), newest first, of the
    chat's newest DEDUP_SCAN_LIMIT (a forum's threads share the chat's read: one query whatever the threads).

    Texts come in the form stored with them (docs/decisions/023-dedup-normalised-rapidfuzz.md); a message stored
    without it (not recorded by the engine) is read and folded here, in a second query only when there is one.
    """
    since = timezone.now() - timedelta(hours=config.dedup_window_hours)
    rows = queries.recent_bot_texts(chat_ids, since, DEDUP_SCAN_LIMIT)
    unfolded = [pk for _, pk, normalized, _, _ in rows if not normalized]
    unread = dict(Message.objects.filter(pk__in=unfolded).values_list("pk", "text")) if unfolded else {}
    texts: dict[queries.Scope, list[tuple[int, str]]] = {}
    for chat_id, pk, normalized, bot_id, thread in rows:
        texts.setdefault((chat_id, thread), []).append((bot_id, normalized or postprocess.normalize(unread[pk])))
    return texts

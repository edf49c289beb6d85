"""Context of a turn: the latest history, the reply target, topic, stances, holdings, memories, past statements."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from bots.models import Bot, Holding, Memory, Stance
from bots.schemas import Emotion, Persona
from bots.symbols import symbols_match
from chats.models import Chat, Membership, Message, speaker_label
from engine.models import Turn
from engine.services.news import headline_for
from engine.services.topics import infer_topic, symbols_in, topic_keywords, words

R = TypeVar("R", Stance, Holding, Memory)
HISTORY_LIMIT = 20
TARGET_CANDIDATES = 15
MEMORY_LIMIT = 3
OWN_STATEMENTS_LIMIT = 3
LENGTHS = ("short", "medium", "long")
HEADLINE_REUSE_HOURS = 6
HOLDINGS_LIMIT = 5
MEMORY_SCAN_LIMIT = 200
REFRESH_STATE = "membership_refresh_state"  # (messages since the refresh, when it was), None without a membership
# What a batch loads for `build_context`, by attribute: a chat's history (`add_histories`); a bot's stances,
# holdings and memories (`add_bot_facts`).
LATEST, FACTS = "context_latest_messages", "context_bot_facts"


@dataclass(frozen=True)
class RecentMessage:
    """A message of a chat's latest history, read as a plain row (building a Message for each cost 5× more)."""

    pk: int
    bot_id: int | None
    bot_username: str
    speaker_label: str
    sender_is_bot: bool
    text: str
    created_at: datetime
    telegram_message_id: int | None


Said = Message | RecentMessage  # a reply target: from the history, or the member message a turn answers


@dataclass(frozen=True)
class BotFacts:
    """What a bot's prompt states about it: its stances, its first holdings, its most relevant memories."""

    stances: list[Stance]
    holdings: list[Holding]
    memories: list[Memory]


@dataclass(frozen=True)
class HistoryLine:
    """One line of chat history as the prompt shows it."""

    message_id: int
    speaker: str
    text: str
    is_bot: bool
    is_self: bool
    created_at: datetime


@dataclass
class TurnContext:
    """Everything the prompt of one turn is built from."""

    turn: Turn
    chat: Chat
    bot: Bot
    persona: Persona
    emotion: Emotion
    language: str
    history: list[HistoryLine]
    topic: str
    length: str
    target: Said | None = None
    stances: list[Stance] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    own_statements: list[str] = field(default_factory=list)
    headline: str | None = None
    headline_id: int | None = None
    full_persona: bool = True
    mention: str | None = None


def build_context(turn: Turn, *, config: dict[str, Any], rng: random.Random, statements: bool = True) -> TurnContext:
    """Gather the turn's context in a fixed number of queries, whatever the size of the crowd.

    `statements=False` leaves the bot's past statements to the caller, who reads a batch's in one query
    (`add_own_statements`).
    """
    chat, bot = turn.chat, turn.bot
    persona, emotion = Persona.model_validate(bot.persona), Emotion.model_validate(bot.emotion)
    recent = getattr(chat, LATEST) if hasattr(chat, LATEST) else latest_messages(chat.pk)
    history = [_line(message, bot.pk) for message in recent]
    topic = infer_topic([line.text for line in history], chat.topics) or _preferred_topic(chat.topics, persona, rng)
    context = TurnContext(
        turn=turn,
        chat=chat,
        bot=bot,
        persona=persona,
        emotion=emotion,
        language=persona.language or chat.language,
        history=history,
        topic=topic,
        length=choose_length(config["message_length_profile"], persona.style.length, rng),
    )
    context.target = _target(turn, recent, bot, persona, topic, rng)
    if context.target is not None:
        topic_hint = infer_topic([context.target.text], chat.topics)
        context.topic = topic_hint or context.topic
    facts = bot_facts(bot)
    context.stances = relevant_stances(facts.stances, context.topic)
    context.holdings = facts.holdings
    context.memories = rank_memories(facts.memories, context.topic, context.target)
    if statements:
        add_own_statements([context])
    context.headline_id, context.headline = _headline(context, config, rng)
    context.full_persona = persona_refresh_due(turn, config)
    context.mention = _mention(context, config, rng)
    return context


def latest_messages(chat_id: int, limit: int = HISTORY_LIMIT) -> list[RecentMessage]:
    """The latest `limit` messages of a chat, oldest first (the newest are never cut off)."""
    return latest_histories({chat_id}, limit)[chat_id]


def latest_histories(chat_ids: set[int], limit: int = HISTORY_LIMIT) -> dict[int, list[RecentMessage]]:
    """Each chat's latest `limit` messages, oldest first, as plain rows; two index-bound queries.

    A window ranking each chat's messages (`ROW_NUMBER() … <= limit`) reads every message the chats ever had
    (PostgreSQL stops computing the rank, not reading rows: 278 ms for 16 chats of 50,000 messages). Instead,
    the time of each chat's `limit`-th newest message is looked up (one index probe per chat), and only the
    messages since then are read.
    """
    newest = Message.objects.filter(chat_id=OuterRef("pk")).order_by("-created_at", "-id")
    oldest_kept = Subquery(newest.values("created_at")[limit - 1 : limit])
    since = Chat.objects.filter(pk__in=chat_ids).annotate(since=oldest_kept).values_list("pk", "since")
    histories: dict[int, list[RecentMessage]] = {chat_id: [] for chat_id in chat_ids}
    rows = _messages_since(list(since))
    for chat_id, pk, bot_id, bot_name, bot_username, name, username, sender_is_bot, text, created_at, tg_id in rows:
        history = histories[chat_id]
        if len(history) < limit:  # messages tied with the oldest kept one may come too
            label = speaker_label(bot_name, name, username)
            history.append(RecentMessage(pk, bot_id, bot_username or "", label, sender_is_bot, text, created_at, tg_id))
    for history in histories.values():
        history.reverse()
    return histories


def _messages_since(since: list[tuple[int, datetime | None]]) -> list[tuple[Any, ...]]:
    """Each chat's messages since its time (all of them when None), newest first, with their bots' names.

    SQL built once per number of chats: the ORM compiled a filter of one condition pair per chat afresh for every
    batch (2.7 ms of CPU for 16 chats, more than reading the rows).
    """
    if not since:
        return []
    bounded = [(chat_id, moment) for chat_id, moment in since if moment is not None]
    every = [chat_id for chat_id, moment in since if moment is None]
    params = [
        value for chat_id, moment in bounded for value in (chat_id, connection.ops.adapt_datetimefield_value(moment))
    ]
    with connection.cursor() as cursor:
        cursor.execute(_messages_since_sql(connection.vendor, len(bounded), len(every)), [*params, *every])
        rows = cursor.fetchall()
    return [(*row[:9], _aware(row[9]), row[10]) for row in rows]


@cache
def _messages_since_sql(vendor: str, bounded: int, every: int) -> str:
    quote = connection.ops.quote_name
    messages, bots = quote(Message._meta.db_table), quote(Bot._meta.db_table)
    columns = ["chat_id", "id", "bot_id", "sender_name", "sender_username", "sender_is_bot", "text", "created_at"]
    m = {name: f"m.{quote(name)}" for name in [*columns, "telegram_message_id"]}
    conditions = [f"({m['chat_id']} = %s AND {m['created_at']} >= %s)"] * bounded
    conditions += [f"{m['chat_id']} IN ({', '.join(['%s'] * every)})"] if every else []
    return (
        f"SELECT {m['chat_id']}, {m['id']}, {m['bot_id']}, b.{quote('name')}, b.{quote('username')}, "
        f"{m['sender_name']}, {m['sender_username']}, {m['sender_is_bot']}, {m['text']}, {m['created_at']}, "
        f"{m['telegram_message_id']} FROM {messages} m LEFT OUTER JOIN {bots} b ON {m['bot_id']} = b.{quote('id')} "
        f"WHERE {' OR '.join(conditions)} ORDER BY {m['chat_id']}, {m['created_at']} DESC, {m['id']} DESC"
    )


def _aware(moment: datetime) -> datetime:
    """A datetime as the ORM returns it: SQLite's cursor gives it naive, in the connection's time zone."""
    return timezone.make_aware(moment, connection.timezone) if timezone.is_naive(moment) else moment


def add_histories(turns: list[Turn]) -> None:
    """Load the turns' chats' latest histories for `build_context`, in one query."""
    histories = latest_histories({turn.chat_id for turn in turns})
    for turn in turns:
        setattr(turn.chat, LATEST, histories[turn.chat_id])


def telegram_id_of(chat: Chat, message_id: int) -> int | None:
    """The Telegram id of one of the chat's messages: from its history when the batch loaded it there."""
    for message in getattr(chat, LATEST, []):
        if message.pk == message_id:
            return message.telegram_message_id
    return Message.objects.filter(pk=message_id, chat_id=chat.pk).values_list("telegram_message_id", flat=True).first()


def load_turns(turn_ids: list[int]) -> list[Turn]:
    """Turns with their chat, bot and membership refresh state: what `build_context` reads but the history
    (`add_histories`), the bots' facts (`add_bot_facts`), past statements and headline. Two queries."""
    turns = list(Turn.objects.filter(pk__in=turn_ids).select_related("chat", "bot"))
    # The memberships as plain rows: a subquery per field on the turns' query cost 2 ms to compile a batch.
    memberships = Membership.objects.filter(
        chat_id__in={turn.chat_id for turn in turns}, bot_id__in={turn.bot_id for turn in turns}
    ).values_list("chat_id", "bot_id", "messages_since_refresh", "persona_refreshed_at")
    state = {(chat_id, bot_id): (count, refreshed_at) for chat_id, bot_id, count, refreshed_at in memberships}
    for turn in turns:
        setattr(turn, REFRESH_STATE, state.get((turn.chat_id, turn.bot_id)))
    return turns


def add_bot_facts(bots: Iterable[Bot]) -> None:
    """Load the bots' stances, holdings (the first HOLDINGS_LIMIT) and memories (the MEMORY_SCAN_LIMIT most
    relevant) for `build_context`: three queries for a batch.

    Django's prefetch of the sliced relations compiled a window-ranked query for each batch (0.6 ms of CPU a
    turn); a bot rarely has more rows than the limit, so each is read with one plain query bounded by limit
    × bots, and ranked per bot only when that bound is reached.
    """
    by_id = {bot.pk: bot for bot in bots}
    stances = _by_bot(Stance.objects.filter(bot_id__in=by_id), ["topic"], len(by_id), limit=None)
    holdings = _by_bot(Holding.objects.filter(bot_id__in=by_id), ["symbol"], len(by_id), limit=HOLDINGS_LIMIT)
    memories = _by_bot(
        Memory.objects.filter(bot_id__in=by_id), [F("relevance").desc(), "id"], len(by_id), limit=MEMORY_SCAN_LIMIT
    )
    for bot_id, bot in by_id.items():
        setattr(bot, FACTS, BotFacts(stances.get(bot_id, []), holdings.get(bot_id, []), memories.get(bot_id, [])))


def bot_facts(bot: Bot) -> BotFacts:
    """The bot's facts as its batch loaded them (`add_bot_facts`), or else read now."""
    if not hasattr(bot, FACTS):
        add_bot_facts([bot])
    facts: BotFacts = getattr(bot, FACTS)
    return facts


def _by_bot(rows: QuerySet[R], order: list[Any], bots: int, *, limit: int | None) -> dict[int, list[R]]:
    """Each bot's rows in `order`, the first `limit` of each."""
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


def _line(message: RecentMessage, bot_id: int) -> HistoryLine:
    return HistoryLine(
        message.pk,
        message.speaker_label,
        message.text,
        message.bot_id is not None or message.sender_is_bot,
        message.bot_id == bot_id,
        message.created_at,
    )


def _preferred_topic(topics: list[str], persona: Persona, rng: random.Random) -> str:
    if persona.watchlist and rng.random() < 0.3:
        return rng.choice(persona.watchlist)
    return rng.choice(topics)


def choose_length(profile: dict[str, float], preferred: str, rng: random.Random) -> str:
    """The global length mix, tilted towards the persona's preferred length."""
    weights = [profile[length] * (2.0 if length == preferred else 1.0) for length in LENGTHS]
    return rng.choices(LENGTHS, weights=weights, k=1)[0]


def score_target(message: Said, *, bot: Bot, persona: Persona, topic: str, age_rank: int) -> float:
    """How much a message deserves a reply: members, questions, mentions of this bot, freshness, overlap."""
    score = 1.0 if message.bot_id is None and not message.sender_is_bot else 0.3
    if "?" in message.text:
        score += 0.8
    if bot.username and f"@{bot.username}".casefold() in message.text.casefold():
        score += 3.0
    if topic.casefold() in message.text.casefold():
        score += 0.4
    mentioned = symbols_in(message.text)
    if any(symbols_match(own, other) for own in persona.watchlist for other in mentioned):
        score += 0.6
    return score * math.exp(-age_rank / 5.0)


def _target(
    turn: Turn, recent: list[RecentMessage], bot: Bot, persona: Persona, topic: str, rng: random.Random
) -> Said | None:
    if turn.reply_to_id is not None:
        return next((m for m in recent if m.pk == turn.reply_to_id), None) or turn.reply_to
    if turn.kind != Turn.Kind.REPLY:
        return None
    candidates = [m for m in reversed(recent) if m.bot_id != bot.pk][:TARGET_CANDIDATES]
    if not candidates:
        return None
    scored = sorted(
        (
            (score_target(m, bot=bot, persona=persona, topic=topic, age_rank=rank), m)
            for rank, m in enumerate(candidates)
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )[:3]
    return rng.choices([m for _, m in scored], weights=[s for s, _ in scored], k=1)[0]


def relevant_stances(stances: list[Stance], topic: str) -> list[Stance]:
    """Stances on the topic (or a matching symbol) first, then the rest; at most four."""

    def matches(stance: Stance) -> bool:
        if stance.topic.casefold() == topic.casefold():
            return True
        try:
            return symbols_match(stance.topic, topic)
        except ValueError:
            return False

    return sorted(stances, key=lambda stance: (not matches(stance), -stance.confidence))[:4]


def rank_memories(memories: list[Memory], topic: str, target: Said | None) -> list[Memory]:
    """The memories most relevant to the topic and the message being answered, not the same top-N every time."""
    topic_cue = words(topic) | set(topic_keywords(topic))
    target_cue = words(target.text) if target is not None else set()

    def score(memory: Memory) -> float:
        content = words(memory.content)
        # Topic keywords match word starts, so Turkish suffixes count: "borsa" in "borsada".
        on_topic = sum(1 for cue in topic_cue if any(word.startswith(cue) for word in content))
        return memory.relevance + on_topic + len(target_cue & content) - 0.05 * memory.usage_count

    return sorted(memories, key=score, reverse=True)[:MEMORY_LIMIT]


def add_own_statements(contexts: list[TurnContext]) -> None:
    """Each context's `own_statements` on its topic, in one query for them all."""
    found = own_statements_of({(context.bot.pk, context.topic) for context in contexts})
    for context in contexts:
        context.own_statements = found.get((context.bot.pk, context.topic), [])


def own_statements_of(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], list[str]]:
    """What each bot said about its topic lately, newest first (to stay consistent with itself); one query."""
    if not pairs:
        return {}
    bots, topics = sorted({bot for bot, _ in pairs}), sorted({topic for _, topic in pairs})
    with connection.cursor() as cursor:
        # SQL built once per shape: the ORM compiled this window over a JSON key afresh each batch (2 ms).
        cursor.execute(
            _own_statements_sql(connection.vendor, len(bots), len(topics)), [*bots, *topics, OWN_STATEMENTS_LIMIT]
        )
        rows: list[tuple[int, str, str]] = cursor.fetchall()
    found: dict[tuple[int, str], list[str]] = {}
    for bot_id, message_topic, text in rows:
        if (bot_id, message_topic) in pairs:  # the IN lists also match other bots' topics
            found.setdefault((bot_id, message_topic), []).append(text)
    return found


@cache
def _own_statements_sql(vendor: str, bots: int, topics: int) -> str:
    quote = connection.ops.quote_name
    bot, text, created, pk = (quote(name) for name in ("bot_id", "text", "created_at", "id"))
    topic = {"postgresql": "{} ->> 'topic'", "sqlite": "json_extract({}, '$.topic')"}[vendor].format(quote("metadata"))
    rank = f"ROW_NUMBER() OVER (PARTITION BY {bot}, {topic} ORDER BY {created} DESC, {pk} DESC)"
    return (
        f"SELECT {bot}, {quote('topic')}, {text} FROM (SELECT {bot}, {topic} AS {quote('topic')}, {text}, "
        f"{rank} AS {quote('rank')} FROM {quote(Message._meta.db_table)} WHERE {bot} IN ({', '.join(['%s'] * bots)}) "
        f"AND {topic} IN ({', '.join(['%s'] * topics)})) ranked WHERE {quote('rank')} <= %s ORDER BY {quote('rank')}"
    )


def _headline(context: TurnContext, config: dict[str, Any], rng: random.Random) -> tuple[int | None, str | None]:
    """Sometimes a fresh headline on the topic, not one this chat already used lately."""
    if not config["news_trigger_enabled"] or rng.random() >= config["news_trigger_probability"]:
        return None, None
    since = timezone.now() - timedelta(hours=HEADLINE_REUSE_HOURS)
    used = Turn.objects.filter(chat_id=context.chat.pk, created_at__gte=since, inputs__news_id__isnull=False)
    exclude = {news_id for news_id in used.values_list("inputs__news_id", flat=True) if isinstance(news_id, int)}
    item = headline_for(topic=context.topic, language=context.language, rng=rng, exclude=exclude)
    return (item.pk, item.title) if item is not None else (None, None)


def persona_refresh_due(turn: Turn, config: dict[str, Any]) -> bool:
    """Re-state the full persona every N messages or M minutes (state kept on the membership)."""
    if turn.kind == Turn.Kind.PRIORITY_REPLY:
        return True  # members always get the full persona
    row: tuple[int, datetime | None] | None
    if hasattr(turn, REFRESH_STATE):  # read with the turn (`load_turns`)
        row = getattr(turn, REFRESH_STATE)
    else:
        row = (
            Membership.objects.filter(chat_id=turn.chat_id, bot_id=turn.bot_id)
            .values_list("messages_since_refresh", "persona_refreshed_at")
            .first()
        )
    if row is None or row[1] is None:
        return True
    stale = timezone.now() - row[1] >= timedelta(minutes=config["persona_refresh_minutes"])
    return row[0] >= config["persona_refresh_interval"] or stale


def _mention(context: TurnContext, config: dict[str, Any], rng: random.Random) -> str | None:
    target = context.target
    if target is None or context.turn.kind == Turn.Kind.REACTION:
        return None
    if isinstance(target, RecentMessage):
        username = target.bot_username
    else:
        username = target.bot.username if target.bot_id is not None and target.bot is not None else ""
    if username:
        return username if rng.random() < config["mention_probability"] else None
    return None

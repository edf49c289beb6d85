"""The tick: decide which chats are due, who speaks and how, and create the turns."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import JSONField, OuterRef, Subquery
from django.utils import timezone

from bots.models import Stance
from bots.symbols import symbols_match
from chats.models import Chat, Membership, Message
from engine import seeding
from engine.kinds import kind_spec
from engine.models import Turn
from engine.redis import redis_connection
from engine.runtime_settings import RuntimeConfig
from engine.services import budget, events, limits
from engine.services.activity import activity_level, is_active
from engine.services.dispatch import enqueue_generation
from engine.services.reactions import reactions_possible
from monitoring import metrics

NEXT_AT_KEY = "piyasa:chat:next_at"
TICK_LOCK_KEY = "piyasa:tick:lock"
TICK_LOCK_TTL_S = 60  # longer than any tick; a crashed tick's lock expires
RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
GAP_SHAPE = 3.0
MIN_GAP_S = 1.0  # Telegram allows at most one message per second in a group
ACTIVE_STATUSES = [Turn.Status.PLANNED, Turn.Status.GENERATING, Turn.Status.READY, Turn.Status.SENDING]


@dataclass
class Speaker:
    """A member bot that may speak in a chat."""

    bot_id: int
    name: str
    username: str
    talkativeness: float
    active_hours: list[str]
    speed: dict[str, Any]
    interests: list[str] = field(default_factory=list)  # watchlist symbols and stance topics


@dataclass
class DueChat:
    """A chat that is due for a proactive turn, with what planning needs to know about it."""

    chat_id: int
    timezone: str
    cadence: float
    topics: list[str]
    threads: list[dict[str, Any]] = field(default_factory=list)  # a forum's threads (chats.schemas.ForumThread)
    last_bot_id: int | None = None
    previous_bot_id: int | None = None  # the speaker of the message before the last, when a bot
    last_message_id: int | None = None
    last_topic: str | None = None
    speakers: list[Speaker] = field(default_factory=list)
    can_react: bool = True  # the group allows a reaction a bot can set (getChat's available_reactions)
    excitement: float = 1.0  # the pace multiplier of its fresh market events (engine.services.events)
    event_topic: str | None = None  # the freshest event's first symbol or topic: who cares about it speaks first
    config: RuntimeConfig = field(kw_only=True)  # the chat's own: its overrides over the global settings


@dataclass
class TickResult:
    """What one tick did."""

    planned: int = 0
    deferred: dict[str, int] = field(default_factory=dict)
    resting: set[int] = field(default_factory=set)  # chats left quiet until their next gap

    def defer(self, reason: str) -> None:
        self.deferred[reason] = self.deferred.get(reason, 0) + 1
        metrics.record_planner_deferral(reason)

    def rest(self, chat_id: int) -> None:
        """The chat's only eligible bot spoke last twice: it waits a gap instead of talking to itself."""
        self.resting.add(chat_id)
        self.defer("alone")


@contextmanager
def tick_lock() -> Iterator[bool]:
    """Hold the planning lock (True) or learn that another tick holds it (False).

    Ticks are enqueued every 2 s; when one takes longer (a busy machine, thousands of chats) the next
    runs on another worker at the same time, both find the same chats due and not busy (neither has
    committed yet), and each plans a turn for them: one chat then has several turns in flight.
    """
    redis, token = redis_connection(), uuid.uuid4().hex
    acquired = bool(redis.set(TICK_LOCK_KEY, token, nx=True, ex=TICK_LOCK_TTL_S))
    try:
        yield acquired
    finally:
        if acquired:
            redis.eval(RELEASE_SCRIPT, 1, TICK_LOCK_KEY, token)


def plan_tick(*, config: RuntimeConfig, now: datetime | None = None, rng: random.Random | None = None) -> TickResult:
    """Plan a proactive turn for every due chat, within every limit; deferred chats are retried next tick."""
    now, result = now or timezone.now(), TickResult()
    rng = rng or seeding.rng("tick", now.timestamp())
    if budget.blocked_for() > 0:
        result.defer("llm_budget")  # the provider asked everyone to wait: plan nothing new meanwhile
        return result
    chats = _load_due_chats(now, config)
    hour = limits.hour_key(now)
    counts = limits.hourly_counts(sorted({s.bot_id for c in chats for s in c.speakers}), hour)
    planned = [
        _plan_chat(chat, config=chat.config, now=now, rng=rng, counts=counts, hour=hour, result=result)
        for chat in chats
    ]
    turns = _within_global_cap([turn for turn in planned if turn is not None], config=config, now=now, result=result)
    limits.hourly_counts_add([turn.bot_id for turn in turns], hour)
    _save(turns, chats=chats, resting=result.resting, now=now, rng=rng)
    result.planned = len(turns)
    return result


def _load_due_chats(now: datetime, config: RuntimeConfig) -> list[DueChat]:
    talking = Chat.objects.filter(is_enabled=True).exclude(quiet_until__gt=now)  # an admin's /quiet holds it
    columns = ("id", "timezone", "cadence", "topics", "is_forum", "forum_threads", "available_reactions")
    rows = list(talking.values_list(*columns, "settings_overrides"))
    next_at = redis_connection().hmget(NEXT_AT_KEY, [row[0] for row in rows]) if rows else []
    stamp = now.timestamp()
    # Most overdue first: under a saturated global cap the same chats must not win every tick.
    overdue = sorted(
        ((0.0 if at is None else float(at), row) for row, at in zip(rows, next_at, strict=True)), key=lambda p: p[0]
    )
    due = {
        row[0]: DueChat(
            row[0],
            row[1],
            row[2],
            row[3],
            row[5] if row[4] else [],
            can_react=reactions_possible(row[6]),
            config=config.for_chat(row[7]),
        )
        for at, row in overdue
        if row[2] > 0 and at <= stamp
    }
    busy = set(Turn.objects.filter(chat_id__in=due, status__in=ACTIVE_STATUSES).values_list("chat_id", flat=True))
    for chat_id in busy:
        due.pop(chat_id)
    _attach_last_messages(due)
    _attach_speakers(due)
    _attach_events(due, now=now, scale=config.scale_factor)
    return [chat for chat in due.values() if chat.speakers]


def _attach_last_messages(due: dict[int, DueChat]) -> None:
    latest = Message.objects.filter(chat=OuterRef("pk")).order_by("-created_at", "-id")
    rows = Chat.objects.filter(pk__in=due).annotate(
        last_id=Subquery(latest.values("id")[:1]),
        last_bot=Subquery(latest.values("bot_id")[:1]),
        previous_bot=Subquery(latest.values("bot_id")[1:2]),
        last_meta=Subquery(latest.values("metadata")[:1], output_field=JSONField()),
    )
    for row in rows.values("pk", "last_id", "last_bot", "previous_bot", "last_meta"):
        chat = due[row["pk"]]
        chat.last_message_id, chat.last_bot_id = row["last_id"], row["last_bot"]
        chat.previous_bot_id = row["previous_bot"]
        chat.last_topic = (row["last_meta"] or {}).get("topic")


def _attach_events(due: dict[int, DueChat], *, now: datetime, scale: float) -> None:
    """Each due chat's pace multiplier and event subject from its fresh market events: one query a tick."""
    for chat_id, fresh in events.fresh_events(due, now=now, scale=scale).items():
        chat = due[chat_id]
        chat.excitement = events.excitement(fresh, now=now, scale=scale)
        subjects = (*fresh[0].symbols, *fresh[0].topics)
        chat.event_topic = subjects[0] if subjects else None


def chats_due_now(chat_ids: list[int], *, now: datetime) -> None:
    """Make chats due at once (a market event fired in them): the next tick plans their first reaction."""
    if chat_ids:
        redis_connection().hset(NEXT_AT_KEY, mapping=dict.fromkeys(chat_ids, now.timestamp()))


def _attach_speakers(due: dict[int, DueChat]) -> None:
    eligible = Membership.objects.filter(chat_id__in=due, is_enabled=True, paused_at__isnull=True, bot__is_enabled=True)
    memberships = eligible.values_list(
        "chat_id",
        "talkativeness",
        "bot_id",
        "bot__name",
        "bot__username",
        "bot__talkativeness",
        "bot__active_hours",
        "bot__speed",
        "bot__persona",
    )
    by_bot: dict[int, list[Speaker]] = {}
    for chat_id, override, bot_id, name, username, talk, hours, speed, persona in memberships:
        talkativeness = talk if override is None else override
        speaker = Speaker(bot_id, name, username, talkativeness, hours or [], speed, list(persona.get("watchlist", [])))
        due[chat_id].speakers.append(speaker)
        by_bot.setdefault(bot_id, []).append(speaker)
    for bot_id, topic in Stance.objects.filter(bot_id__in=by_bot).values_list("bot_id", "topic"):
        for speaker in by_bot[bot_id]:
            speaker.interests.append(topic)


def _plan_chat(
    chat: DueChat,
    *,
    config: RuntimeConfig,
    now: datetime,
    rng: random.Random,
    counts: dict[int, int],
    hour: str,
    result: TickResult,
) -> Turn | None:
    limit = config.bot_hourly_msg_limit
    eligible = [
        s
        for s in chat.speakers
        if is_active(now, chat.timezone, s.active_hours)
        and counts.get(s.bot_id, 0) < limits.hourly_cap(bot_id=s.bot_id, hour=hour, low=limit.min, high=limit.max)
    ]
    if not eligible:
        result.defer("no_eligible_bot")
        return None
    if talking_to_itself(chat, eligible):
        result.rest(chat.chat_id)
        return None
    topic = chat.event_topic or chat.last_topic
    speaker = choose_speaker(eligible, last_bot_id=chat.last_bot_id, topic=topic, rng=rng)
    counts[speaker.bot_id] = counts.get(speaker.bot_id, 0) + 1  # stored for all the tick's turns at once
    kind, reply_to = choose_kind(chat, speaker=speaker, config=config, rng=rng)
    return Turn(
        chat_id=chat.chat_id,
        bot_id=speaker.bot_id,
        kind=kind,
        reply_to_id=reply_to,
        thread_id=choose_thread(chat.threads, speaker=speaker, rng=rng) if reply_to is None else None,
        due_at=now + timedelta(seconds=reading_delay(speaker.speed, kind=kind, scale=config.scale_factor, rng=rng)),
        next_run_at=now,
    )


def _within_global_cap(turns: list[Turn], *, config: RuntimeConfig, now: datetime, result: TickResult) -> list[Turn]:
    """The turns the global cap on bot messages per minute admits, the most overdue chats' first; one round trip.

    The rest wait for a later tick (their chats stay due, so they come first then).
    """
    window = limits.Reservation([limits.global_window(config.max_msgs_per_min)])
    waits = limits.reserve_each([window] * len(turns), now=now.timestamp())
    admitted = [turn for turn, wait in itertools.takewhile(lambda pair: pair[1] == 0, zip(turns, waits, strict=True))]
    if len(admitted) < len(turns):
        result.defer("global_cap")
    return admitted


def talking_to_itself(chat: DueChat, eligible: list[Speaker]) -> bool:
    """Whether the only bots that may speak wrote the last two messages alone: a third in a row is a monologue."""
    return (
        chat.last_bot_id is not None
        and chat.previous_bot_id == chat.last_bot_id
        and all(speaker.bot_id == chat.last_bot_id for speaker in eligible)
    )


def topic_fit(speaker: Speaker, topic: str | None) -> float:
    """1.0 plus a bonus when the topic is one of the bot's watchlist symbols or stance topics."""
    if not topic:
        return 1.0
    for interest in speaker.interests:
        if interest.casefold() == topic.casefold():
            return 2.0
        try:
            if symbols_match(interest, topic):
                return 2.0
        except ValueError:
            continue
    return 1.0


def choose_speaker(
    eligible: list[Speaker], *, last_bot_id: int | None, topic: str | None, rng: random.Random
) -> Speaker:
    """Weighted by talkativeness and topic fit; never the last speaker when another bot is eligible."""
    pool = [s for s in eligible if s.bot_id != last_bot_id] or eligible
    weights = [max(s.talkativeness, 0.01) * topic_fit(s, topic) for s in pool]
    return rng.choices(pool, weights=weights, k=1)[0]


def choose_thread(threads: list[dict[str, Any]], *, speaker: Speaker, rng: random.Random) -> int | None:
    """The forum thread a post goes to: an open one mapped to a chat topic, weighted by the bot's fit with that
    topic; None (General) when the chat has none."""
    open_threads = [thread for thread in threads if thread.get("topic") and not thread.get("closed")]
    if not open_threads:
        return None
    weights = [topic_fit(speaker, thread["topic"]) for thread in open_threads]
    return int(rng.choices(open_threads, weights=weights, k=1)[0]["thread_id"])


def choose_kind(
    chat: DueChat, *, speaker: Speaker, config: RuntimeConfig, rng: random.Random
) -> tuple[str, int | None]:
    """Reaction, reply or a new message; a reaction targets the latest message of someone else (where the group
    allows reactions: else the turn is a text one); after a market event replies grow likelier (reply chains)."""
    others_last = chat.last_message_id is not None and chat.last_bot_id != speaker.bot_id
    if others_last and rng.random() < config.short_reaction_probability and chat.can_react:
        return Turn.Kind.REACTION, chat.last_message_id
    chance = config.reply_to_bots_probability if chat.last_bot_id else config.reply_probability
    if chat.excitement > 1.0:  # a fresh event: more answers to each other than new threads, reply chains
        chance = 1.0 - (1.0 - chance) / chat.excitement
    if chat.last_message_id is not None and rng.random() < chance:
        return Turn.Kind.REPLY, None  # the target is scored when the context is built
    return Turn.Kind.PROACTIVE, None


def reading_delay(speed: dict[str, Any], *, kind: str, scale: float, rng: random.Random) -> float:
    """Seconds before the bot starts typing: its base delay, jitter and bounds (only its minimum delay when it has
    nothing to read first); scale shortens it."""
    if not kind_spec(kind).reads_first:
        return float(speed["min_delay_s"]) / scale
    low, high = speed["jitter_s"]
    delay = speed["base_delay_s"] * speed["delay_multiplier"] + rng.uniform(low, high)
    return min(max(delay, speed["min_delay_s"]), speed["max_delay_s"]) / scale


def next_gap_s(cadence: float, *, scale: float, activity: float, rng: random.Random) -> float:
    """Seconds until a chat is due again, around its cadence (messages per minute).

    Gamma-distributed (shape 3): random, but without the long silences and bursts of a Poisson
    process, which make a small group look dead one minute and spammy the next.
    """
    mean_s = 60.0 / max(cadence * scale * activity, 1e-6)
    return max(MIN_GAP_S, rng.gammavariate(GAP_SHAPE, mean_s / GAP_SHAPE))


def _save(
    turns: list[Turn],
    *,
    chats: list[DueChat],
    resting: set[int],
    now: datetime,
    rng: random.Random,
) -> None:
    planned = {turn.chat_id for turn in turns} | resting  # a resting chat waits a gap as if it had spoken
    mapping: dict[Any, Any] = {}  # chat id -> next due timestamp
    for chat in chats:
        if chat.chat_id in planned:
            config = chat.config
            level = activity_level(
                now, chat.timezone, prime_hours=config.prime_hours, prime_boost=config.prime_hours_boost
            )
            activity = level * chat.excitement
            gap = next_gap_s(chat.cadence, scale=config.scale_factor, activity=activity, rng=rng)
            mapping[chat.chat_id] = now.timestamp() + gap
    with transaction.atomic():
        created = Turn.objects.bulk_create(turns)
        enqueue_generation([turn.pk for turn in created])
    if mapping:
        redis_connection().hset(NEXT_AT_KEY, mapping=mapping)

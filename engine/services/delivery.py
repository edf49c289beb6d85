"""Delivery: typing indicator, paced send through the chat's transport, and recording the message."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat, Membership, Message
from chats.services import chat_thread_seen, membership_disable, memberships_count_sent
from engine import jobs, liveness
from engine.clients import loops
from engine.clients.telegram import (
    PermanentKind,
    SentMessage,
    TelegramChatMigrated,
    TelegramClientError,
    TelegramPermanentError,
    TelegramRetryAfter,
    TelegramTransientError,
)
from engine.kinds import kind_spec
from engine.models import Turn
from engine.queues import QueueName
from engine.runtime_settings import RuntimeConfig
from engine.services import lifecycle, limits, postprocess
from engine.services.dispatch import enqueue, schedule_send, schedule_sends
from engine.services.ingestion import follow_migration
from engine.services.topics import symbols_in
from engine.services.transports import Transport, chat_ref, transport_call, transports_prepare
from engine.services.turns import Outcome, turn_transition, turns_transition, turns_transition_each
from monitoring import metrics

logger = logging.getLogger(__name__)
TYPING_REFRESH_S = 4.0  # Telegram shows "typing…" for ~5 s per sendChatAction
# Backoff 2, 4, … 60 s: about 5 minutes of Telegram 5xx or network errors before a turn fails.
MAX_SEND_ATTEMPTS = 10


@dataclass(frozen=True)
class LoadedSend:
    """A ready turn as its send batch read it: its chat, bot and target, and its membership if still enabled."""

    turn: Turn
    chat: Chat
    bot: Bot
    membership_id: int | None  # None when the membership was disabled, paused (or removed) since the turn was planned


def typing_duration_s(text: str, speed: dict[str, Any], *, scale: float, rng: random.Random) -> float:
    """How long a person with this bot's typing speed (characters per second) takes to type the text."""
    low, high = speed["typing_cps"]
    seconds = len(text) / rng.uniform(low, high)
    return min(max(seconds, speed["min_typing_s"]), speed["max_typing_s"]) / scale


@dataclass(frozen=True)
class DeliveryPlan:
    """When a ready turn starts typing, for how long, and when it is sent."""

    start: datetime
    typing_s: float
    send_at: datetime


def plan_delivery(turn: Turn, text: str, *, config: RuntimeConfig, rng: random.Random) -> DeliveryPlan:
    """Typing starts at the turn's due time (or now) and lasts as long as the bot needs to type `text`."""
    start = max(turn.due_at, timezone.now())
    typing = 0.0
    if kind_spec(turn.kind).shows_typing:
        typing = typing_duration_s(text, turn.bot.speed, scale=config.scale_factor, rng=rng)
    return DeliveryPlan(start, typing, start + timedelta(seconds=typing))


def schedule_delivery(turn: Turn, *, config: RuntimeConfig, rng: random.Random) -> datetime:
    """Schedule a ready turn's typing actions every few seconds from its due time, then its send."""
    plan = plan_delivery(turn, turn.text, config=config, rng=rng)
    Turn.objects.filter(pk=turn.pk).update(send_at=plan.send_at, next_run_at=plan.send_at)
    enqueue_deliveries([(turn, plan)], config=config)
    return plan.send_at


def enqueue_deliveries(plans: list[tuple[Turn, DeliveryPlan]], *, config: RuntimeConfig) -> None:
    """After commit: the typing actions of written turns (those due now shown together at once, the later ones as
    `send_typing` jobs every few seconds) and their sends, in one round trip."""
    typing_now = []
    for turn, plan in plans if config.typing_enabled else []:
        offset = 0.0
        while offset < plan.typing_s:
            at = _at_or_now(plan.start + timedelta(seconds=offset))
            if at is None:  # typing starts now: shown from here, one job fewer per turn
                typing_now.append(turn)
            else:
                enqueue(jobs.send_typing, turn.pk, queue=QueueName.HIGH, at=at)
            offset += TYPING_REFRESH_S
    if typing_now:
        transaction.on_commit(lambda: show_typing_many(typing_now))
    schedule_sends({turn.pk: _at_or_now(plan.send_at) for turn, plan in plans})


def _not_before(moment: datetime) -> datetime:
    """A retry time rounded up to the whole second, so the send job of its second never takes it early."""
    # A job takes the turns due within its second: a turn due at 12:00:00.300 would be taken at 12:00:00,
    # deferred again at once, taken again, and so on until its time had come.
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def _at_or_now(moment: datetime) -> datetime | None:
    return None if moment <= timezone.now() else moment


def send_typing(*, turn_id: int) -> bool:
    """Show "typing…" for a turn still waiting to be sent; best effort (a failure never blocks the send)."""
    turn = Turn.objects.select_related("chat", "bot").filter(pk=turn_id, status=Turn.Status.READY).first()
    return turn is not None and show_typing(turn)


def show_typing(turn: Turn) -> bool:
    """Send the typing action of a turn whose chat and bot are loaded; False when skipped or refused."""
    return show_typing_many([turn]) == [True]


def show_typing_many(turns: list[Turn]) -> list[bool]:
    """Send the typing actions of turns whose chat and bot are loaded, with one look at their bots' back-offs, the
    calls overlapping on this thread's event loop; False for each one skipped or refused.

    Telegram's 429 holds every request of the bot: typing is skipped while the bot waits, and a 429 answered to
    typing makes the bot's sends wait too.
    """
    now = time.time()
    until = limits.backoffs_until([_bot_key(turn.bot_id) for turn in turns])
    due = [turn for turn, moment in zip(turns, until, strict=True) if moment <= now]
    refused: dict[int, Sent] = {}
    if due:
        calls = [_typing_call(turn) for turn in due]
        loops.run_together(calls, lambda index, result: refused.update({due[index].pk: _sent(result)}))
    for turn in due:
        error = refused[turn.pk]
        if isinstance(error, TelegramRetryAfter):
            _hold_bot(turn.bot_id, error.retry_after)
        if error is not None:
            logger.info("typing for turn %s not shown: %s", turn.pk, error)
    return [turn.pk in refused and refused[turn.pk] is None for turn in turns]


def send_turn(*, turn_id: int) -> Outcome:
    """Send a ready turn within Telegram's limits (deferring, never dropping) and record the message."""
    return send_turns(turn_ids=[turn_id])[turn_id]


def send_turns(*, turn_ids: list[int]) -> dict[int, Outcome]:
    """Send ready turns within Telegram's limits (deferring, never dropping) and record their messages.

    Loading, pacing and claiming run on the caller's thread (its one DB connection); the Bot API calls of
    the claimed turns run concurrently on the process's network threads, which never touch the database.
    Whenever calls have returned, their turns are recorded at once, in one transaction. One group's crash
    does not stop the others: the first is raised once every turn has its outcome.
    """
    loaded = load_sends(turn_ids)
    members, skipped = _members(loaded)
    allowed, deferred = _paced(members)
    claimed = _claim(allowed)
    won = {send.turn.pk for send in claimed}
    outcomes = (
        dict.fromkeys(turn_ids, Outcome.NOT_READY)
        | dict.fromkeys(skipped, Outcome.SKIPPED)
        | dict.fromkeys(deferred, Outcome.DEFERRED)
        | dict.fromkeys([send.turn.pk for send in allowed if send.turn.pk not in won], Outcome.NOT_CLAIMED)
    )
    liveness.claim_record(*[send.turn.pk for send in claimed])
    crashes: list[Exception] = []
    for returned in _transmit_all(claimed):
        try:
            outcomes |= _settle(returned)
        except Exception as error:
            logger.exception("turns %s crashed while recording their sends", [send.turn.pk for send, _ in returned])
            crashes.append(error)
    if crashes:
        raise crashes[0]
    return outcomes


def load_sends(turn_ids: list[int]) -> list[LoadedSend]:
    """The ready turns with their chat, bot and target, and their enabled membership's id: two queries, the
    memberships as plain rows (a subquery on the turns' query cost more to compile than both)."""
    rows = Turn.objects.select_related("chat", "bot", "reply_to").filter(pk__in=turn_ids, status=Turn.Status.READY)
    turns = list(rows.order_by("pk"))
    enabled = Membership.objects.filter(
        chat_id__in={turn.chat_id for turn in turns},
        bot_id__in={turn.bot_id for turn in turns},
        is_enabled=True,
        paused_at__isnull=True,
    ).values_list("chat_id", "bot_id", "pk")
    ids = {(chat_id, bot_id): pk for chat_id, bot_id, pk in enabled}
    return [LoadedSend(turn, turn.chat, turn.bot, ids.get((turn.chat_id, turn.bot_id))) for turn in turns]


def _members(loaded: list[LoadedSend]) -> tuple[list[LoadedSend], list[int]]:
    """The sends whose bot is still an enabled member of the chat; the others are skipped (their ids)."""
    now = timezone.now()
    for send in loaded:
        if send.turn.next_run_at is not None:
            metrics.observe_lateness("send", (now - send.turn.next_run_at).total_seconds())
    skipped = [send for send in loaded if send.membership_id is None]
    for send in skipped:
        reason = "membership disabled or paused before sending"
        _end(send.turn, Turn.Status.SKIPPED, reason, from_status=Turn.Status.READY)
    return [send for send in loaded if send.membership_id is not None], [send.turn.pk for send in skipped]


def _paced(sends: list[LoadedSend]) -> tuple[list[LoadedSend], list[int]]:
    """The sends Telegram's limits have room for now (one round trip for all); the others wait until the limits
    say, rescheduled (their ids)."""
    now = timezone.now()
    waits = limits.reserve_each([_pacing(send) for send in sends])
    for send, wait in zip(sends, waits, strict=True):
        if wait > 0:
            at = _not_before(now + timedelta(seconds=wait))
            Turn.objects.filter(pk=send.turn.pk, status=Turn.Status.READY).update(next_run_at=at)
            schedule_send(send.turn.pk, at=at)
    allowed = [send for send, wait in zip(sends, waits, strict=True) if wait <= 0]
    return allowed, [send.turn.pk for send, wait in zip(sends, waits, strict=True) if wait > 0]


def _claim(sends: list[LoadedSend]) -> list[LoadedSend]:
    """The sends this job wins (one atomic claim for all), their attempt counted."""
    won = set(
        turns_transition(
            turn_ids=[send.turn.pk for send in sends],
            from_status=Turn.Status.READY,
            to_status=Turn.Status.SENDING,
            increments={"attempts": 1},
        )
    )
    for send in sends:
        if send.turn.pk in won:
            send.turn.attempts += 1  # as the claim wrote it
    return [send for send in sends if send.turn.pk in won]


def _hold_bot(bot_id: int, seconds: float) -> None:
    """Telegram's 429 is per bot: every request of the bot waits, not only this turn's."""
    limits.backoff_set(_bot_key(bot_id), seconds)


def _bot_key(bot_id: int) -> str:
    return f"tg:bot:{bot_id}"


def _pacing(send: LoadedSend) -> limits.Reservation:
    """Telegram's limits of the turn's chat and bot (a message also the chat's slow mode), held while the bot waits
    out a 429."""
    turn = send.turn
    slow = send.chat.slow_mode_delay if kind_spec(turn.kind).bot_api_method == "sendMessage" else 0
    windows = limits.telegram_windows(chat_id=turn.chat_id, bot_id=turn.bot_id, slow_mode_delay=slow)
    return limits.Reservation(windows, _bot_key(turn.bot_id))


Sent = SentMessage | None | TelegramClientError


def _transmit_all(sends: list[LoadedSend]) -> Iterator[list[tuple[LoadedSend, Sent]]]:
    """The sends with what their Bot API calls gave, in groups: every call that has returned when it looks.

    The calls are awaited together on an event loop, a network thread's when there are several. A group is
    recorded before the next is awaited, so a delivered message waits for its record no longer than it must (a
    worker killed in that gap leaves the turn `unconfirmed`).
    """
    transports_prepare(send.chat for send in sends)
    for returned in loops.as_returned(sends, _api_call) if sends else []:
        yield [(send, _sent(got)) for send, got in returned]


def _sent(result: object) -> Sent:
    """What a Bot API call gave: its message, None, or Telegram's refusal; any other exception is raised."""
    if isinstance(result, BaseException) and not isinstance(result, TelegramClientError):
        raise result
    assert result is None or isinstance(result, SentMessage | TelegramClientError)
    return result


def _typing_call(turn: Turn) -> Awaitable[None]:
    chat = turn.chat
    return transport_call(chat, turn.bot, lambda api: api.send_typing(chat_ref(chat), turn.thread_id))


def _api_call(send: LoadedSend) -> Awaitable[SentMessage | None]:
    """The send's Bot API call on its chat's transport: the method its kind is delivered by."""
    method = API_METHODS[kind_spec(send.turn.kind).bot_api_method]
    return transport_call(send.chat, send.bot, lambda api: method(api, send))


async def _send_message(api: Transport, send: LoadedSend) -> SentMessage:
    """The text, threaded under its target (quoting the part of a long one it answers), in its forum thread."""
    target = _reply_to(send.turn)
    quote = send.turn.inputs.get("quote") if target is not None else None
    return await api.send_message(chat_ref(send.chat), send.turn.text, target, send.turn.thread_id, quote=quote)


async def _set_reaction(api: Transport, send: LoadedSend) -> None:
    """The emoji, on its target."""
    target = _reply_to(send.turn)
    assert target is not None  # reactions are only planned on a message
    await api.set_reaction(chat_ref(send.chat), target, send.turn.text)


# The Bot API method each turn kind is delivered by (engine.kinds.KindSpec.bot_api_method).
API_METHODS = {"sendMessage": _send_message, "setMessageReaction": _set_reaction}


def _reply_to(turn: Turn) -> int | None:
    return turn.reply_to.telegram_message_id if turn.reply_to is not None else None


def _settle(returned: list[tuple[LoadedSend, Sent]]) -> dict[int, Outcome]:
    """Each send's outcome: the refused ones one by one, then the delivered ones recorded together."""
    outcomes = {}
    for send, sent in returned:
        if isinstance(sent, TelegramClientError):
            outcomes[send.turn.pk] = _refused(send, sent)
            # The message says why (our errors carry no token).
            logger.warning("turn %s not sent (%s): %s", send.turn.pk, outcomes[send.turn.pk], sent)
    delivered = [(send, sent) for send, sent in returned if not isinstance(sent, TelegramClientError)]
    record_sent(delivered)
    return outcomes | dict.fromkeys([send.turn.pk for send, _ in delivered], Outcome.SENT)


def _refused(send: LoadedSend, error: TelegramClientError) -> Outcome:
    if isinstance(error, TelegramRetryAfter):
        return _retry_after(send.turn, error.retry_after)
    if isinstance(error, TelegramPermanentError):
        return _permanent(send, error)
    assert isinstance(error, TelegramTransientError)
    return _transient(send.turn, error)


def record_sent(delivered: list[tuple[LoadedSend, SentMessage | None]]) -> list[Message]:
    """Store the delivered messages and finish their turns, in one transaction of a few queries for them all.

    A turn the recovery sweep already gave up on (marked `unconfirmed`) keeps that verdict, without a message.
    """
    if not delivered:
        return []
    with transaction.atomic():
        messages = {send.turn.pk: _message(send.turn, sent) for send, sent in delivered if sent is not None}
        Message.objects.bulk_create(messages.values())
        sends = {send.turn.pk: send for send, _ in delivered}
        won = turns_transition_each(
            rows={pk: {"message_id": messages[pk].pk if pk in messages else None, "error": ""} for pk in sends},
            from_status=Turn.Status.SENDING,
            to_status=Turn.Status.SENT,
            kinds={pk: str(send.turn.kind) for pk, send in sends.items()},
        )
        lost = [messages.pop(pk).pk for pk in set(sends) - set(won) if pk in messages]
        if lost:
            Message.objects.filter(pk__in=lost).delete()
        _count_for_persona_refresh([sends[pk] for pk in won])
        transaction.on_commit(lambda: _count_sent([sends[pk].turn for pk in won]))
    return list(messages.values())


def _message(turn: Turn, sent: SentMessage) -> Message:
    return Message(
        chat=turn.chat,
        bot=turn.bot,
        sender_name=turn.bot.name,
        sender_is_bot=True,
        text=turn.text,
        text_normalized=postprocess.normalize(turn.text),
        telegram_message_id=sent.message_id,
        reply_to=turn.reply_to,
        thread_id=turn.thread_id,
        metadata=_metadata(turn),
    )


def _count_sent(turns: list[Turn]) -> None:
    now = timezone.now()
    for turn in turns:
        metrics.observe_turn_latency(turn.kind, (now - turn.created_at).total_seconds())


def _end(turn: Turn, status: str, error: str, *, from_status: str = Turn.Status.SENDING) -> bool:
    """Move the turn to a terminal status, if it is still in from_status."""
    return turn_transition(
        turn_id=turn.pk, from_status=from_status, to_status=status, turn_kind=turn.kind, error=error[:2000]
    )


def _metadata(turn: Turn) -> dict[str, Any]:
    return {
        "topic": turn.inputs.get("topic"),
        "symbols": sorted(set(symbols_in(turn.text)))[:10],
        "turn_id": turn.pk,
        "flags": list(kind_spec(turn.kind).flags),
    }


def _count_for_persona_refresh(sends: list[LoadedSend]) -> None:
    """Count each sent message against its membership's persona refresh (a full persona resets the count)."""
    counted = Counter[int]()
    full_persona = []
    for send in sends:
        if send.membership_id is None:  # a removed membership has nothing to count
            continue
        if send.turn.inputs.get("full_persona"):
            full_persona.append(send.membership_id)
        else:
            counted[send.membership_id] += 1
    memberships_count_sent(sent=counted, full_persona=full_persona)


def _retry_after(turn: Turn, retry_after: float) -> Outcome:
    _hold_bot(turn.bot_id, retry_after)
    _back_to_ready(turn, delay=retry_after, error=f"rate limited by Telegram, retry after {retry_after:g}s")
    return Outcome.RATE_LIMITED


def _back_to_ready(turn: Turn, *, delay: float, error: str) -> None:
    """The send did not happen: return the turn to `ready` and schedule the next attempt."""
    at = _not_before(timezone.now() + timedelta(seconds=delay))
    if turn_transition(
        turn_id=turn.pk, from_status=Turn.Status.SENDING, to_status=Turn.Status.READY, error=error, next_run_at=at
    ):
        schedule_send(turn.pk, at=at)


def _permanent(send: LoadedSend, error: TelegramPermanentError) -> Outcome:
    if isinstance(error, TelegramChatMigrated) and send.turn.attempts < MAX_SEND_ATTEMPTS:
        return _migrated(send, error)
    if error.kind == PermanentKind.TOPIC_CLOSED:
        return _topic_closed(send, error)
    _end(send.turn, Turn.Status.FAILED, f"Telegram: {error}")
    if error.pauses_membership:  # kicked, left or muted: resumed when Telegram says the bot may post again
        lifecycle.send_refused(chat=send.chat, bot=send.bot, error=error)
    elif error.ends_membership and send.membership_id is not None:
        membership_disable(membership_id=send.membership_id, reason=f"Telegram: {error}")
    return Outcome.FAILED


def _migrated(send: LoadedSend, error: TelegramChatMigrated) -> Outcome:
    """The group became a supergroup: the chat moves to its new id and the turn is sent there, nothing disabled."""
    assert send.chat.telegram_chat_id is not None
    follow_migration(from_chat_id=send.chat.telegram_chat_id, to_chat_id=error.migrate_to_chat_id, source="send_error")
    _back_to_ready(send.turn, delay=0.0, error=f"group upgraded to a supergroup; sending at {error.migrate_to_chat_id}")
    return Outcome.RETRY


def _topic_closed(send: LoadedSend, error: TelegramPermanentError) -> Outcome:
    """The forum topic is closed (or gone): the turn is skipped, the thread is left out of proactive posts until
    Telegram says it reopened; the bot and the chat are fine."""
    _end(send.turn, Turn.Status.SKIPPED, f"topic_closed (Telegram: {error})")
    if send.turn.thread_id is not None:
        chat_thread_seen(chat=send.chat, thread_id=send.turn.thread_id, closed=True)
    return Outcome.SKIPPED


def _transient(turn: Turn, error: TelegramTransientError) -> Outcome:
    if error.maybe_sent:
        # The request may have reached Telegram: resending could duplicate the message.
        _end(turn, Turn.Status.UNCONFIRMED, f"Telegram: {error} (may have been delivered; not resent)")
        return Outcome.UNCONFIRMED
    if turn.attempts >= MAX_SEND_ATTEMPTS:
        _end(turn, Turn.Status.FAILED, f"Telegram unavailable after {turn.attempts} attempts: {error}")
        return Outcome.FAILED
    _back_to_ready(turn, delay=min(60.0, 2.0**turn.attempts), error=f"retrying: {error}"[:2000])
    return Outcome.RETRY

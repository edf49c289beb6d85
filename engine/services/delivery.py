"""Delivery: typing indicator, paced send through Telegram (or the sandbox), and recording the message."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chats.models import Membership, Message
from chats.services import membership_disable, memberships_count_sent
from engine import liveness
from engine.clients import loops
from engine.clients.telegram import (
    SentMessage,
    TelegramClient,
    TelegramClientError,
    TelegramPermanentError,
    TelegramRetryAfter,
    TelegramSession,
    TelegramTransientError,
)
from engine.models import Turn
from engine.redis import redis_connection
from engine.services import limits, postprocess
from engine.services.dispatch import schedule, schedule_send, schedule_sends
from engine.services.topics import symbols_in
from engine.services.turns import turn_transition, turns_transition, turns_transition_each
from monitoring import metrics

logger = logging.getLogger(__name__)
TYPING_REFRESH_S = 4.0  # Telegram shows "typing…" for ~5 s per sendChatAction
# Backoff 2, 4, … 60 s: about 5 minutes of Telegram 5xx or network errors before a turn fails.
MAX_SEND_ATTEMPTS = 10
SANDBOX_ID_KEY = "piyasa:sandbox:message_id:"
MEMBERSHIP = "enabled_membership_id"  # read with a ready turn (`_loaded`): None when disabled meanwhile


class Transport(Protocol):
    """Where a chat's messages go: Telegram's Bot API, or the local sandbox."""

    def send_message(self, chat_id: int | str, text: str, reply_to_message_id: int | None = None) -> SentMessage: ...
    def send_typing(self, chat_id: int | str) -> None: ...
    def set_reaction(self, chat_id: int | str, message_id: int, emoji: str) -> None: ...


class SandboxTransport:
    """Local chats: nothing leaves the machine; messages get local ids, unique per chat."""

    def __init__(self, chat_pk: int) -> None:
        self.chat_pk = chat_pk

    def send_message(self, chat_id: int | str, text: str, reply_to_message_id: int | None = None) -> SentMessage:
        return SentMessage(message_id=sandbox_message_id(self.chat_pk), date=timezone.now())

    def send_typing(self, chat_id: int | str) -> None:
        redis_connection().set(f"piyasa:sandbox:typing:{self.chat_pk}", 1, ex=5)

    def set_reaction(self, chat_id: int | str, message_id: int, emoji: str) -> None:
        return None


def sandbox_message_id(chat_pk: int) -> int:
    """The next local message id of a sandbox chat (Redis counter, seeded from the DB after a Redis restart)."""
    redis, key = redis_connection(), f"{SANDBOX_ID_KEY}{chat_pk}"
    if not redis.exists(key):
        highest = (
            Message.objects.filter(chat_id=chat_pk)
            .order_by("-telegram_message_id")
            .values_list("telegram_message_id", flat=True)
            .first()
        )
        redis.set(key, highest or 0, nx=True)
    return int(redis.incr(key))


def transport_for(turn: Turn) -> Transport:
    """The transport of the turn's chat, speaking as the turn's bot."""
    if turn.chat.is_sandbox:
        return SandboxTransport(turn.chat.pk)
    return _telegram_client(turn)


def _telegram_client(turn: Turn) -> TelegramClient:
    return TelegramClient(turn.bot.token, timeout=settings.TELEGRAM_TIMEOUT_S)


def _chat_ref(turn: Turn) -> int:
    # Every saved chat has one: Telegram chats require it and sandbox chats get a local id on save.
    assert turn.chat.telegram_chat_id is not None
    return turn.chat.telegram_chat_id


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


def plan_delivery(turn: Turn, text: str, *, config: dict[str, Any], rng: random.Random) -> DeliveryPlan:
    """Typing starts at the turn's due time (or now) and lasts as long as the bot needs to type `text`."""
    start = max(turn.due_at, timezone.now())
    typing = 0.0
    if turn.kind != Turn.Kind.REACTION:
        typing = typing_duration_s(text, turn.bot.speed, scale=config["scale_factor"], rng=rng)
    return DeliveryPlan(start, typing, start + timedelta(seconds=typing))


def schedule_delivery(turn: Turn, *, config: dict[str, Any], rng: random.Random) -> datetime:
    """Schedule typing actions every few seconds from the turn's due time, then the send itself."""
    plan = plan_delivery(turn, turn.text, config=config, rng=rng)
    Turn.objects.filter(pk=turn.pk).update(send_at=plan.send_at, next_run_at=plan.send_at)
    enqueue_delivery(turn, plan, config=config)
    return plan.send_at


def enqueue_delivery(turn: Turn, plan: DeliveryPlan, *, config: dict[str, Any]) -> None:
    """After commit: the typing actions (the first one at once when it is due now) and the send job of a plan."""
    enqueue_deliveries([(turn, plan)], config=config)


def enqueue_deliveries(plans: list[tuple[Turn, DeliveryPlan]], *, config: dict[str, Any]) -> None:
    """`enqueue_delivery` for several turns: the typing shown now goes out together, the sends in one round trip."""
    typing_now = []
    for turn, plan in plans if config["typing_enabled"] else []:
        offset = 0.0
        while offset < plan.typing_s:
            at = _at_or_now(plan.start + timedelta(seconds=offset))
            if at is None:  # typing starts now: shown from here, one job fewer per turn
                typing_now.append(turn)
            else:
                schedule("engine.jobs.send_typing", turn.pk, at=at)
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
    """Send the typing action of a turn whose chat and bot are loaded; False when skipped or refused.

    Telegram's 429 holds every request of the bot: typing is skipped while the bot waits, and a 429 answered to
    typing makes the bot's sends wait too.
    """
    return show_typing_many([turn]) == [True]


def show_typing_many(turns: list[Turn]) -> list[bool]:
    """`show_typing` for several turns, with one look at their bots' back-offs, the Bot API calls overlapping
    on this thread's event loop."""
    now = time.time()
    until = limits.backoffs_until([_bot_key(turn) for turn in turns])
    due = [turn for turn, moment in zip(turns, until, strict=True) if moment <= now]
    refused: dict[int, Sent] = {}
    for turn in due:
        if turn.chat.is_sandbox:
            transport_for(turn).send_typing(_chat_ref(turn))
            refused[turn.pk] = None
    remote = [turn for turn in due if not turn.chat.is_sandbox]
    if remote:
        calls = [_typing_call(turn) for turn in remote]
        loops.run_together(calls, lambda index, result: refused.update({remote[index].pk: _sent(result)}))
    for turn in due:
        error = refused[turn.pk]
        if isinstance(error, TelegramRetryAfter):
            _hold_bot(turn, error.retry_after)
        if error is not None:
            logger.info("typing for turn %s not shown: %s", turn.pk, error)
    return [turn.pk in refused and refused[turn.pk] is None for turn in turns]


def _typing_call(turn: Turn) -> Awaitable[None]:
    chat_id = _chat_ref(turn)
    return _telegram_client(turn).call(lambda session: session.send_typing(chat_id))


def send_turn(*, turn_id: int) -> str:
    """Send a ready turn within Telegram's limits (deferring, never dropping) and record the message."""
    return send_turns(turn_ids=[turn_id])[str(turn_id)]


def send_turns(*, turn_ids: list[int]) -> dict[str, str]:
    """Send ready turns within Telegram's limits (deferring, never dropping) and record their messages.

    Loading, pacing and claiming run on the caller's thread (its one DB connection); the Bot API calls of
    the claimed turns run concurrently on the process's network threads, which never touch the database.
    Whenever calls have returned, their turns are recorded at once, in one transaction. One group's crash
    does not stop the others: the first is raised once every turn has its outcome.
    """
    outcomes: dict[str, str] = {}
    claimed = _claim(_may_send(_loaded(turn_ids), outcomes), outcomes)
    for turn_id in turn_ids:
        outcomes.setdefault(str(turn_id), "not_ready")
    liveness.claim_record(*[turn.pk for turn in claimed])
    crashes: list[Exception] = []
    for returned in _transmit_all(claimed):
        try:
            outcomes |= _settle(returned)
        except Exception as error:
            logger.exception("turns %s crashed while recording their sends", [turn.pk for turn, _ in returned])
            crashes.append(error)
    if crashes:
        raise crashes[0]
    return outcomes


def _loaded(turn_ids: list[int]) -> list[Turn]:
    """The ready turns with their chat, bot and target, and the id of their enabled membership (None when it
    was disabled): two queries, the memberships as plain rows (a subquery on the turns' query cost more to
    compile than both)."""
    rows = Turn.objects.select_related("chat", "bot", "reply_to").filter(pk__in=turn_ids, status=Turn.Status.READY)
    turns = list(rows.order_by("pk"))
    enabled = Membership.objects.filter(
        chat_id__in={turn.chat_id for turn in turns}, bot_id__in={turn.bot_id for turn in turns}, is_enabled=True
    ).values_list("chat_id", "bot_id", "pk")
    ids = {(chat_id, bot_id): pk for chat_id, bot_id, pk in enabled}
    for turn in turns:
        setattr(turn, MEMBERSHIP, ids.get((turn.chat_id, turn.bot_id)))
    return turns


def _may_send(turns: list[Turn], outcomes: dict[str, str]) -> list[Turn]:
    """The turns whose membership holds and whose Telegram limits have room (one round trip for all); the
    others are skipped, or deferred until the limits say, with their outcomes."""
    now = timezone.now()
    members = []
    for turn in turns:
        if turn.next_run_at is not None:
            metrics.observe_lateness("send", (now - turn.next_run_at).total_seconds())
        if getattr(turn, MEMBERSHIP, None) is None:
            _end(turn, Turn.Status.SKIPPED, "membership disabled before sending", from_status=Turn.Status.READY)
            outcomes[str(turn.pk)] = "skipped"
        else:
            members.append(turn)
    waits = limits.reserve_each([_pacing(turn) for turn in members])
    for turn, wait in zip(members, waits, strict=True):
        if wait > 0:
            at = _not_before(now + timedelta(seconds=wait))
            Turn.objects.filter(pk=turn.pk, status=Turn.Status.READY).update(next_run_at=at)
            schedule_send(turn.pk, at=at)
            outcomes[str(turn.pk)] = "deferred"
    return [turn for turn, wait in zip(members, waits, strict=True) if wait <= 0]


def _claim(turns: list[Turn], outcomes: dict[str, str]) -> list[Turn]:
    """The turns this job wins for sending (one atomic claim for all); the others get the outcome `not_claimed`."""
    won = set(
        turns_transition(
            turn_ids=[turn.pk for turn in turns],
            from_status=Turn.Status.READY,
            to_status=Turn.Status.SENDING,
            attempts=F("attempts") + 1,
        )
    )
    for turn in turns:
        if turn.pk in won:
            turn.attempts += 1
        else:
            outcomes[str(turn.pk)] = "not_claimed"
    return [turn for turn in turns if turn.pk in won]


def _hold_bot(turn: Turn, seconds: float) -> None:
    """Telegram's 429 is per bot: every request of the turn's bot waits, not only this turn's."""
    limits.backoff_set(_bot_key(turn), seconds)


def _bot_key(turn: Turn) -> str:
    return f"tg:bot:{turn.bot_id}"


def _pacing(turn: Turn) -> limits.Reservation:
    """Telegram's limits of the turn's chat and bot, held while the bot waits out a 429."""
    return limits.Reservation(limits.telegram_windows(chat_id=turn.chat_id, bot_id=turn.bot_id), _bot_key(turn))


Sent = SentMessage | None | TelegramClientError


def _transmit_all(turns: list[Turn]) -> Iterator[list[tuple[Turn, Sent]]]:
    """The turns with what their Bot API calls gave, in groups: every call that has returned when it looks.

    Sandbox turns come first, sent on this thread. The others' calls are awaited together on an event loop,
    a network thread's when there are several. A group is recorded before the next is awaited, so a
    delivered message waits for its record no longer than it must (a worker killed in that gap leaves the
    turn `unconfirmed`).
    """
    local = [(turn, _api_call(turn, transport_for(turn))) for turn in turns if turn.chat.is_sandbox]
    if local:  # message ids come from Redis (or the DB after a Redis restart); the sandbox refuses nothing
        yield local
    remote = [turn for turn in turns if not turn.chat.is_sandbox]
    for returned in loops.as_returned(remote, _telegram_call) if remote else []:
        yield [(turn, _sent(got)) for turn, got in returned]


def _sent(result: object) -> Sent:
    """What a Bot API call gave: its message, None, or Telegram's refusal; any other exception is raised."""
    if isinstance(result, BaseException) and not isinstance(result, TelegramClientError):
        raise result
    assert result is None or isinstance(result, SentMessage | TelegramClientError)
    return result


def _api_call(turn: Turn, api: Transport | TelegramSession) -> Any:
    """The turn's call on a transport, or on a Telegram session (then awaitable): a reaction, or the message
    threaded under its target."""
    chat_id, reply_to = _chat_ref(turn), _reply_to(turn)
    if turn.kind == Turn.Kind.REACTION:
        assert reply_to is not None  # reactions are only planned on a message
        return api.set_reaction(chat_id, reply_to, turn.text)
    return api.send_message(chat_id, turn.text, reply_to)


def _telegram_call(turn: Turn) -> Awaitable[SentMessage | None]:
    """The turn's Bot API call, to be awaited together with others (`loops.as_returned`)."""
    return _telegram_client(turn).call(lambda session: _api_call(turn, session))


def _reply_to(turn: Turn) -> int | None:
    return turn.reply_to.telegram_message_id if turn.reply_to is not None else None


def _settle(returned: list[tuple[Turn, Sent]]) -> dict[str, str]:
    """Each turn's outcome: the refused ones one by one, then the delivered ones recorded together."""
    outcomes = {}
    for turn, sent in returned:
        if isinstance(sent, TelegramRetryAfter):
            outcomes[str(turn.pk)] = _retry_after(turn, sent.retry_after)
        elif isinstance(sent, TelegramPermanentError):
            outcomes[str(turn.pk)] = _permanent(turn, sent)
        elif isinstance(sent, TelegramTransientError):
            outcomes[str(turn.pk)] = _transient(turn, sent)
        if isinstance(sent, TelegramClientError):  # the message says why (our errors carry no token)
            logger.warning("turn %s not sent (%s): %s", turn.pk, outcomes[str(turn.pk)], sent)
    delivered = [(turn, sent) for turn, sent in returned if not isinstance(sent, TelegramClientError)]
    record_sent(delivered)
    return outcomes | dict.fromkeys([str(turn.pk) for turn, _ in delivered], "sent")


def record_sent(delivered: list[tuple[Turn, SentMessage | None]]) -> list[Message]:
    """Store the delivered messages and finish their turns, in one transaction of a few queries for them all.

    A turn the recovery sweep already gave up on (marked `unconfirmed`) keeps that verdict, without a message.
    """
    if not delivered:
        return []
    with transaction.atomic():
        messages = {turn.pk: _message(turn, sent) for turn, sent in delivered if sent is not None}
        Message.objects.bulk_create(messages.values())
        turns = {turn.pk: turn for turn, _ in delivered}
        won = turns_transition_each(
            rows={pk: {"message_id": messages[pk].pk if pk in messages else None, "error": ""} for pk in turns},
            from_status=Turn.Status.SENDING,
            to_status=Turn.Status.SENT,
            kinds={pk: str(turn.kind) for pk, turn in turns.items()},
        )
        lost = [messages.pop(pk).pk for pk in set(turns) - set(won) if pk in messages]
        if lost:
            Message.objects.filter(pk__in=lost).delete()
        _count_for_persona_refresh([turns[pk] for pk in won])
        transaction.on_commit(lambda: _count_sent([turns[pk] for pk in won]))
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
    flags = ["priority_reply"] if turn.kind == Turn.Kind.PRIORITY_REPLY else []
    return {
        "topic": turn.inputs.get("topic"),
        "symbols": sorted(set(symbols_in(turn.text)))[:10],
        "turn_id": turn.pk,
        "flags": flags,
    }


def _count_for_persona_refresh(turns: list[Turn]) -> None:
    """Count each sent message against its membership's persona refresh (a full persona resets the count)."""
    memberships = _membership_ids(turns)  # a turn whose membership is gone has nothing to count
    known = [turn for turn in turns if turn.pk in memberships]
    memberships_count_sent(
        sent=Counter(memberships[turn.pk] for turn in known if not turn.inputs.get("full_persona")),
        full_persona=[memberships[turn.pk] for turn in known if turn.inputs.get("full_persona")],
    )


def _membership_ids(turns: list[Turn]) -> dict[int, int]:
    """Each turn's membership, as read with it (`_loaded`), or else looked up (one query)."""
    read: dict[int, int | None] = {turn.pk: getattr(turn, MEMBERSHIP, None) for turn in turns}
    found = {pk: membership for pk, membership in read.items() if membership is not None}
    missing = {(turn.chat_id, turn.bot_id): turn.pk for turn in turns if turn.pk not in found}
    if missing:
        chats, bots = {chat for chat, _ in missing}, {bot for _, bot in missing}
        rows = Membership.objects.filter(chat_id__in=chats, bot_id__in=bots).values_list("chat_id", "bot_id", "pk")
        found |= {missing[(chat, bot)]: pk for chat, bot, pk in rows if (chat, bot) in missing}
    return found


def _retry_after(turn: Turn, retry_after: float) -> str:
    _hold_bot(turn, retry_after)
    _back_to_ready(turn, delay=retry_after, error=f"rate limited by Telegram, retry after {retry_after:g}s")
    return "rate_limited"


def _back_to_ready(turn: Turn, *, delay: float, error: str) -> None:
    """The send did not happen: return the turn to `ready` and schedule the next attempt."""
    at = _not_before(timezone.now() + timedelta(seconds=delay))
    if turn_transition(
        turn_id=turn.pk, from_status=Turn.Status.SENDING, to_status=Turn.Status.READY, error=error, next_run_at=at
    ):
        schedule_send(turn.pk, at=at)


def _permanent(turn: Turn, error: TelegramPermanentError) -> str:
    _end(turn, Turn.Status.FAILED, f"Telegram: {error}")
    if error.ends_membership:
        membership = Membership.objects.filter(chat_id=turn.chat_id, bot_id=turn.bot_id).first()
        if membership is not None:
            membership_disable(membership_id=membership.pk, reason=f"Telegram: {error}")
    return "failed"


def _transient(turn: Turn, error: TelegramTransientError) -> str:
    if error.maybe_sent:
        # The request may have reached Telegram: resending could duplicate the message.
        _end(turn, Turn.Status.UNCONFIRMED, f"Telegram: {error} (may have been delivered; not resent)")
        return "unconfirmed"
    if turn.attempts >= MAX_SEND_ATTEMPTS:
        _end(turn, Turn.Status.FAILED, f"Telegram unavailable after {turn.attempts} attempts: {error}")
        return "failed"
    _back_to_ready(turn, delay=min(60.0, 2.0**turn.attempts), error=f"retrying: {error}"[:2000])
    return "retry"

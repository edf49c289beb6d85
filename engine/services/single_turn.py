"""One turn on demand (the run_turn command): plan, generate and deliver it synchronously in this process."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from django.utils import timezone

from chats.models import Chat, Message
from engine import seeding
from engine.clients.llm import LlmClient, client_from_settings
from engine.kinds import Target, kind_spec
from engine.models import Turn
from engine.selectors import settings_all
from engine.services import delivery, generation, planning
from engine.services.turns import Outcome, turn_transition

# Delivery outcomes after which the turn is READY again and may be sent a little later.
WAIT_OUTCOMES = frozenset({Outcome.DEFERRED, Outcome.RATE_LIMITED, Outcome.RETRY})
NO_SEND_REASON = "not sent: run_turn --no-send"
NOT_SENT = "not_sent"


class SingleTurnError(Exception):
    """The turn cannot be planned as asked (unknown chat, bot not a member, nothing to react to)."""


@dataclass
class SingleTurnResult:
    """The turn after the run, and what generation and delivery said."""

    turn: Turn
    generation: str
    delivery: str | None

    @property
    def ok(self) -> bool:
        """Generated, and sent unless sending was not asked for."""
        if self.generation != Outcome.READY:
            return False
        return self.delivery == NOT_SENT or self.turn.status == Turn.Status.SENT


def turn_run_once(
    *,
    chat_id: int,
    bot_id: int | None = None,
    kind: str | None = None,
    send: bool = True,
    llm: LlmClient | None = None,
    max_wait_s: float = 30.0,
    rng: random.Random | None = None,
) -> SingleTurnResult:
    """Plan one turn now (no due-ness or caps), generate it and, with `send`, deliver it without the typing delay."""
    turn = turn_plan_one(chat_id=chat_id, bot_id=bot_id, kind=kind, rng=rng or seeding.rng("one", chat_id, time.time()))
    outcome = generation.generate_turn(turn_id=turn.pk, llm=llm or client_from_settings())
    sent: str | None = None
    if outcome is Outcome.RETRY:
        _give_up(turn.pk)
    if outcome is Outcome.READY:
        sent = _deliver(turn.pk, max_wait_s=max_wait_s) if send else _keep_unsent(turn.pk)
    turn.refresh_from_db()
    return SingleTurnResult(turn=turn, generation=outcome, delivery=sent)


def turn_plan_one(*, chat_id: int, bot_id: int | None, kind: str | None, rng: random.Random) -> Turn:
    """Create one planned turn for the chat: the given bot, or one chosen the way the tick chooses."""
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is None:
        raise SingleTurnError(f"chat {chat_id} does not exist")
    config = settings_all().for_chat(chat.settings_overrides)
    due = planning.DueChat(chat.pk, chat.timezone, chat.cadence, chat.topics, config=config)
    # The tick's own loaders, so speakers and the last message are seen exactly as the tick sees them.
    planning._attach_last_messages({chat.pk: due})
    planning._attach_speakers({chat.pk: due})
    speaker = _speaker(due, bot_id, rng)
    chosen_kind, reply_to = _kind(due, speaker, kind, rng)
    now = timezone.now()
    return Turn.objects.create(
        chat=chat, bot_id=speaker.bot_id, kind=chosen_kind, reply_to_id=reply_to, due_at=now, next_run_at=now
    )


def _speaker(due: planning.DueChat, bot_id: int | None, rng: random.Random) -> planning.Speaker:
    if not due.speakers:
        raise SingleTurnError(f"chat {due.chat_id} has no enabled member bot")
    if bot_id is None:
        return planning.choose_speaker(due.speakers, last_bot_id=due.last_bot_id, topic=due.last_topic, rng=rng)
    for speaker in due.speakers:
        if speaker.bot_id == bot_id:
            return speaker
    raise SingleTurnError(f"bot {bot_id} is not an enabled member of chat {due.chat_id}")


def _kind(
    due: planning.DueChat, speaker: planning.Speaker, kind: str | None, rng: random.Random
) -> tuple[str, int | None]:
    if kind is None:
        return planning.choose_kind(due, speaker=speaker, config=due.config, rng=rng)
    if kind_spec(kind).target is not Target.PLANNED:
        return kind, None  # a reply's target is chosen when the context is built
    target = (
        Message.objects.filter(chat_id=due.chat_id, telegram_message_id__isnull=False)
        .exclude(bot_id=speaker.bot_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if target is None:
        raise SingleTurnError(f"nothing to react to in chat {due.chat_id}")
    return kind, target


def _deliver(turn_id: int, *, max_wait_s: float) -> str:
    """Send now (one typing action first); wait out Telegram's pacing, up to max_wait_s."""
    delivery.send_typing(turn_id=turn_id)
    deadline = time.monotonic() + max_wait_s
    outcome: str = delivery.send_turn(turn_id=turn_id)
    while outcome in WAIT_OUTCOMES and time.monotonic() < deadline:
        time.sleep(max(0.05, min(_seconds_until_next_run(turn_id), deadline - time.monotonic())))
        outcome = delivery.send_turn(turn_id=turn_id)
    if outcome in (Outcome.NOT_READY, Outcome.NOT_CLAIMED):
        # A worker ran the turn's scheduled send first: wait for its verdict instead.
        outcome = _await_terminal(turn_id, deadline)
    return outcome


def _seconds_until_next_run(turn_id: int) -> float:
    at = Turn.objects.filter(pk=turn_id).values_list("next_run_at", flat=True).first()
    return 0.0 if at is None else (at - timezone.now()).total_seconds()


def _await_terminal(turn_id: int, deadline: float) -> str:
    while time.monotonic() < deadline:
        status = Turn.objects.filter(pk=turn_id).values_list("status", flat=True).first()
        if status in Turn.TERMINAL:
            return str(status)
        time.sleep(0.2)
    return "timeout"


def _give_up(turn_id: int) -> None:
    """The LLM asked for a retry: a one-off run does not wait for it, and no worker should pick it up later."""
    error = Turn.objects.filter(pk=turn_id).values_list("error", flat=True).first() or ""
    reason = f"run_turn does not retry; {error}".strip()
    turn_transition(turn_id=turn_id, from_status=Turn.Status.PLANNED, to_status=Turn.Status.FAILED, error=reason)


def _keep_unsent(turn_id: int) -> str:
    """--no-send: the text is kept for inspection, and the turn is closed so no worker sends it later."""
    turn_transition(turn_id=turn_id, from_status=Turn.Status.READY, to_status=Turn.Status.SKIPPED, error=NO_SEND_REASON)
    return NOT_SENT

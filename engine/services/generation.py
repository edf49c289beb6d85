"""Generate a turn's text: one LLM call in the normal case, local checks, a repair call only when one fails."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

from django.db import connection
from django.utils import timezone
from telegram.constants import ReactionEmoji

from bots.models import Memory
from chats.models import Message
from config.sql import add_to_counts
from engine import liveness
from engine.clients import loops
from engine.clients.llm import LlmClient, client_from_settings
from engine.clients.llm.base import (
    ChatMessage,
    LlmCircuitOpen,
    LlmError,
    LlmPermanentError,
    LlmRateLimited,
    LlmRequest,
    LlmResponse,
    estimate_prompt_tokens,
)
from engine.models import Turn
from engine.selectors import settings_all
from engine.services import budget, postprocess, prompts
from engine.services.context import (
    TurnContext,
    add_bot_facts,
    add_histories,
    add_own_statements,
    bot_facts,
    build_context,
    load_turns,
    telegram_id_of,
)
from engine.services.delivery import DeliveryPlan, enqueue_deliveries, plan_delivery
from engine.services.dispatch import schedule
from engine.services.turns import turn_transition, turns_transition, turns_transition_each
from monitoring import metrics

logger = logging.getLogger(__name__)
MAX_GENERATION_ATTEMPTS = 6
DEDUP_SCAN_LIMIT = 200
REACTIONS = {
    "bullish": [ReactionEmoji.FIRE, ReactionEmoji.THUMBS_UP, ReactionEmoji.HUNDRED_POINTS_SYMBOL],
    "bearish": [ReactionEmoji.THUMBS_DOWN, ReactionEmoji.THINKING_FACE, ReactionEmoji.FACE_SCREAMING_IN_FEAR],
    "neutral": [ReactionEmoji.THINKING_FACE, ReactionEmoji.EYES, ReactionEmoji.THUMBS_UP],
}


@dataclass
class Usage:
    """LLM accounting of one turn, over every call it made."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    cost: Decimal = Decimal(0)
    model: str = ""
    problems: list[str] = field(default_factory=list)
    budget_delta: int = 0  # tokens used beyond the budget reservations (negative: reserved, not used)

    def add(self, response: LlmResponse) -> None:
        self.calls += 1
        self.tokens_in += response.tokens_in
        self.tokens_out += response.tokens_out
        self.latency_ms += response.latency_ms
        self.cost += response.cost_usd
        self.model = response.model


class BudgetWait(LlmRateLimited):
    """The shared LLM budget says wait (a 429 seen by any worker, or the limits): no request was made."""


class Rejected(Exception):
    """The model's output failed the local checks even after a repair, or repeats the chat."""


_client: LlmClient | None = None


def llm_client() -> LlmClient:
    """The process's LLM client (one connection pool per worker process, reused across jobs)."""
    global _client
    if _client is None:
        _client = client_from_settings()
    return _client


def generate_turn(*, turn_id: int, llm: LlmClient | None = None) -> str:
    """Claim a planned turn and carry it to `ready` (or skipped/failed); returns the outcome."""
    return generate_turns(turn_ids=[turn_id], llm=llm)[str(turn_id)]


def generate_priority_batch(*, turn_id: int, llm: LlmClient | None = None) -> dict[str, str]:
    """Generate a priority reply together with other pending ones, concurrently, up to `batch_size`."""
    config = settings_all()
    size = config["batch_size"] if config["batch_processing_enabled"] else 1
    pending = Turn.objects.filter(
        kind=Turn.Kind.PRIORITY_REPLY, status=Turn.Status.PLANNED, next_run_at__lte=timezone.now()
    ).exclude(pk=turn_id)
    turn_ids = [turn_id, *pending.order_by("created_at").values_list("pk", flat=True)[: size - 1]]
    return generate_turns(turn_ids=turn_ids, llm=llm, config=config)


@dataclass
class Draft:
    """A claimed turn on its way to `ready`: its context, then what its LLM calls gave."""

    turn: Turn
    context: TurnContext
    recent: list[str]
    rng: random.Random
    usage: Usage = field(default_factory=Usage)
    prepaid: bool = False  # the first call's budget was reserved with the batch's
    text: str = ""
    error: Exception | None = None

    @cached_property
    def request(self) -> LlmRequest:
        """The first LLM call (once the batch's past statements are in the context)."""
        return first_request(self.context)


def generate_turns(
    *, turn_ids: list[int], llm: LlmClient | None = None, config: dict[str, Any] | None = None
) -> dict[str, str]:
    """Claim turns and build their contexts, make their LLM calls concurrently, and carry each to its outcome.

    The database work runs on the caller's thread (one connection per worker); the LLM calls and the local
    checks run together on a network thread's event loop, so a batch's network waits overlap. A turn that
    crashes does not stop the others; the first crash is raised once every turn has its outcome.
    """
    config = config or settings_all()
    llm = llm or llm_client()
    outcomes: dict[str, str] = {}
    crashes: list[Exception] = []
    drafts: list[Draft] = []
    claimed = _claim(turn_ids, outcomes)
    loaded, recent = _load(claimed, config)
    turns = {turn.pk: turn for turn in loaded}
    reactions: dict[int, Ready] = {}  # they need no LLM call: written together at once
    for turn_id in claimed:
        try:
            prepared = _prepare(turns[turn_id], config, recent.get(turns[turn_id].chat_id, []))
        except Exception as error:
            logger.exception("turn %s crashed while preparing", turn_id)
            crashes.append(error)
            continue
        if isinstance(prepared, Ready):
            reactions[turn_id] = prepared
            outcomes[str(turn_id)] = "ready"
        elif isinstance(prepared, str):
            outcomes[str(turn_id)] = prepared
        else:
            drafts.append(prepared)
    _deliver(reactions, outcomes, config, crashes)
    add_own_statements([draft.context for draft in drafts])
    _reserve_together(drafts, config, llm)
    for group in _written(drafts, config, llm):  # settled as soon as their LLM calls are over
        ready: dict[int, Ready] = {}
        for draft in group:
            try:
                outcomes[str(draft.turn.pk)] = _settle(draft, config, ready)
            except Exception as error:
                logger.exception("turn %s crashed while settling", draft.turn.pk)
                crashes.append(error)
        _deliver(ready, outcomes, config, crashes)
    _count_memory_use([draft for draft in drafts if outcomes.get(str(draft.turn.pk)) == "ready"])
    budget.correct_tokens(sum(draft.usage.budget_delta for draft in drafts))
    if crashes:
        raise crashes[0]
    return {str(turn_id): outcomes[str(turn_id)] for turn_id in turn_ids}


def _deliver(
    ready: dict[int, Ready], outcomes: dict[str, str], config: dict[str, Any], crashes: list[Exception]
) -> None:
    """Move a group of written turns to `ready` in one statement, then enqueue their typing and sends."""
    if not ready:
        return
    try:
        deliveries = _write_ready(ready, outcomes)
    except Exception as error:  # still `generating`, claimed by this job: the sweep recovers them
        logger.exception("turns %s crashed while becoming ready", list(ready))
        crashes.append(error)
        for turn_id in ready:
            del outcomes[str(turn_id)]
        return
    try:
        enqueue_deliveries(deliveries, config=config)
    except Exception as error:  # the turns are `ready` with their send time: the sweep re-enqueues them
        logger.exception("turns %s crashed while enqueueing their delivery", [turn.pk for turn, _ in deliveries])
        crashes.append(error)


def _claim(turn_ids: list[int], outcomes: dict[str, str]) -> list[int]:
    """The turns this job wins (one atomic claim for all); the others get the outcome `not_claimed`."""
    claimed = turns_transition(turn_ids=turn_ids, from_status=Turn.Status.PLANNED, to_status=Turn.Status.GENERATING)
    for turn_id in set(turn_ids) - set(claimed):
        outcomes[str(turn_id)] = "not_claimed"
    liveness.claim_record(*claimed)
    return claimed


def _load(turn_ids: list[int], config: dict[str, Any]) -> tuple[list[Turn], dict[int, list[str]]]:
    """The claimed turns with their contexts' data, and their chats' recent bot texts; a fixed number of queries."""
    # The message replied to is almost always among the history loaded anyway; joining it here would cost
    # every turn a wider query (`reply_to` is loaded on access when it is not).
    turns = load_turns(turn_ids)
    add_histories(turns)
    add_bot_facts(turn.bot for turn in turns)
    return turns, recent_bot_texts({turn.chat_id for turn in turns}, config) if config["dedup_enabled"] else {}


def recent_bot_texts(chat_ids: set[int], config: dict[str, Any]) -> dict[int, list[str]]:
    """Each chat's bot messages inside the dedup window, newest first, at most DEDUP_SCAN_LIMIT, normalised.

    One query of plain rows, not model instances: a running chat has hundreds, and building a Message for
    each was most of a batch's load. Texts come in the form stored with them (folding each again cost
    more than the comparisons); a message stored without it (not recorded by the engine) is read and folded
    here, in a second query only when there is one.
    """
    if not chat_ids:
        return {}
    since = timezone.now() - timedelta(hours=config["dedup_window_hours"])
    ids = sorted(chat_ids)
    with connection.cursor() as cursor:
        # SQL built once per number of chats: the ORM compiled this window query afresh each batch (1.5 ms).
        cursor.execute(
            _recent_bot_texts_sql(connection.vendor, len(ids)),
            [*ids, connection.ops.adapt_datetimefield_value(since), DEDUP_SCAN_LIMIT],
        )
        rows: list[tuple[int, int, str]] = cursor.fetchall()
    unfolded = [pk for _, pk, normalized in rows if not normalized]
    unread = dict(Message.objects.filter(pk__in=unfolded).values_list("pk", "text")) if unfolded else {}
    texts: dict[int, list[str]] = {chat_id: [] for chat_id in chat_ids}
    for chat_id, pk, normalized in rows:
        texts[chat_id].append(normalized or postprocess.normalize(unread[pk]))
    return texts


@cache
def _recent_bot_texts_sql(vendor: str, chats: int) -> str:
    quote = connection.ops.quote_name
    chat, pk, normalized, created = (quote(name) for name in ("chat_id", "id", "text_normalized", "created_at"))
    rank = f"ROW_NUMBER() OVER (PARTITION BY {chat} ORDER BY {created} DESC, {pk} DESC)"
    return (
        f"SELECT {chat}, {pk}, {normalized} FROM (SELECT {chat}, {pk}, {normalized}, {rank} AS {quote('rank')} "
        f"FROM {quote(Message._meta.db_table)} WHERE {chat} IN ({', '.join(['%s'] * chats)}) "
        f"AND {quote('bot_id')} IS NOT NULL AND {created} >= %s) ranked WHERE {quote('rank')} <= %s "
        f"ORDER BY {chat}, {quote('rank')}"
    )


def _prepare(turn: Turn, config: dict[str, Any], recent: list[str]) -> Draft | Ready | str:
    """Gather everything a claimed turn's LLM call needs; an outcome instead when it ends here."""
    if turn.next_run_at is not None:
        metrics.observe_lateness("generate", (timezone.now() - turn.next_run_at).total_seconds())
    rng = random.Random(turn.pk)
    if turn.kind == Turn.Kind.REACTION:
        return _react(turn, rng, config)
    context = build_context(turn, config=config, rng=rng, statements=False)  # the batch's are read together
    return Draft(turn=turn, context=context, recent=recent, rng=rng)


def _reserve_together(drafts: list[Draft], config: dict[str, Any], llm: LlmClient) -> None:
    """Reserve the batch's first calls in the shared LLM budget in one round trip, when all fit."""
    if llm.provider.name == "offline" or not drafts:
        return
    if budget.reserve_together(config["llm_budget"], [_estimate(draft.request) for draft in drafts]):
        for draft in drafts:
            draft.prepaid = True


def _written(drafts: list[Draft], config: dict[str, Any], llm: LlmClient) -> Iterator[list[Draft]]:
    """The drafts once written, in groups: every one whose LLM calls are over when it looks."""
    for returned in loops.as_returned(drafts, lambda draft: _write_draft(draft, config, llm)):
        yield [draft for draft, _ in returned]


async def _write_draft(draft: Draft, config: dict[str, Any], llm: LlmClient) -> None:
    try:
        draft.text = await write(
            draft.context,
            config=config,
            llm=llm,
            usage=draft.usage,
            recent=draft.recent,
            request=draft.request,
            prepaid=draft.prepaid,
        )
    except Exception as error:  # noqa: BLE001 — settled (or raised) on the caller's thread
        draft.error = error


def _settle(draft: Draft, config: dict[str, Any], ready: dict[int, Ready]) -> str:
    turn, error, usage = draft.turn, draft.error, draft.usage
    if isinstance(error, LlmPermanentError):
        return _finish(turn, Turn.Status.FAILED, error=f"LLM: {error}", usage=usage)
    if isinstance(error, LlmError):
        return _retry_later(turn, error, usage)
    if isinstance(error, Rejected):
        return _finish(turn, Turn.Status.SKIPPED, error=str(error), usage=usage)
    if error is not None:
        raise error
    ready[turn.pk] = _ready(turn, draft.context, draft.text, usage, draft.rng, config)
    return "ready"  # once written with the group's others (`_write_ready`)


def first_request(context: TurnContext) -> LlmRequest:
    """The turn's one LLM call in the normal case: its prompt, model, temperature, length and seed."""
    return LlmRequest(
        messages=prompts.messages(context),
        model=context.bot.llm_model,
        temperature=prompts.temperature(context),
        max_tokens=prompts.max_tokens(context),
        seed=context.turn.pk,
        hints=prompts.hints(context),
    )


async def write(
    context: TurnContext,
    *,
    config: dict[str, Any],
    llm: LlmClient,
    usage: Usage,
    recent: list[str],
    request: LlmRequest,
    prepaid: bool = False,
) -> str:
    """One call (`request`); a repair call only if a local check fails; one retry if the result repeats `recent`.

    `recent` texts are normalised (`postprocess.normalize`); `prepaid`: the first call's budget is reserved.
    """
    text = await _complete(llm, request, context, usage, config, prepaid=prepaid)
    problems = _problems(text, context, config)
    if problems:
        usage.problems += problems
        repair: list[ChatMessage] = [
            *request.messages,
            {"role": "assistant", "content": text},
            prompts.repair_message(problems, context.language),
        ]
        repaired = replace(request, messages=repair, seed=(request.seed or 0) + 1)
        text = await _complete(llm, repaired, context, usage, config)
        if _problems(text, context, config):
            raise Rejected("rejected by local checks after repair: " + "; ".join(problems))
    if config["dedup_enabled"] and postprocess.is_duplicate(text, recent, normalized=True):
        usage.problems.append("duplicate")
        retry = replace(request, seed=(request.seed or 0) + 7, temperature=min(1.0, request.temperature + 0.1))
        text = await _complete(llm, retry, context, usage, config)
        if postprocess.is_duplicate(text, recent, normalized=True) or _problems(text, context, config):
            raise Rejected("duplicate of a recent message")
    return text


async def _complete(
    llm: LlmClient,
    request: LlmRequest,
    context: TurnContext,
    usage: Usage,
    config: dict[str, Any],
    *,
    prepaid: bool = False,
) -> str:
    # The offline provider has no rate limits; network providers are governed by the shared budget (its Redis
    # round trips block the loop for a moment; only repair and retry calls reserve here, one by one).
    network = llm.provider.name != "offline"
    estimate = _estimate(request)
    if network and not prepaid:
        wait = budget.reserve(config["llm_budget"], estimate)
        if wait > 0:
            raise BudgetWait("LLM budget exhausted", retry_after=wait)
    try:
        response = await llm.complete(request)
    except LlmRateLimited as error:
        budget.rate_limited(error.retry_after)
        raise
    usage.add(response)
    if network:  # the tokens are corrected once for the whole batch (`budget.correct_tokens`)
        usage.budget_delta += response.tokens_in + response.tokens_out - estimate
        budget.obey_headers(response.rate_limits)
    return postprocess.clean_output(response.text, bot_name=context.bot.name)


def _estimate(request: LlmRequest) -> int:
    """The tokens a request is reserved for: its prompt and the longest answer it allows."""
    return estimate_prompt_tokens(request.messages) + request.max_tokens


def _problems(text: str, context: TurnContext, config: dict[str, Any]) -> list[str]:
    problems = [] if text else ["empty message"]
    if config["compliance_guard_enabled"]:
        problems += postprocess.compliance_problems(text)
    if config["consistency_guard_enabled"]:
        problems += postprocess.stance_problems(text, [(s.topic, s.polarity) for s in context.stances])
    return problems


@dataclass(frozen=True)
class Ready:
    """A written turn on its way to `ready`: its delivery plan and the fields stored with the status change."""

    turn: Turn
    plan: DeliveryPlan
    fields: dict[str, Any]


def _ready(
    turn: Turn, context: TurnContext, text: str, usage: Usage, rng: random.Random, config: dict[str, Any]
) -> Ready:
    text = postprocess.humanize(text, persona=context.persona, emotion=context.emotion, rng=rng)
    text = postprocess.cap_length(postprocess.add_mention(text, context.mention), context.length)
    inputs = _inputs_summary(context, usage)
    # The send time is stored with the status change; the jobs are enqueued after commit.
    plan = plan_delivery(turn, text, config=config, rng=rng)
    fields = _usage_fields(usage) | {"text": text, "inputs": inputs}
    fields["reply_to_id"] = context.target.pk if context.target is not None else None
    fields |= {"send_at": plan.send_at, "next_run_at": plan.send_at}
    return Ready(turn, plan, fields)


def _write_ready(ready: dict[int, Ready], outcomes: dict[str, str]) -> list[tuple[Turn, DeliveryPlan]]:
    """Move a group's written turns to `ready` in one UPDATE; the ones the sweep took meanwhile lost their claim."""
    rows = {turn_id: written.fields for turn_id, written in ready.items()}
    won = set(turns_transition_each(rows=rows, from_status=Turn.Status.GENERATING, to_status=Turn.Status.READY))
    for turn_id in set(ready) - won:
        outcomes[str(turn_id)] = "lost_claim"
    return [(written.turn, written.plan) for turn_id, written in ready.items() if turn_id in won]


def _count_memory_use(drafts: list[Draft]) -> None:
    """Count the memories the ready drafts' prompts used (an UPDATE for a whole batch)."""
    uses = Counter(memory.pk for draft in drafts for memory in draft.context.memories)
    add_to_counts(Memory, "usage_count", uses, last_used_at=timezone.now())


def _react(turn: Turn, rng: random.Random, config: dict[str, Any]) -> Ready | str:
    """A reaction: an emoji of the bot's strongest stance on the message it was planned on; no LLM call."""
    stances = bot_facts(turn.bot).stances
    polarity = max(stances, key=lambda stance: stance.confidence).polarity if stances else "neutral"
    emoji = rng.choice(REACTIONS[polarity]).value
    if turn.reply_to_id is None or telegram_id_of(turn.chat, turn.reply_to_id) is None:
        return _finish(turn, Turn.Status.SKIPPED, error="nothing to react to", usage=Usage())
    plan = plan_delivery(turn, emoji, config=config, rng=rng)
    return Ready(turn, plan, {"text": emoji, "send_at": plan.send_at, "next_run_at": plan.send_at})


def _retry_later(turn: Turn, error: LlmError, usage: Usage) -> str:
    # Waiting for an open circuit or the budget made no request: it is not an attempt, so an LLM outage
    # longer than a few retries does not fail the turns waiting for it (the sweep expires them after 30 min).
    attempts = turn.attempts + (0 if isinstance(error, LlmCircuitOpen | BudgetWait) else 1)
    if attempts >= MAX_GENERATION_ATTEMPTS:
        return _finish(
            turn, Turn.Status.FAILED, error=f"LLM unavailable after {attempts} attempts: {error}", usage=usage
        )
    delay = error.retry_after if error.retry_after is not None else min(60.0, 2.0**attempts)
    at = timezone.now() + timedelta(seconds=delay)
    fields = _usage_fields(usage) | {"attempts": attempts, "error": f"retrying: {error}", "next_run_at": at}
    if turn_transition(turn_id=turn.pk, from_status=Turn.Status.GENERATING, to_status=Turn.Status.PLANNED, **fields):
        schedule("engine.jobs.generate_turn", turn.pk, at=at, queue=_queue(turn))
    return "retry"


def _finish(turn: Turn, status: str, *, error: str, usage: Usage) -> str:
    logger.info("turn %s %s: %s", turn.pk, status, error)
    turn_transition(
        turn_id=turn.pk,
        from_status=Turn.Status.GENERATING,
        to_status=status,
        turn_kind=turn.kind,
        error=error[:2000],
        **_usage_fields(usage),
    )
    return str(status)


def _queue(turn: Turn) -> str:
    return "high" if turn.kind == Turn.Kind.PRIORITY_REPLY else "default"


def _usage_fields(usage: Usage) -> dict[str, Any]:
    if not usage.calls:
        return {}
    return {
        "llm_calls": usage.calls,
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "cost_usd": usage.cost,
        "llm_latency_ms": usage.latency_ms,
        "llm_model": usage.model,
    }


def _inputs_summary(context: TurnContext, usage: Usage) -> dict[str, Any]:
    return {
        "topic": context.topic,
        "language": context.language,
        "length": context.length,
        "mode": "reply" if context.target is not None else "new",
        "target_id": context.target.pk if context.target is not None else None,
        "stances": [s.topic for s in context.stances],
        "holdings": [h.symbol for h in context.holdings],
        "memories": [m.pk for m in context.memories],
        "own_statements": len(context.own_statements),
        "history": len(context.history),
        "headline": context.headline,
        "news_id": context.headline_id,
        "full_persona": context.full_persona,
        "mention": context.mention,
        "problems": usage.problems,
    }

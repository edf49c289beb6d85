"""Generate a turn's text: one LLM call in the normal case, local checks, a repair call only when one fails."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import timezone

from bots.models import Memory
from config.queries import add_to_counts
from engine import jobs, liveness, seeding
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
from engine.kinds import kind_spec
from engine.models import Turn
from engine.outputs import OutputAction, OutputReason
from engine.runtime_settings import RuntimeConfig
from engine.selectors import settings_all
from engine.services import budget, postprocess, prompts, screening
from engine.services.context import TurnContext, build_context, with_own_statements
from engine.services.delivery import DeliveryPlan, enqueue_deliveries, plan_delivery
from engine.services.dispatch import enqueue
from engine.services.flood import FloodSkip
from engine.services.loading import LoadedTurn, load_batch
from engine.services.reactions import reaction_choices
from engine.services.topics import reply_quote
from engine.services.turns import Outcome, turn_transition, turns_transition, turns_transition_each
from monitoring import metrics

logger = logging.getLogger(__name__)
MAX_GENERATION_ATTEMPTS = 6


@dataclass
class Usage:
    """LLM accounting of one turn, over every call it made (added to as the calls return)."""

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


def generate_turn(*, turn_id: int, llm: LlmClient | None = None) -> Outcome:
    """Claim a planned turn and carry it to `ready` (or skipped/failed); returns the outcome."""
    return generate_turns(turn_ids=[turn_id], llm=llm)[turn_id]


def generate_priority_batch(*, turn_id: int, llm: LlmClient | None = None) -> dict[int, Outcome]:
    """Generate a priority reply together with other pending ones, concurrently, up to `batch_size`."""
    config = settings_all()
    size = config.batch_size if config.batch_processing_enabled else 1
    pending = Turn.objects.filter(
        kind=Turn.Kind.PRIORITY_REPLY, status=Turn.Status.PLANNED, next_run_at__lte=timezone.now()
    ).exclude(pk=turn_id)
    turn_ids = [turn_id, *pending.order_by("created_at").values_list("pk", flat=True)[: size - 1]]
    return generate_turns(turn_ids=turn_ids, llm=llm, config=config)


@dataclass
class Draft:
    """A claimed turn on its way to `ready`: its context, and the accounting of its LLM calls."""

    loaded: LoadedTurn
    context: TurnContext
    rng: random.Random
    usage: Usage = field(default_factory=Usage)
    prepaid: bool = False  # the first call's budget was reserved with the batch's

    @property
    def turn(self) -> Turn:
        return self.loaded.turn

    @cached_property
    def request(self) -> LlmRequest:
        """The first LLM call (once the batch's past statements are in the context)."""
        return first_request(self.context)


@dataclass(frozen=True)
class Ready:
    """A written turn on its way to `ready`: its delivery plan and the fields stored with the status change."""

    turn: Turn
    plan: DeliveryPlan
    fields: dict[str, Any]


class Crashes:
    """The crashes of a batch's turns: each is logged and kept, so the others still reach their outcome."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []

    @contextmanager
    def guard(self, what: str, *turn_ids: int) -> Iterator[None]:
        """Keep (and log) an exception raised inside, instead of stopping the batch."""
        try:
            yield
        except Exception as error:
            logger.exception("turns %s crashed while %s", list(turn_ids), what)
            self.errors.append(error)

    def raise_first(self) -> None:
        """Fail the job with the first crash, once every turn has its outcome."""
        if self.errors:
            raise self.errors[0]


def generate_turns(
    *, turn_ids: list[int], llm: LlmClient | None = None, config: RuntimeConfig | None = None
) -> dict[int, Outcome]:
    """Claim turns and build their contexts, make their LLM calls concurrently, and carry each to its outcome.

    The database work runs on the caller's thread (one connection per worker); the LLM calls and the local
    checks run together on a network thread's event loop, so a batch's network waits overlap. A turn that
    crashes does not stop the others; the first crash is raised once every turn has its outcome.
    """
    config = config or settings_all()
    llm = llm or llm_client()
    crashes = Crashes()
    claimed = _claim(turn_ids)
    outcomes = dict.fromkeys([turn_id for turn_id in turn_ids if turn_id not in claimed], Outcome.NOT_CLAIMED)
    drafts: list[Draft] = []
    reactions: dict[int, Ready] = {}  # they need no LLM call: written together at once
    for loaded in load_batch(claimed, config=config):
        with crashes.guard("preparing", loaded.turn.pk):
            prepared = _prepare(loaded, loaded.config)
            if isinstance(prepared, Draft):
                drafts.append(prepared)
            elif isinstance(prepared, Ready):
                reactions[loaded.turn.pk] = prepared
            else:
                outcomes[loaded.turn.pk] = prepared
    with crashes.guard("becoming ready", *reactions):
        outcomes |= _deliver(reactions, config)
    drafts = _with_statements(drafts)
    _reserve_together(drafts, config, llm)
    for group in loops.as_returned(drafts, lambda draft: _write(draft, draft.loaded.config, llm)):
        ready: dict[int, Ready] = {}
        for draft, result in group:  # settled as soon as their LLM calls are over
            with crashes.guard("settling", draft.turn.pk):
                settled = _settle(draft, result, config)
                if isinstance(settled, Ready):
                    ready[draft.turn.pk] = settled
                else:
                    outcomes[draft.turn.pk] = settled
        with crashes.guard("becoming ready", *ready):
            outcomes |= _deliver(ready, config)
    _count_memory_use([draft for draft in drafts if outcomes.get(draft.turn.pk) is Outcome.READY])
    budget.correct_tokens(sum(draft.usage.budget_delta for draft in drafts))
    crashes.raise_first()
    return {turn_id: outcomes[turn_id] for turn_id in turn_ids}


def _claim(turn_ids: list[int]) -> list[int]:
    """The turns this job wins (one atomic claim for all), recorded as this worker's."""
    claimed = turns_transition(turn_ids=turn_ids, from_status=Turn.Status.PLANNED, to_status=Turn.Status.GENERATING)
    liveness.claim_record(*claimed)
    return claimed


def _prepare(loaded: LoadedTurn, config: RuntimeConfig) -> Draft | Ready | Outcome:
    """Everything a claimed turn's LLM call needs; a reaction ready at once; an outcome when it ends here."""
    turn = loaded.turn
    if turn.next_run_at is not None:
        metrics.observe_lateness("generate", (timezone.now() - turn.next_run_at).total_seconds())
    rng = seeding.rng("turn", turn.pk, unseeded=turn.pk)
    if not kind_spec(turn.kind).writes_text:
        return _react(loaded, rng, config)
    return Draft(loaded=loaded, context=build_context(loaded, config=config, rng=rng), rng=rng)


def _with_statements(drafts: list[Draft]) -> list[Draft]:
    """The drafts with their bots' past statements on their topics, read in one query for the batch."""
    contexts = with_own_statements([draft.context for draft in drafts])
    return [replace(draft, context=context) for draft, context in zip(drafts, contexts, strict=True)]


def _deliver(ready: dict[int, Ready], config: RuntimeConfig) -> dict[int, Outcome]:
    """Move a group of written turns to `ready` in one statement, then enqueue their typing and sends.

    A crash while writing leaves them `generating`, claimed by this job: the sweep recovers them. A crash while
    enqueueing leaves them `ready` with their send time: the sweep re-enqueues them.
    """
    if not ready:
        return {}
    rows = {turn_id: written.fields for turn_id, written in ready.items()}
    won = set(turns_transition_each(rows=rows, from_status=Turn.Status.GENERATING, to_status=Turn.Status.READY))
    enqueue_deliveries(
        [(written.turn, written.plan) for turn_id, written in ready.items() if turn_id in won], config=config
    )
    return {turn_id: Outcome.READY if turn_id in won else Outcome.LOST_CLAIM for turn_id in ready}


def _reserve_together(drafts: list[Draft], config: RuntimeConfig, llm: LlmClient) -> None:
    """Reserve the batch's first calls in the shared LLM budget in one round trip, when all fit."""
    if not llm.spec.governed or not drafts:
        return
    share = config.abuse_limits.chat_llm_share
    sized = [(draft, _estimate(draft.request)) for draft in drafts]
    # One that can never fit is left to its own reservation, which refuses it.
    sized = [(draft, size) for draft, size in sized if not budget.too_large(config.llm_budget, size, share=share)]
    chat_ids, estimates = [draft.context.chat.pk for draft, _ in sized], [size for _, size in sized]
    if budget.reserve_together(config.llm_budget, estimates, chat_ids=chat_ids, share=share):
        for draft, _ in sized:
            draft.prepaid = True


async def _write(draft: Draft, config: RuntimeConfig, llm: LlmClient) -> str:
    return await write(
        draft.context,
        config=config,
        llm=llm,
        usage=draft.usage,
        recent=draft.loaded.recent_texts,
        request=draft.request,
        prepaid=draft.prepaid,
    )


def _settle(draft: Draft, result: str | BaseException, config: RuntimeConfig) -> Ready | Outcome:
    """What a written draft becomes: ready with its text, retried later, skipped or failed."""
    turn, usage = draft.turn, draft.usage
    if isinstance(result, LlmPermanentError):
        return _finish(turn, Turn.Status.FAILED, error=f"LLM: {result}", usage=usage)
    if isinstance(result, LlmError):
        return _retry_later(turn, result, usage)
    if isinstance(result, Rejected):
        return _finish(turn, Turn.Status.SKIPPED, error=str(result), usage=usage)
    if isinstance(result, BaseException):
        raise result
    return _ready(draft, result, config)


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
    config: RuntimeConfig,
    llm: LlmClient,
    usage: Usage,
    recent: list[str],
    request: LlmRequest,
    prepaid: bool = False,
) -> str:
    """One call (`request`); a repair call only if the local checks find what they cannot clean; one retry if the
    result repeats `recent`. Every finding is counted by reason (`engine/outputs.py`).

    `recent` texts are normalised (`postprocess.normalize`); `prepaid`: the first call's budget is reserved.
    """
    facts = output_facts(context, config)
    screened = await _complete(llm, request, context, usage, config, facts, prepaid=prepaid)
    _give_up_if_skipped(screened)
    if screened.repair:
        usage.problems += screened.problems
        _count(screened.repair, OutputAction.REPAIRED)
        repair: list[ChatMessage] = [
            *request.messages,
            {"role": "assistant", "content": screened.text},
            prompts.repair_message(list(screened.problems), context.language),
        ]
        repaired = replace(request, messages=repair, seed=(request.seed or 0) + 1)
        second = await _complete(llm, repaired, context, usage, config, facts)
        _give_up_if_skipped(second)
        if second.repair:
            _count(second.repair, OutputAction.SKIPPED)
            raise Rejected("rejected by local checks after repair: " + "; ".join(screened.problems))
        screened = second
    if config.dedup_enabled and postprocess.is_duplicate(screened.text, recent, normalized=True):
        usage.problems.append("duplicate")
        _count((OutputReason.DUPLICATE,), OutputAction.REPAIRED)
        retry = replace(request, seed=(request.seed or 0) + 7, temperature=min(1.0, request.temperature + 0.1))
        screened = await _complete(llm, retry, context, usage, config, facts)
        if screened.skip or screened.repair or postprocess.is_duplicate(screened.text, recent, normalized=True):
            _count((OutputReason.DUPLICATE,), OutputAction.SKIPPED)
            raise Rejected("duplicate of a recent message")
    return screened.text


def output_facts(context: TurnContext, config: RuntimeConfig) -> screening.Facts:
    """What the output checks need to know about the turn (its guards as configured)."""
    target = context.target
    speakers = [line.speaker for line in context.history if not line.is_self]
    return screening.facts_for(
        bot_name=context.bot.name,
        language=context.language,
        speakers=[*speakers, target.speaker_label] if target is not None else speakers,
        asked=target.text if target is not None and target.bot_id != context.bot.pk else None,
        levels=[(holding.symbol, holding.average_price) for holding in context.holdings],
        stances=[(s.topic, s.polarity) for s in context.stances] if config.consistency_guard_enabled else (),
        compliance=config.compliance_guard_enabled,
        hidden=[context.persona.bio, *context.persona.never_do],
        memories=[memory.content for memory in context.memories],
        holdings=[(holding.symbol, holding.size) for holding in context.holdings],
        handles=chat_handles(context),
        links_allowed=config.output_links_allowed,
    )


def chat_handles(context: TurnContext) -> list[str]:
    """The @handles a message of this turn may name: the bot's, the one it answers, members shown by handle."""
    target = context.target
    shown = [line.speaker for line in context.history] + ([target.speaker_label] if target is not None else [])
    handles = [context.bot.username, context.mention or "", target.bot_username if target is not None else ""]
    return [*handles, *(label for label in shown if label.startswith("@"))]


def _give_up_if_skipped(screened: screening.Screened) -> None:
    if screened.skip is not None:
        _count((screened.skip,), OutputAction.SKIPPED)
        raise Rejected(f"skipped by local checks: {screened.skip}")


def _count(reasons: tuple[OutputReason, ...], action: OutputAction) -> None:
    for reason in reasons:
        metrics.record_llm_output_problem(reason, action)


async def _complete(
    llm: LlmClient,
    request: LlmRequest,
    context: TurnContext,
    usage: Usage,
    config: RuntimeConfig,
    facts: screening.Facts,
    *,
    prepaid: bool = False,
) -> screening.Screened:
    # A rate-limited provider is governed by the shared budget (its Redis round trips block the loop for a moment;
    # only repair and retry calls reserve here, one by one).
    governed = llm.spec.governed
    estimate = _estimate(request)
    if governed and not prepaid:
        wait = _reserve(config, estimate, context.chat.pk)
        if wait > 0:
            raise BudgetWait("LLM budget exhausted", retry_after=wait)
    try:
        response = await llm.complete(request)
    except LlmRateLimited as error:
        budget.rate_limited(error.retry_after)
        raise
    usage.add(response)
    if governed:  # the tokens are corrected once for the whole batch (`budget.correct_tokens`)
        usage.budget_delta += response.tokens_in + response.tokens_out - estimate
        budget.obey_headers(response.rate_limits)
    screened = screening.screen(response.text, finish_reason=response.finish_reason, facts=facts)
    _count(screened.cleaned, OutputAction.CLEANED)
    return screened


def _reserve(config: RuntimeConfig, estimate: int, chat_id: int) -> float:
    """The request's place in the budget, within its chat's share; a request that could never fit is rejected."""
    try:
        return budget.reserve(config.llm_budget, estimate, chat_id=chat_id, share=config.abuse_limits.chat_llm_share)
    except budget.RequestTooLarge as error:
        metrics.record_flood_skip(FloodSkip.REQUEST_TOO_LARGE)
        raise Rejected(f"LLM budget: {error}") from None


def _estimate(request: LlmRequest) -> int:
    """The tokens a request is reserved for: its prompt and the longest answer it allows."""
    return estimate_prompt_tokens(request.messages) + request.max_tokens


def _ready(draft: Draft, text: str, config: RuntimeConfig) -> Ready:
    context, turn, rng = draft.context, draft.turn, draft.rng
    text = postprocess.humanize(text, persona=context.persona, emotion=context.emotion, rng=rng, names=_names(context))
    text = postprocess.cap_length(postprocess.add_mention(text, context.mention), context.length)
    # The send time is stored with the status change; the jobs are enqueued after commit.
    plan = plan_delivery(turn, text, config=config, rng=rng)
    fields = _usage_fields(draft.usage) | {"text": text, "inputs": _inputs_summary(context, draft.usage)}
    fields["reply_to_id"] = context.target.pk if context.target is not None else None
    fields |= {"send_at": plan.send_at, "next_run_at": plan.send_at}
    return Ready(turn, plan, fields)


def _names(context: TurnContext) -> frozenset[str]:
    """The words of the names the turn's chat knows: the bot's and its speakers' (humanising keeps them)."""
    labels = [context.bot.name, *(line.speaker for line in context.history)]
    if context.target is not None:
        labels.append(context.target.speaker_label)
    return frozenset(word for label in labels for word in label.split())


def _count_memory_use(drafts: list[Draft]) -> None:
    """Count the memories the ready drafts' prompts used (an UPDATE for a whole batch)."""
    uses = Counter(memory.pk for draft in drafts for memory in draft.context.memories)
    add_to_counts(Memory, "usage_count", uses, last_used_at=timezone.now())


def _react(loaded: LoadedTurn, rng: random.Random, config: RuntimeConfig) -> Ready | Outcome:
    """A reaction: an emoji of the bot's strongest stance (that the group allows) on the message it was planned on;
    no LLM call."""
    stances, turn = loaded.facts.stances, loaded.turn
    polarity = max(stances, key=lambda stance: stance.confidence).polarity if stances else "neutral"
    choices = reaction_choices(polarity, loaded.chat.available_reactions)
    if loaded.target is None or loaded.target.telegram_message_id is None:
        return _finish(turn, Turn.Status.SKIPPED, error="nothing to react to", usage=Usage())
    if not choices:  # turned off since the turn was planned
        return _finish(turn, Turn.Status.SKIPPED, error="reactions are off in this chat", usage=Usage())
    emoji = rng.choice(choices)
    plan = plan_delivery(turn, emoji, config=config, rng=rng)
    return Ready(turn, plan, {"text": emoji, "send_at": plan.send_at, "next_run_at": plan.send_at})


def _retry_later(turn: Turn, error: LlmError, usage: Usage) -> Outcome:
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
        enqueue(jobs.generate_turn, turn.pk, queue=kind_spec(turn.kind).queue, at=at)
    return Outcome.RETRY


def _finish(turn: Turn, status: Turn.Status, *, error: str, usage: Usage) -> Outcome:
    logger.info("turn %s %s: %s", turn.pk, status, error)
    turn_transition(
        turn_id=turn.pk,
        from_status=Turn.Status.GENERATING,
        to_status=status,
        turn_kind=turn.kind,
        error=error[:2000],
        **_usage_fields(usage),
    )
    return Outcome(status)


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
        "symbol": context.symbol,
        "view": context.view,
        "language": context.language,
        "length": context.length,
        "mode": "reply" if context.target is not None else "new",
        "target_id": context.target.pk if context.target is not None else None,
        "quote": reply_quote(context.target.text, context.symbol) if context.target is not None else None,
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

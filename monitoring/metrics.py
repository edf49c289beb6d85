"""Every engine metric, defined once: counters and histograms incremented in-process, plus their helpers.

Names are prefixed `piyasa_`, in base units (seconds, USD), `_total` only on counters. Labels are
bounded: values come from fixed sets in code (kinds, outcomes, methods, queues), or from configuration
(provider and model names, capped per process). Never a chat id, a user or text.

Processes run prometheus_client in multiprocess mode (config/settings.py sets PROMETHEUS_MULTIPROC_DIR
before prometheus_client is imported): an increment in an RQ worker lands in a file that the web
process's `/metrics` merges. Point-in-time values (queue depth, backoffs, breaker state, heartbeat)
are not kept here but computed at scrape time by `monitoring.collectors.EngineCollector`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from engine.kinds import KINDS
from engine.outputs import OutputAction, OutputReason
from engine.providers import PROVIDERS
from engine.queues import QueueName

TURN_KINDS = tuple(KINDS)
TURN_OUTCOMES = ("sent", "skipped", "failed", "unconfirmed")
SCHEDULED_JOBS = ("generate", "send")
LLM_OUTCOMES = ("ok", "rate_limited", "error", "circuit_open")
LLM_PROVIDERS = tuple(PROVIDERS)
TOKEN_KINDS = ("prompt", "completion")
TELEGRAM_METHODS = (
    "sendMessage",
    "sendChatAction",
    "setMessageReaction",
    "getUpdates",
    "getMe",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "getChatMember",
    "getChat",
)
TELEGRAM_OUTCOMES = ("ok", "rate_limited", "error")
TRANSPORTS = ("telegram", "sandbox")
PLANNER_DEFERRAL_REASONS = ("global_cap", "no_eligible_bot", "alone", "llm_budget")
FLOOD_SKIP_REASONS = ("member_limit", "chat_limit", "bot_limit", "request_too_large")  # engine/services/flood.py
MIGRATION_SOURCES = ("update", "send_error")  # a service message in either chat; a send refused at the old id
LLM_OUTPUT_REASONS = tuple(str(reason) for reason in OutputReason)
LLM_OUTPUT_ACTIONS = tuple(str(action) for action in OutputAction)
OTHER = "other"  # the label value for anything outside a bounded set
MAX_MODEL_LABELS = 20  # distinct model label values per process; more become "other"

TURNS = Counter("piyasa_turns", "Turns that reached a terminal status.", ["kind", "outcome"])
TURN_LATENCY = Histogram(
    "piyasa_turn_latency_seconds",
    "Seconds from a turn's creation to its message being sent.",
    ["kind"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
SCHEDULE_LATENESS = Histogram(
    "piyasa_schedule_lateness_seconds",
    "Seconds a turn's job ran after the time it was scheduled for.",
    ["job"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
LLM_REQUESTS = Counter("piyasa_llm_requests", "LLM completion requests.", ["provider", "model", "outcome"])
LLM_DURATION = Histogram(
    "piyasa_llm_request_duration_seconds",
    "Seconds an LLM completion request took (requests that reached the provider).",
    ["provider", "model"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
LLM_TOKENS = Counter("piyasa_llm_tokens", "LLM tokens used.", ["provider", "model", "kind"])
LLM_COST = Counter("piyasa_llm_cost_usd", "LLM cost in US dollars, from the price table.", ["provider", "model"])
LLM_BUDGET_DEFERRALS = Counter(
    "piyasa_llm_budget_deferrals", "LLM calls the budget governor made wait (rate, token or daily budget)."
)
LLM_OUTPUT_PROBLEMS = Counter(
    "piyasa_llm_output_problems",
    "Findings of the local checks on model output, by reason and what was done: cleaned locally, a repair (or "
    "retry) call made for it, or the turn skipped for it.",
    ["reason", "action"],
)
TELEGRAM_REQUESTS = Counter("piyasa_telegram_requests", "Telegram Bot API requests.", ["method", "outcome"])
INCOMING_MESSAGES = Counter("piyasa_incoming_messages", "Member messages stored.", ["transport"])
CHAT_MIGRATIONS = Counter("piyasa_chat_migrations", "Groups moved to their supergroup's id.", ["source"])
PLANNER_DEFERRALS = Counter("piyasa_planner_deferrals", "Chats the planner left for a later tick.", ["reason"])
FLOOD_SKIPS = Counter(
    "piyasa_flood_skips",
    "Priority replies not made and LLM requests refused by the abuse limits, by reason.",
    ["reason"],
)


@dataclass(frozen=True)
class GaugeSpec:
    """A gauge computed at scrape time (monitoring.collectors), declared here with the other metrics."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()

    def family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))


QUEUES = tuple(str(name) for name in QueueName)
BREAKER_DEPENDENCIES = tuple(name for name, spec in PROVIDERS.items() if spec.breaker)
BREAKER_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}
PENDING_STATUSES = ("planned", "generating", "ready", "sending")

SIMULATION_ACTIVE = GaugeSpec("piyasa_simulation_active", "1 while the simulation runs (runtime setting), else 0.")
ACTIVE_BOTS = GaugeSpec(
    "piyasa_active_bots", "Enabled bots in an enabled chat (enabled membership) and within their active hours now."
)
LAST_TICK = GaugeSpec(
    "piyasa_engine_last_tick_timestamp_seconds", "Unix time of the engine's last tick heartbeat (0: never)."
)
QUEUE_JOBS = GaugeSpec("piyasa_queue_jobs", "Jobs waiting in an RQ queue (not counting scheduled ones).", ("queue",))
QUEUE_SCHEDULED_JOBS = GaugeSpec(
    "piyasa_queue_scheduled_jobs", "Jobs scheduled for later on an RQ queue (typing, paced sends).", ("queue",)
)
WORKERS = GaugeSpec("piyasa_workers", "RQ workers registered in Redis.")
TURNS_PENDING = GaugeSpec("piyasa_turns_pending", "Turns not yet terminal, by status.", ("status",))
CONVERSATION_QUALITY = GaugeSpec(
    "piyasa_conversation_quality",
    "Headline conversation-quality figures over every chat's last 30 minutes (docs/quality.md; absent: no data).",
    ("figure",),  # engine.quality.report.HEADLINE, a fixed set of figure keys
)
LLM_BUDGET_WAIT = GaugeSpec(
    "piyasa_llm_budget_wait_seconds", "Seconds until the LLM backoff (429 or exhausted rate-limit headers) ends."
)
TELEGRAM_BACKOFF = GaugeSpec(
    "piyasa_telegram_backoff_seconds", "Seconds until the longest current per-bot Telegram backoff (429) ends."
)
CIRCUIT_BREAKER_STATE = GaugeSpec(
    "piyasa_circuit_breaker_state", "Circuit breaker state: 0 closed, 1 half_open, 2 open.", ("dependency",)
)
COLLECTOR_ERRORS = GaugeSpec(
    "piyasa_collector_errors", "Scrape-time sources (database, Redis reads) that failed during this scrape."
)

_models_seen: set[tuple[str, str]] = set()


def _bounded(value: str, allowed: tuple[str, ...]) -> str:
    return str(value) if value in allowed else OTHER


def _model_label(provider: str, model: str) -> str:
    """The model as a label value; past MAX_MODEL_LABELS distinct models per process, "other"."""
    model = (model or "default")[:64]
    if (provider, model) not in _models_seen:
        if len(_models_seen) >= MAX_MODEL_LABELS:
            return OTHER
        _models_seen.add((provider, model))
    return model


def record_turn_outcome(kind: str, outcome: str) -> None:
    """Count a turn reaching a terminal status (sent, skipped, failed or unconfirmed)."""
    TURNS.labels(_bounded(kind, TURN_KINDS), _bounded(outcome, TURN_OUTCOMES)).inc()


def observe_turn_latency(kind: str, seconds: float) -> None:
    """Record how long a sent turn took from creation to delivery."""
    TURN_LATENCY.labels(_bounded(kind, TURN_KINDS)).observe(max(0.0, seconds))


def observe_lateness(job: str, seconds: float) -> None:
    """Record how late a turn's job (generate or send) ran after its scheduled time; early counts as 0."""
    SCHEDULE_LATENESS.labels(_bounded(job, SCHEDULED_JOBS)).observe(max(0.0, seconds))


def record_llm_request(
    provider: str,
    model: str,
    *,
    outcome: str,
    seconds: float | None = None,
    tokens_in: int = 0,
    tokens_out: int = 0,
    cost_usd: float = 0.0,
) -> None:
    """Count one LLM request by outcome; its duration when the provider was called; tokens and cost."""
    provider, model = _bounded(provider, LLM_PROVIDERS), _model_label(provider, model)
    LLM_REQUESTS.labels(provider, model, _bounded(outcome, LLM_OUTCOMES)).inc()
    if seconds is not None:
        LLM_DURATION.labels(provider, model).observe(seconds)
    if tokens_in or tokens_out:
        LLM_TOKENS.labels(provider, model, "prompt").inc(tokens_in)
        LLM_TOKENS.labels(provider, model, "completion").inc(tokens_out)
    if cost_usd:
        LLM_COST.labels(provider, model).inc(cost_usd)


def record_llm_budget_deferral() -> None:
    """Count an LLM call the budget governor made wait."""
    LLM_BUDGET_DEFERRALS.inc()


def record_llm_output_problem(reason: str, action: str) -> None:
    """Count one finding of the output checks (engine/outputs.py) and what was done about it."""
    LLM_OUTPUT_PROBLEMS.labels(_bounded(reason, LLM_OUTPUT_REASONS), _bounded(action, LLM_OUTPUT_ACTIONS)).inc()


def record_telegram_request(method: str, outcome: str) -> None:
    """Count one Bot API request by method and outcome (ok, rate_limited or error)."""
    TELEGRAM_REQUESTS.labels(_bounded(method, TELEGRAM_METHODS), _bounded(outcome, TELEGRAM_OUTCOMES)).inc()


def record_incoming(transport: str) -> None:
    """Count one member message stored."""
    INCOMING_MESSAGES.labels(_bounded(transport, TRANSPORTS)).inc()


def record_chat_migration(source: str) -> None:
    """Count a group moved to its supergroup's id, by what told us (a service message or a refused send)."""
    CHAT_MIGRATIONS.labels(_bounded(source, MIGRATION_SOURCES)).inc()


def record_planner_deferral(reason: str) -> None:
    """Count a chat the planner deferred; reasons are string constants in engine/services/planning.py."""
    PLANNER_DEFERRALS.labels(reason[:32]).inc()


def record_flood_skip(reason: str) -> None:
    """Count a priority reply the member, chat or bot limit declined, or a request too large for the budget."""
    FLOOD_SKIPS.labels(_bounded(reason, FLOOD_SKIP_REASONS)).inc()


def initialise_labels(provider: str, model: str) -> None:
    """Create every known label set at zero, so series exist (and rates work) before the first event."""
    for kind in TURN_KINDS:
        TURN_LATENCY.labels(kind)
        for outcome in TURN_OUTCOMES:
            TURNS.labels(kind, outcome)
    for job in SCHEDULED_JOBS:
        SCHEDULE_LATENESS.labels(job)
    for method in TELEGRAM_METHODS:
        for outcome in TELEGRAM_OUTCOMES:
            TELEGRAM_REQUESTS.labels(method, outcome)
    for transport in TRANSPORTS:
        INCOMING_MESSAGES.labels(transport)
    for reason in PLANNER_DEFERRAL_REASONS:
        PLANNER_DEFERRALS.labels(reason)
    for source in MIGRATION_SOURCES:
        CHAT_MIGRATIONS.labels(source)
    for reason in FLOOD_SKIP_REASONS:
        FLOOD_SKIPS.labels(reason)
    for reason in LLM_OUTPUT_REASONS:
        for action in LLM_OUTPUT_ACTIONS:
            LLM_OUTPUT_PROBLEMS.labels(reason, action)
    _initialise_llm_labels(_bounded(provider, LLM_PROVIDERS), _model_label(provider, model))


def configured_llm_model() -> str:
    """The configured provider's default model (what requests without a bot-specific model use)."""
    spec = PROVIDERS[settings.LLM_PROVIDER]
    return str(getattr(settings, spec.model_setting)) if spec.model_setting else spec.name


def _initialise_llm_labels(provider: str, model: str) -> None:
    for outcome in LLM_OUTCOMES:
        LLM_REQUESTS.labels(provider, model, outcome)
    for kind in TOKEN_KINDS:
        LLM_TOKENS.labels(provider, model, kind)
    LLM_DURATION.labels(provider, model)
    LLM_COST.labels(provider, model)

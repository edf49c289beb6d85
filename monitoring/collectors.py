"""What `/metrics` serves: every process's counters (multiprocess files) and gauges computed at scrape time.

Gauges are read from the database and Redis when Prometheus scrapes, in the web process: they are
facts about shared state (queue depth, backoffs, breaker state), so no per-process gauge has to be
aggregated across processes. Each source is a few cheap queries; one failing source is counted in
`piyasa_collector_errors` and skipped, so a Redis outage never hides the HTTP metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import django_rq
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis import Redis, RedisError
from rq import Worker

from chats.models import Membership
from engine.clients.llm import breaker_for
from engine.heartbeat import HEARTBEAT_KEY
from engine.models import Turn
from engine.quality.selectors import headline_figures
from engine.selectors import setting_get
from engine.services import budget, limits
from engine.services.activity import is_active
from monitoring import metrics

logger = logging.getLogger(__name__)
TELEGRAM_BACKOFF_PATTERN = f"{limits.PREFIX}backoff:tg:bot:*"
QUALITY_MAX_LINES = 2000  # messages (newest first) the quality gauges are computed on per scrape
MAX_BACKOFF_KEYS = 1000  # bounds the SCAN cost per scrape; more bots in backoff at once is already an incident


class MultiProcessTreeCollector(Collector):
    """Counters and histograms of every process that wrote under the metrics root (one subdirectory per host)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def collect(self) -> Iterable[Metric]:
        files = sorted(str(path) for path in self.root.glob("*/*.db"))
        return MultiProcessCollector.merge(files, accumulate=True)


def simulation_active() -> list[Metric]:
    family = metrics.SIMULATION_ACTIVE.family()
    family.add_metric([], 1.0 if setting_get("simulation_active") else 0.0)
    return [family]


def active_bots() -> list[Metric]:
    now = timezone.now()
    memberships = Membership.objects.filter(
        is_enabled=True, paused_at__isnull=True, chat__is_enabled=True, bot__is_enabled=True
    )
    rows = memberships.values_list("bot_id", "bot__active_hours", "chat__timezone")
    # Within its active hours in at least one of its chats: a crowd asleep at night is not an outage.
    awake = {bot_id for bot_id, hours, zone in rows if is_active(now, zone, hours or [])}
    family = metrics.ACTIVE_BOTS.family()
    family.add_metric([], len(awake))
    return [family]


def turns_pending() -> list[Metric]:
    rows = Turn.objects.filter(status__in=metrics.PENDING_STATUSES).values_list("status").annotate(n=Count("id"))
    counts = dict(rows)
    family = metrics.TURNS_PENDING.family()
    for status in metrics.PENDING_STATUSES:
        family.add_metric([status], counts.get(status, 0))
    return [family]


def last_tick() -> list[Metric]:
    raw = django_rq.get_connection("high").get(HEARTBEAT_KEY)
    family = metrics.LAST_TICK.family()
    family.add_metric([], float(raw) if raw is not None else 0.0)
    return [family]


def queues() -> list[Metric]:
    waiting, scheduled = metrics.QUEUE_JOBS.family(), metrics.QUEUE_SCHEDULED_JOBS.family()
    for name in metrics.QUEUES:
        queue = django_rq.get_queue(name)
        waiting.add_metric([name], queue.count)
        scheduled.add_metric([name], queue.scheduled_job_registry.count)
    workers = metrics.WORKERS.family()
    workers.add_metric([], Worker.count(connection=django_rq.get_connection("high")))
    return [waiting, scheduled, workers]


def llm_budget_wait() -> list[Metric]:
    family = metrics.LLM_BUDGET_WAIT.family()
    family.add_metric([], budget.blocked_for())
    return [family]


def telegram_backoff() -> list[Metric]:
    redis = django_rq.get_connection("high")
    keys = []
    for key in redis.scan_iter(match=TELEGRAM_BACKOFF_PATTERN, count=500):
        keys.append(key)
        if len(keys) >= MAX_BACKOFF_KEYS:
            break
    now = time.time()
    waits = [float(until) - now for until in (redis.mget(keys) if keys else []) if until is not None]
    family = metrics.TELEGRAM_BACKOFF.family()
    family.add_metric([], max([0.0, *waits]))
    return [family]


def circuit_breakers() -> list[Metric]:
    family = metrics.CIRCUIT_BREAKER_STATE.family()
    for dependency in metrics.BREAKER_DEPENDENCIES:
        state = breaker_for(dependency).state()
        family.add_metric([dependency], metrics.BREAKER_STATE_VALUES[state.value])
    return [family]


def conversation_quality() -> list[Metric]:
    family = metrics.CONVERSATION_QUALITY.family()
    # The newest messages only, so a busy crowd's scrape stays a few fixed queries and bounded CPU.
    for key, value in headline_figures(max_lines=QUALITY_MAX_LINES).items():
        if value is not None:
            family.add_metric([key], value)
    return [family]


Source = Callable[[], list[Metric]]
DB_SOURCES: tuple[Source, ...] = (simulation_active, active_bots, turns_pending, conversation_quality)
REDIS_SOURCES: tuple[Source, ...] = (last_tick, queues, llm_budget_wait, telegram_backoff, circuit_breakers)


def redis_answers() -> bool:
    """One PING without retries and with a short timeout, so a Redis outage cannot stall the scrape."""
    client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry=None)
    try:
        return bool(client.ping())
    except RedisError:
        return False
    finally:
        client.close()


class EngineCollector(Collector):
    """The scrape-time gauges of monitoring.metrics, read from the database and Redis."""

    def collect(self) -> Iterator[Metric]:
        errors = 0
        sources = DB_SOURCES + REDIS_SOURCES
        if not redis_answers():
            logger.warning("metrics: Redis does not answer; skipping its gauges")
            sources, errors = DB_SOURCES, len(REDIS_SOURCES)
        for source in sources:
            try:
                families = source()
            except Exception:  # one failing source must not fail the whole scrape
                logger.warning("metrics source %s failed", source.__name__, exc_info=True)
                errors += 1
                continue
            yield from families
        family = metrics.COLLECTOR_ERRORS.family()
        family.add_metric([], errors)
        yield family


def scrape_registry() -> CollectorRegistry:
    """A registry with everything `/metrics` exports: all processes' counters plus the scrape-time gauges."""
    registry = CollectorRegistry()
    registry.register(MultiProcessTreeCollector(settings.METRICS_DIR))
    registry.register(EngineCollector())
    return registry


def _samples(registry: CollectorRegistry) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in registry.collect():
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _sum_by(samples: dict[str, Any], name: str, label: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for labels, value in samples.get(name, []):
        totals[labels[label]] = totals.get(labels[label], 0.0) + value
    return totals


def _value(samples: dict[str, Any], name: str) -> float | None:
    values = [value for _, value in samples.get(name, [])]
    return sum(values) if values else None


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def _ints(totals: dict[str, float]) -> dict[str, int]:
    return {key: int(value) for key, value in sorted(totals.items())}


def metrics_summary(registry: CollectorRegistry | None = None) -> dict[str, Any]:
    """The dashboard's figures, from the registry Prometheus scrapes; counters run from the metrics dir's start."""
    samples = _samples(registry or scrape_registry())
    last_tick = _value(samples, "piyasa_engine_last_tick_timestamp_seconds") or None
    active = _value(samples, "piyasa_simulation_active")
    return {
        "simulation_active": None if active is None else bool(active),
        "active_bots": _int_or_none(_value(samples, "piyasa_active_bots")),
        "engine": {
            "last_tick_timestamp": last_tick,
            "heartbeat_age_s": None if last_tick is None else round(max(0.0, time.time() - last_tick), 3),
        },
        "queues": _ints(_sum_by(samples, "piyasa_queue_jobs", "queue")),
        "workers": _int_or_none(_value(samples, "piyasa_workers")),
        "turns": _ints(_sum_by(samples, "piyasa_turns_total", "outcome")),
        "turns_pending": _ints(_sum_by(samples, "piyasa_turns_pending", "status")),
        "incoming_messages": _ints(_sum_by(samples, "piyasa_incoming_messages_total", "transport")),
        "llm": _llm_summary(samples),
        "telegram": {
            "requests": _ints(_sum_by(samples, "piyasa_telegram_requests_total", "outcome")),
            "backoff_s": _value(samples, "piyasa_telegram_backoff_seconds"),
        },
        "collector_errors": _int_or_none(_value(samples, "piyasa_collector_errors")),
    }


def _llm_summary(samples: dict[str, Any]) -> dict[str, Any]:
    names = {value: name for name, value in metrics.BREAKER_STATE_VALUES.items()}
    breakers = _sum_by(samples, "piyasa_circuit_breaker_state", "dependency")
    return {
        "requests": _ints(_sum_by(samples, "piyasa_llm_requests_total", "outcome")),
        "tokens": _ints(_sum_by(samples, "piyasa_llm_tokens_total", "kind")),
        "cost_usd": round(_value(samples, "piyasa_llm_cost_usd_total") or 0.0, 6),
        "budget_deferrals": _int_or_none(_value(samples, "piyasa_llm_budget_deferrals_total")),
        "budget_wait_s": _value(samples, "piyasa_llm_budget_wait_seconds"),
        "circuit_breakers": {name: names.get(int(value), "unknown") for name, value in sorted(breakers.items())},
    }

"""The metric contract: every metric name the monitoring config (rules, dashboards) may select.

Prometheus rules and Grafana panels are written only against these names. The test
`monitoring/tests/test_monitoring_config.py` parses every expression and fails on a name that is
not here, and fails on an `APP` metric that the application's registry does not export. Adding a
metric to a rule or dashboard therefore means adding it to the app (monitoring/metrics.py) first,
then here.

Names are the exposition names: counters end in `_total`; a histogram is listed once by its base
name and may be selected as `<name>_bucket`, `<name>_sum` or `<name>_count`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["counter", "gauge", "histogram"]
Source = Literal["piyasa", "django_prometheus", "external"]

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class Metric:
    name: str
    type: MetricType
    labels: tuple[str, ...]
    source: Source
    help: str

    def series_names(self) -> frozenset[str]:
        """The names under which this metric's series can be selected in PromQL."""
        if self.type == "histogram":
            return frozenset(self.name + suffix for suffix in HISTOGRAM_SUFFIXES)
        return frozenset({self.name})

    @property
    def family_name(self) -> str:
        """The name prometheus_client gives the metric family (it strips a counter's `_total`)."""
        if self.type == "counter" and self.name.endswith("_total"):
            return self.name.removesuffix("_total")
        return self.name


def _m(name: str, type_: MetricType, labels: tuple[str, ...], source: Source, help_: str) -> Metric:
    return Metric(name=name, type=type_, labels=labels, source=source, help=help_)


# Engine metrics, defined in monitoring/metrics.py and exported on the web process's /metrics
# (RQ worker processes write to the shared multiprocess directory, web aggregates).
PIYASA: tuple[Metric, ...] = (
    _m("piyasa_turns_total", "counter", ("kind", "outcome"), "piyasa", "Turns finished, by kind and outcome"),
    _m("piyasa_turn_latency_seconds", "histogram", ("kind",), "piyasa", "Turn end-to-end latency"),
    _m("piyasa_schedule_lateness_seconds", "histogram", ("job",), "piyasa", "How late a scheduled job started"),
    _m("piyasa_llm_requests_total", "counter", ("provider", "model", "outcome"), "piyasa", "LLM requests"),
    _m("piyasa_llm_request_duration_seconds", "histogram", ("provider", "model"), "piyasa", "LLM request duration"),
    _m("piyasa_llm_tokens_total", "counter", ("provider", "model", "kind"), "piyasa", "LLM tokens by kind"),
    _m("piyasa_llm_cost_usd_total", "counter", ("provider", "model"), "piyasa", "LLM cost in US dollars"),
    _m("piyasa_llm_budget_deferrals_total", "counter", (), "piyasa", "Generations deferred by the LLM budget"),
    _m(
        "piyasa_llm_output_problems_total",
        "counter",
        ("reason", "action"),
        "piyasa",
        "Output-check findings by reason: cleaned, repaired or skipped",
    ),
    _m("piyasa_llm_budget_wait_seconds", "gauge", (), "piyasa", "Seconds until the LLM budget allows a call"),
    _m("piyasa_telegram_requests_total", "counter", ("method", "outcome"), "piyasa", "Telegram Bot API requests"),
    _m("piyasa_telegram_backoff_seconds", "gauge", (), "piyasa", "Current Telegram backoff"),
    _m("piyasa_circuit_breaker_state", "gauge", ("dependency",), "piyasa", "0 closed, 1 half_open, 2 open"),
    _m("piyasa_simulation_active", "gauge", (), "piyasa", "1 while the simulation runs"),
    _m("piyasa_active_bots", "gauge", (), "piyasa", "Bots taking part in the simulation"),
    _m("piyasa_engine_last_tick_timestamp_seconds", "gauge", (), "piyasa", "Unix time of the last engine tick"),
    _m("piyasa_queue_jobs", "gauge", ("queue",), "piyasa", "Jobs waiting per RQ queue"),
    _m("piyasa_workers", "gauge", (), "piyasa", "RQ workers registered"),
    _m("piyasa_incoming_messages_total", "counter", ("transport",), "piyasa", "Member messages received"),
    _m("piyasa_planner_deferrals_total", "counter", ("reason",), "piyasa", "Turns the planner deferred"),
    _m(
        "piyasa_flood_skips_total",
        "counter",
        ("reason",),
        "piyasa",
        "Priority replies declined and LLM requests refused by the abuse limits",
    ),
    _m("piyasa_chat_migrations_total", "counter", ("source",), "piyasa", "Groups moved to their supergroup's id"),
    _m("piyasa_turns_pending", "gauge", ("status",), "piyasa", "Turns not yet terminal, by status"),
    _m("piyasa_queue_scheduled_jobs", "gauge", ("queue",), "piyasa", "Jobs scheduled for later per RQ queue"),
    _m("piyasa_collector_errors", "gauge", (), "piyasa", "Scrape-time metric sources that failed in this scrape"),
    _m("piyasa_conversation_quality", "gauge", ("figure",), "piyasa", "Headline quality figures, last 30 min"),
)

# HTTP and database metrics of django-prometheus, exported on the same /metrics.
DJANGO: tuple[Metric, ...] = (
    _m(
        "django_http_requests_total_by_view_transport_method_total",
        "counter",
        ("view", "transport", "method"),
        "django_prometheus",
        "HTTP requests by view, transport and method",
    ),
    _m(
        "django_http_responses_total_by_status_total",
        "counter",
        ("status",),
        "django_prometheus",
        "HTTP responses by status code",
    ),
    _m(
        "django_http_requests_latency_seconds_by_view_method",
        "histogram",
        ("view", "method"),
        "django_prometheus",
        "HTTP request latency by view and method",
    ),
    _m("django_db_errors_total", "counter", ("alias", "vendor", "type"), "django_prometheus", "Database errors"),
    _m("django_db_execute_total", "counter", ("alias", "vendor"), "django_prometheus", "SQL statements executed"),
)

# The application exports exactly these (the contract test checks the registry for each).
APP: tuple[Metric, ...] = PIYASA + DJANGO

# Documented external metrics: produced by Prometheus itself, not by the app.
EXTERNAL: tuple[Metric, ...] = (
    _m("up", "gauge", ("job", "instance"), "external", "Prometheus: 1 if the last scrape of the target succeeded"),
)

ALL: tuple[Metric, ...] = APP + EXTERNAL


def selectable_names() -> frozenset[str]:
    """Every metric name an expression may select."""
    names: set[str] = set()
    for metric in ALL:
        names |= metric.series_names()
    return frozenset(names)


def metric_for(series_name: str) -> Metric | None:
    """The contract metric a selected series name belongs to, or None."""
    for metric in ALL:
        if series_name in metric.series_names():
            return metric
    return None

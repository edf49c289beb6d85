"""Health of the system's parts: the readiness checks and the dashboard's health panel.

Each check returns "ok", "warning: …" or "error: …"; an exception is reported as an error naming its type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django_rq import get_connection

from config.queries import database_ping
from engine.heartbeat import heartbeat_age_s

# The cron tick records the heartbeat every 2 s, also while the simulation is stopped.
HEARTBEAT_MAX_AGE_S = 60.0
OK = "ok"


def check_database() -> str:
    """The database answers a query."""
    database_ping()
    return OK


def check_redis() -> str:
    """Redis answers a PING."""
    get_connection("default").ping()
    return OK


def check_heartbeat() -> str:
    """The cron process ticked within the last minute."""
    age = heartbeat_age_s()
    if age is None:
        return "error: no heartbeat"
    return OK if age <= HEARTBEAT_MAX_AGE_S else f"error: stale ({age:.0f} s old)"


READY_CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("database", check_database),
    ("redis", check_redis),
    ("heartbeat", check_heartbeat),
)


def run_checks(checks: tuple[tuple[str, Callable[[], str]], ...] = READY_CHECKS) -> dict[str, str]:
    """Every check's result; one failing check never hides the others."""
    results: dict[str, str] = {}
    for name, check in checks:
        try:
            results[name] = check()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason is reported
            results[name] = f"error: {type(error).__name__}"
    return results


def dashboard_health(summary: dict[str, Any]) -> dict[str, str]:
    """Database, Redis, workers, cron, LLM and Telegram, from the checks and the metrics summary's figures."""
    checks = run_checks()
    return {
        "database": checks["database"],
        "redis": checks["redis"],
        "workers": _workers(summary.get("workers")),
        "cron": checks["heartbeat"],
        "llm": _llm(summary["llm"]),
        "telegram": _telegram(summary["telegram"]),
    }


def _workers(count: int | None) -> str:
    if count is None:
        return "error: unknown (Redis unavailable)"
    return f"{OK} ({count} running)" if count else "error: no worker running"


def _llm(llm: dict[str, Any]) -> str:
    provider = settings.LLM_PROVIDER
    state = llm["circuit_breakers"].get(provider, "closed")
    if state == "open":
        return f"error: {provider} circuit open"
    if state == "half_open":
        return f"warning: {provider} circuit half-open (testing recovery)"
    if llm.get("budget_wait_s"):
        return f"warning: {provider} budget exhausted for {llm['budget_wait_s']:.0f} s"
    return f"{OK} ({provider})"


def _telegram(telegram: dict[str, Any]) -> str:
    backoff = telegram.get("backoff_s") or 0.0
    return f"warning: a bot is backing off for {backoff:.0f} s (429)" if backoff > 0 else OK

"""Monitoring reads: the dashboard's summary (metrics, health and per-minute series)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from monitoring.collectors import metrics_summary
from monitoring.health import dashboard_health
from monitoring.series import activity_series

SUMMARY_CACHE_KEY = "piyasa:dashboard:summary"
SUMMARY_LOCK_KEY = "piyasa:dashboard:summary:lock"
STALE_FOR_S = 60  # a copy older than the cache period is still served while one request computes the next


def dashboard_summary() -> dict[str, Any]:
    """The metrics summary with health and per-minute series, shared by all viewers for a few seconds.

    When the copy is older than METRICS_SUMMARY_CACHE_S, one request computes the next one and every other
    request meanwhile gets the previous copy, so many open dashboards never compute it all at once.
    """
    period = settings.METRICS_SUMMARY_CACHE_S
    if not period:
        return _summary()
    cached: dict[str, Any] | None = cache.get(SUMMARY_CACHE_KEY)
    if cached is not None and time.time() - cached["generated_at"] < period:
        return cached
    if cached is not None and not cache.add(SUMMARY_LOCK_KEY, 1, timeout=30):
        return cached  # another request is computing the next copy
    try:
        summary = _summary()
        cache.set(SUMMARY_CACHE_KEY, summary, timeout=period + STALE_FOR_S)
    finally:
        cache.delete(SUMMARY_LOCK_KEY)
    return summary


def _summary() -> dict[str, Any]:
    summary = metrics_summary()
    summary["health"] = dashboard_health(summary)
    summary["series"] = activity_series()
    summary["generated_at"] = time.time()
    return summary

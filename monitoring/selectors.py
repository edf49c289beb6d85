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


def dashboard_summary() -> dict[str, Any]:
    """The metrics summary with health and per-minute series, shared by all viewers for a few seconds."""
    cached: dict[str, Any] | None = cache.get(SUMMARY_CACHE_KEY) if settings.METRICS_SUMMARY_CACHE_S else None
    if cached is not None:
        return cached
    summary = metrics_summary()
    summary["health"] = dashboard_health(summary)
    summary["series"] = activity_series()
    summary["generated_at"] = time.time()
    if settings.METRICS_SUMMARY_CACHE_S:
        cache.set(SUMMARY_CACHE_KEY, summary, timeout=settings.METRICS_SUMMARY_CACHE_S)
    return summary

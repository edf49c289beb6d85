"""Health, metrics and the metrics summary; health and /metrics are unauthenticated and cheap."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_rq import get_connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client.exposition import choose_encoder
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from engine.heartbeat import heartbeat_age_s
from monitoring.collectors import metrics_summary, scrape_registry

# The cron tick records the heartbeat every 2 s, also while the simulation is stopped.
HEARTBEAT_MAX_AGE_S = 60.0


def live(request: HttpRequest) -> JsonResponse:
    """The process is up."""
    return JsonResponse({"status": "ok"})


def _check_db() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_redis() -> str:
    get_connection("default").ping()
    return "ok"


def _check_heartbeat() -> str:
    age = heartbeat_age_s()
    if age is None:
        return "error: no heartbeat"
    return "ok" if age <= HEARTBEAT_MAX_AGE_S else f"error: stale ({age:.0f} s old)"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("database", _check_db),
    ("redis", _check_redis),
    ("heartbeat", _check_heartbeat),
)


def ready(request: HttpRequest) -> JsonResponse:
    """The database and Redis answer and the cron heartbeat is fresh."""
    checks: dict[str, str] = {}
    for name, check in CHECKS:
        try:
            checks[name] = check()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason is reported
            checks[name] = f"error: {type(error).__name__}"
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: every process's counters and histograms plus the scrape-time gauges."""
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(scrape_registry()), content_type=content_type)


@extend_schema(
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Engine, LLM, Telegram and queue figures")}
)
@api_view(["GET"])
@permission_classes([IsAdminUser])
def summary(request: Request) -> Response:
    """The dashboard's figures as JSON (staff only)."""
    return Response(metrics_summary())

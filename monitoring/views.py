"""Health, metrics and the metrics summary; health and /metrics are unauthenticated and cheap."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client.exposition import choose_encoder
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.collectors import scrape_registry
from monitoring.health import run_checks
from monitoring.selectors import dashboard_summary


def live(request: HttpRequest) -> JsonResponse:
    """The process is up."""
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """The database and Redis answer and the cron heartbeat is fresh."""
    checks = run_checks()
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: every process's counters and histograms plus the scrape-time gauges."""
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(scrape_registry()), content_type=content_type)


class SummaryView(APIView):
    """The dashboard's figures as JSON (every role): engine, queues, LLM, Telegram, health and series."""

    required_permissions = {"GET": ["engine.view_turn"]}

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Engine, LLM, Telegram and queue figures")}
    )
    def get(self, request: Request) -> Response:
        return Response(dashboard_summary())

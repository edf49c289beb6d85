"""Health views: unauthenticated and cheap, for load balancers and container healthchecks."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django_rq import get_connection


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


def ready(request: HttpRequest) -> JsonResponse:
    """The database and Redis answer."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_db), ("redis", _check_redis)):
        try:
            checks[name] = check()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason is reported
            checks[name] = f"error: {type(error).__name__}"
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)

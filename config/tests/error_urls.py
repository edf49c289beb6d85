"""A URL conf with a view that fails holding a bot token everywhere a report can show it (test_logging)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"


def failing_send(request: HttpRequest) -> HttpResponse:
    token = TOKEN  # a frame variable: Django's report lists them
    url = f"https://api.telegram.org/bot{token}/sendMessage"
    raise RuntimeError(f"send failed: {url}")


urlpatterns = [path("send/", failing_send)]

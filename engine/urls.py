"""Engine URLs: Telegram's webhook, one opaque URL per bot (never the token)."""

from __future__ import annotations

from django.urls import path

from engine import views

urlpatterns = [
    path("webhook/<uuid:webhook_id>/", views.telegram_webhook, name="telegram-webhook"),
]

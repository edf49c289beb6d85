"""Engine API routes: /api/settings/, /api/control/…, /api/turns/, /api/chats/<chat_id>/quality/,
/api/bots/<bot_id>/interviews/, /api/personas/generate/, /api/crowd/…, /api/events/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from engine.api import crowd, events, interviews, quality, views

router = SimpleRouter()
router.register("turns", views.TurnViewSet, basename="turn")
router.register("events", events.MarketEventViewSet, basename="marketevent")

urlpatterns = [
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("control/", views.ControlView.as_view(), name="control"),
    path("control/start/", views.StartView.as_view(), name="control-start"),
    path("control/stop/", views.StopView.as_view(), name="control-stop"),
    path("control/scale/", views.ScaleView.as_view(), name="control-scale"),
    path("chats/<int:chat_id>/quality/", quality.ChatQualityView.as_view(), name="chat-quality"),
    path("bots/<int:bot_id>/interviews/", interviews.BotInterviewsView.as_view(), name="bot-interviews"),
    path("personas/generate/", interviews.PersonaGenerateView.as_view(), name="personas-generate"),
    path("crowd/export/", crowd.CrowdExportView.as_view(), name="crowd-export"),
    path("crowd/import/", crowd.CrowdImportView.as_view(), name="crowd-import"),
    *router.urls,
]

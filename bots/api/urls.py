"""Bots API routes: /api/bots/ and /api/bots/<bot_pk>/{stances,holdings,memories}/."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from bots.api import views

router = SimpleRouter()
router.register("bots", views.BotViewSet, basename="bot")
router.register(r"bots/(?P<bot_pk>[0-9]+)/stances", views.StanceViewSet, basename="bot-stance")
router.register(r"bots/(?P<bot_pk>[0-9]+)/holdings", views.HoldingViewSet, basename="bot-holding")
router.register(r"bots/(?P<bot_pk>[0-9]+)/memories", views.MemoryViewSet, basename="bot-memory")

urlpatterns = router.urls

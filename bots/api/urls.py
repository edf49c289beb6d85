"""Bots API routes: /api/bots/ and /api/bots/<bot_pk>/{stances,holdings,memories,stance-changes}/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from bots.api import cards, views

router = SimpleRouter()
router.register("bots", views.BotViewSet, basename="bot")
router.register(r"bots/(?P<bot_pk>[0-9]+)/stances", views.StanceViewSet, basename="bot-stance")
router.register(r"bots/(?P<bot_pk>[0-9]+)/holdings", views.HoldingViewSet, basename="bot-holding")
router.register(r"bots/(?P<bot_pk>[0-9]+)/memories", views.MemoryViewSet, basename="bot-memory")
router.register(r"bots/(?P<bot_pk>[0-9]+)/stance-changes", views.StanceChangeViewSet, basename="bot-stance-change")

# Before the router: its bots/<pk>/ route would take "cards" for a pk.
urlpatterns = [path("bots/cards/", cards.CardImportView.as_view(), name="bot-card-import"), *router.urls]

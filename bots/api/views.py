"""Bots API: bots (+ enable/disable) and, nested under a bot, its stances, holdings and memories."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from bots.api.serializers import (
    BotSerializer,
    HoldingSerializer,
    MemorySerializer,
    StanceChangeSerializer,
    StanceSerializer,
)
from bots.models import Bot, Holding, Memory, Stance, StanceChange
from bots.services import bot_create, bot_knowledge_save, bot_update, bots_set_enabled


class BotViewSet(viewsets.ModelViewSet[Bot]):
    """Bots with persona, emotion, speed and a write-only token."""

    queryset = Bot.objects.all()
    serializer_class = BotSerializer
    filterset_fields = ("is_enabled", "username")
    action_permissions = {"enable": ["bots.change_bot"], "disable": ["bots.change_bot"]}

    def perform_create(self, serializer: BaseSerializer[Bot]) -> None:
        serializer.instance = bot_create(**serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Bot]) -> None:
        assert serializer.instance is not None
        serializer.instance = bot_update(bot=serializer.instance, **serializer.validated_data)

    @extend_schema(request=None, responses=BotSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: str) -> Response:
        """Let the bot post again."""
        return self._set_enabled(enabled=True)

    @extend_schema(request=None, responses=BotSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk: str) -> Response:
        """Stop the bot from posting anywhere."""
        return self._set_enabled(enabled=False)

    def _set_enabled(self, *, enabled: bool) -> Response:
        bot = self.get_object()
        bots_set_enabled(bot_ids=[bot.pk], enabled=enabled)
        bot.refresh_from_db()
        return Response(self.get_serializer(bot).data)


BOT_PK = OpenApiParameter("bot_pk", int, OpenApiParameter.PATH, description="The bot's id.")


@extend_schema_view(
    list=extend_schema(parameters=[BOT_PK]),
    create=extend_schema(parameters=[BOT_PK]),
    retrieve=extend_schema(parameters=[BOT_PK]),
    update=extend_schema(parameters=[BOT_PK]),
    partial_update=extend_schema(parameters=[BOT_PK]),
    destroy=extend_schema(parameters=[BOT_PK]),
)
class BotKnowledgeViewSet(viewsets.ModelViewSet[Any]):
    """Base for what a bot knows, nested under /api/bots/<bot_pk>/."""

    model: ClassVar[type[Model]]

    def get_queryset(self) -> QuerySet[Any]:
        # bot__pk, not bot_id: a pk lookup treats an id beyond 64 bits as "no match" instead of overflowing.
        return self.model._default_manager.filter(bot__pk=self.kwargs.get("bot_pk", 0))

    def bot(self) -> Bot:
        """The bot in the URL (404 when it does not exist)."""
        return get_object_or_404(Bot, pk=self.kwargs["bot_pk"])

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        instance: Any = self.model(bot=self.bot())
        serializer.instance = bot_knowledge_save(instance=instance, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        instance: Any = serializer.instance
        serializer.instance = bot_knowledge_save(instance=instance, **serializer.validated_data)


class StanceViewSet(BotKnowledgeViewSet):
    """A bot's stances (one per topic or symbol)."""

    model = Stance
    queryset = Stance.objects.all()
    serializer_class = StanceSerializer
    filterset_fields = ("polarity", "topic")


class HoldingViewSet(BotKnowledgeViewSet):
    """A bot's holdings (one per symbol)."""

    model = Holding
    queryset = Holding.objects.all()
    serializer_class = HoldingSerializer
    filterset_fields = ("symbol",)


class MemoryViewSet(BotKnowledgeViewSet):
    """A bot's memories."""

    model = Memory
    queryset = Memory.objects.all()
    serializer_class = MemorySerializer
    filterset_fields = ("kind",)


@extend_schema_view(list=extend_schema(parameters=[BOT_PK]), retrieve=extend_schema(parameters=[BOT_PK]))
class StanceChangeViewSet(viewsets.ReadOnlyModelViewSet[StanceChange]):
    """A bot's stance history, newest first: every move of its stances and what caused it (read only)."""

    queryset = StanceChange.objects.all()
    serializer_class = StanceChangeSerializer
    filterset_fields = ("cause_kind", "topic", "stance")
    # Part of what a stance is: whoever may read stances reads their history.
    action_permissions = {"list": ["bots.view_stance"], "retrieve": ["bots.view_stance"]}

    def get_queryset(self) -> QuerySet[StanceChange]:
        return StanceChange.objects.filter(bot__pk=self.kwargs.get("bot_pk", 0))

"""Market events API (/api/events/): list and inject events (now or scheduled), cancel a scheduled one."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from chats.models import Chat
from config.openapi import ErrorSerializer
from engine.models import MarketEvent
from engine.services.events import MAX_SYMBOLS, MAX_TOPICS, event_cancel, event_create, parse_intensity


@extend_schema_field(OpenApiTypes.NUMBER)
class IntensityField(serializers.Field[float, Any, Any, Any]):
    """0..1, or low/medium/high."""

    def to_internal_value(self, data: Any) -> float:
        return parse_intensity(data)

    def to_representation(self, value: float) -> float:
        return value


class MarketEventSerializer(serializers.ModelSerializer[MarketEvent]):
    """An event: what happened, what it touches, how hard, when, where; its status once fired or cancelled."""

    symbols = serializers.ListField(child=serializers.CharField(max_length=32), max_length=MAX_SYMBOLS, required=False)
    topics = serializers.ListField(child=serializers.CharField(max_length=64), max_length=MAX_TOPICS, required=False)
    intensity = IntensityField(help_text="0 (a ripple) to 1 (a shock), or low (0.3), medium (0.6), high (0.9).")
    fire_at = serializers.DateTimeField(required=False, help_text="When it fires; omitted: now.")
    chats = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Chat.objects.all(), required=False, help_text="None: every enabled chat when it fires."
    )
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    status = serializers.CharField(read_only=True, help_text="scheduled, fired or cancelled.")

    class Meta:
        model = MarketEvent
        fields = ("id", "text", "symbols", "topics", "direction", "intensity", "fire_at", "chats", "status",
                  "fired_at", "cancelled_at", "created_by", "created_at")  # fmt: skip
        read_only_fields = ("fired_at", "cancelled_at", "created_at")


class MarketEventFilter(django_filters.FilterSet):
    """?chat=<id> the chat's events; ?status=scheduled|fired|cancelled."""

    chat = django_filters.NumberFilter(field_name="chats")
    status = django_filters.ChoiceFilter(
        choices=[(s, s) for s in ("scheduled", "fired", "cancelled")], method="filter_status"
    )

    class Meta:
        model = MarketEvent
        fields = ("direction",)

    def filter_status(self, queryset: Any, name: str, value: str) -> Any:
        if value == "cancelled":
            return queryset.filter(cancelled_at__isnull=False)
        return queryset.filter(cancelled_at__isnull=True, fired_at__isnull=(value == "scheduled"))


class MarketEventViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[MarketEvent]
):
    """Market events, newest first. POST injects one (due now: it fires at once); cancel stops a scheduled one."""

    queryset = MarketEvent.objects.select_related("created_by").prefetch_related("chats")
    serializer_class = MarketEventSerializer
    filterset_class = MarketEventFilter
    action_permissions = {"cancel": ["engine.change_marketevent"]}

    def perform_create(self, serializer: serializers.BaseSerializer[MarketEvent]) -> None:
        serializer.instance = event_create(**serializer.validated_data, created_by=self.request.user)

    @extend_schema(
        request=None,
        responses={
            200: MarketEventSerializer,
            409: OpenApiResponse(ErrorSerializer, "It already fired or was cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel a scheduled event (one that fired cannot be taken back)."""
        event = self.get_object()
        if not event_cancel(event=event):
            return Response({"detail": f"This event is {event.status}; only a scheduled one can be cancelled."},
                            status=status.HTTP_409_CONFLICT)  # fmt: skip
        return Response(self.get_serializer(event).data)

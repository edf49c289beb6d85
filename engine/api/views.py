"""Engine API: runtime settings, simulation control (start/stop/scale) and turns."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import CONTROL_SIMULATION
from engine.api.serializers import (
    ScaleSerializer,
    SettingSerializer,
    SettingsUpdateSerializer,
    SimulationStateSerializer,
    TurnSerializer,
    setting_row,
    settings_update_schema,
)
from engine.models import Turn
from engine.runtime_settings import SPECS
from engine.selectors import settings_all
from engine.services import setting_set, settings_update


def _settings_rows() -> list[dict[str, Any]]:
    values = settings_all().values()
    return [setting_row(spec, values[spec.key]) for spec in SPECS]


def _simulation_state() -> dict[str, Any]:
    config = settings_all()
    return {"simulation_active": config.simulation_active, "scale_factor": config.scale_factor}


class SettingsView(APIView):
    """Runtime settings: read all (viewer), change several at once, all or nothing (admin)."""

    required_permissions = {"GET": ["engine.view_setting"], "PATCH": ["engine.change_setting"]}

    @extend_schema(responses=SettingSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(_settings_rows())

    @extend_schema(
        request={"application/json": settings_update_schema()},
        responses={200: SettingSerializer(many=True), 400: OpenApiResponse(description="Errors keyed by setting.")},
    )
    def patch(self, request: Request) -> Response:
        serializer = SettingsUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settings_update(values=serializer.validated_data)
        return Response(_settings_rows())


class ControlView(APIView):
    """The simulation's state."""

    required_permissions = {"GET": ["engine.view_setting"]}

    @extend_schema(responses=SimulationStateSerializer)
    def get(self, request: Request) -> Response:
        return Response(_simulation_state())


class StartView(APIView):
    """Start the simulation."""

    required_permissions = {"POST": [CONTROL_SIMULATION]}

    @extend_schema(request=None, responses=SimulationStateSerializer)
    def post(self, request: Request) -> Response:
        setting_set(key="simulation_active", value=True)
        return Response(_simulation_state())


class StopView(APIView):
    """Stop the simulation (turns in flight still finish)."""

    required_permissions = {"POST": [CONTROL_SIMULATION]}

    @extend_schema(request=None, responses=SimulationStateSerializer)
    def post(self, request: Request) -> Response:
        setting_set(key="simulation_active", value=False)
        return Response(_simulation_state())


class ScaleView(APIView):
    """Set the activity multiplier."""

    required_permissions = {"POST": [CONTROL_SIMULATION]}

    @extend_schema(request=ScaleSerializer, responses=SimulationStateSerializer)
    def post(self, request: Request) -> Response:
        serializer = ScaleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        setting_set(key="scale_factor", value=serializer.validated_data["scale_factor"])
        return Response(_simulation_state())


class TurnFilter(django_filters.FilterSet):
    """?status=failed&status=skipped&kind=&bot=&chat=&created_after=&created_before=&has_error=true."""

    status = django_filters.MultipleChoiceFilter(choices=Turn.Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Turn.Kind.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    has_error = django_filters.BooleanFilter(method="filter_has_error", label="Has a failure reason")
    error = django_filters.CharFilter(lookup_expr="icontains", label="Failure reason contains")

    class Meta:
        model = Turn
        fields = ("status", "kind", "bot", "chat")

    def filter_has_error(self, queryset: Any, name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.exclude(error="") if value else queryset.filter(error="")


class TurnViewSet(viewsets.ReadOnlyModelViewSet[Turn]):
    """Turns, newest first, with failure reasons."""

    queryset = Turn.objects.select_related("bot", "chat")
    serializer_class = TurnSerializer
    filterset_class = TurnFilter

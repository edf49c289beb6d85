"""The REST API's URL tree under /api/: every app's api/ urls, the OpenAPI schema and its docs pages."""

from __future__ import annotations

from django.urls import include, path, reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ApiRootView(APIView):
    """Links to the API's collections, its docs and the health checks (public: links only, no data)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "string"}}})
    def get(self, request: Request) -> Response:
        names = ("bot-list", "chat-list", "message-list", "turn-list", "settings", "control", "auth-me", "user-list")
        links = {name.removesuffix("-list"): request.build_absolute_uri(reverse(name)) for name in names}
        links["metrics_summary"] = request.build_absolute_uri("/api/metrics/summary")
        links["health"] = request.build_absolute_uri(reverse("health-ready"))
        links["schema"] = request.build_absolute_uri(reverse("schema"))
        links["docs"] = request.build_absolute_uri(reverse("docs"))
        return Response(links)


urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("accounts.api.urls")),
    path("", include("bots.api.urls")),
    path("", include("chats.api.crud_urls")),
    path("", include("engine.api.urls")),
    # Public on purpose: the schema describes the API, not its data, and a new user needs it to start.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

"""The REST API's URL tree under /api/: every app's api/ urls, the OpenAPI schema and its docs pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import include, path, reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.security import CSP_HEADER, csp_header, inline_style_hashes


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


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its script served from this URL (?script), so no inline script is needed.

    Its template's small inline <style> is allowed by hash; drf-spectacular's relaxed opener policy (for
    OAuth2 popups, which this API does not use) is left out.
    """

    @extend_schema(exclude=True)
    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)
        policy = dict(settings.CONTENT_SECURITY_POLICY)
        policy["style-src"] = (*policy["style-src"], *inline_style_hashes(self.template_name))
        response[CSP_HEADER] = csp_header(policy)
        return response


class RedocView(SpectacularRedocView):
    """ReDoc needs inline code (its start script and runtime styles) and Google's fonts: a looser policy here."""

    @extend_schema(exclude=True)
    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)
        policy = dict(settings.CONTENT_SECURITY_POLICY)
        policy["script-src"] = ("'self'", "'unsafe-inline'")
        policy["style-src"] = ("'self'", "'unsafe-inline'", "https://fonts.googleapis.com")
        policy["font-src"] = ("'self'", "https://fonts.gstatic.com")
        policy["img-src"] = (*policy["img-src"], "https://cdn.redoc.ly")
        policy["worker-src"] = ("'self'", "blob:")
        response[CSP_HEADER] = csp_header(policy)
        return response


urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("accounts.api.urls")),
    path("", include("bots.api.urls")),
    path("", include("chats.api.crud_urls")),
    path("", include("engine.api.urls")),
    # Public on purpose: the schema describes the API, not its data, and a new user needs it to start.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]

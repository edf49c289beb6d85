"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

# JSON errors under /api/ also for URLs no view matches (config.rest).
handler404 = "config.rest.page_not_found"
handler500 = "config.rest.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("django-rq/", include("django_rq.urls")),
    path("telegram/", include("engine.urls")),
    path("api/", include("chats.api.urls")),
    path("api/", include("config.api")),
    # /metrics is monitoring's own view: it merges every process's multiprocess files (docs/architecture.md).
    path("", include("monitoring.urls")),
    path("", include("dashboard.urls")),
]

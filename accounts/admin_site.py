"""The admin site with a throttled login: the same per-address counter as the API's and the dashboard's."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse

from accounts.throttling import login_throttle_wait


class ThrottledAdminSite(admin.AdminSite):
    """Django's admin, whose login form counts attempts like every other login (LOGIN_THROTTLE_RATE)."""

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST":
            wait = login_throttle_wait(request)
            if wait is not None:
                response = HttpResponse(
                    f"Too many login attempts from your address; try again in {wait} s.",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(wait)
                return response
        return super().login(request, extra_context)


class ThrottledAdminConfig(AdminConfig):
    """django.contrib.admin with ThrottledAdminSite as `admin.site` (INSTALLED_APPS names this config)."""

    default_site = "accounts.admin_site.ThrottledAdminSite"

"""Dashboard login and logout (Django's auth views with our templates and the shared login throttle)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from accounts.throttling import login_throttle_wait


class LoginView(auth_views.LoginView):
    """Username and password; too many attempts from one address get a 429 with the wait."""

    template_name = "dashboard/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["local_admin_hint"] = settings.DEBUG  # `make run` keeps the local admin's password in var/
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = login_throttle_wait(request)
        if wait is None:
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        form.is_valid()  # binds the data, so the username stays in the field
        form.add_error(None, f"Too many login attempts from your address; try again in {wait} s.")
        return self.render_to_response(self.get_context_data(form=form), status=429)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView): ends the session and returns to the login page."""

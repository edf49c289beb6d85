"""Who may see a dashboard page: logged-in users whose role has the page's permission."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect

from accounts.roles import user_role


class RoleRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Anonymous users go to the login page; logged-in users without the permission get a 403 naming it."""

    request: HttpRequest

    def handle_no_permission(self) -> HttpResponseRedirect:
        if self.request.user.is_authenticated:
            role = user_role(self.request.user)
            needed = ", ".join(sorted(self.get_permission_required()))
            raise PermissionDenied(f"Your role ({role or 'none'}) does not allow this page; it needs {needed}.")
        return super().handle_no_permission()

    def user_may(self, permission: str) -> bool:
        """Whether the current user holds a permission (templates use it to offer or hide controls)."""
        return bool(self.request.user.has_perm(permission))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["role"] = user_role(self.request.user)
        return context

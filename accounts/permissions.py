"""Role-based permissions: every API request needs the Django permission its role grants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.request import Request

from accounts.roles import user_role

if TYPE_CHECKING:  # DRF imports this module while importing rest_framework.views
    from rest_framework.views import APIView


class RolePermission(DjangoModelPermissions):
    """Model permissions by method (reads need view_*); views may name other permissions per method or action.

    `required_permissions = {"GET": [...], "POST": [...]}` on a view without a model, and
    `action_permissions = {"enable": [...]}` for a viewset's extra actions. A method such a view does not
    list is a 405 (HEAD needs GET's permissions; OPTIONS only describes the view, like the public schema).
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        perms = self.permissions_for(request, view)
        if request.user.has_perms(perms):
            return True
        role = user_role(request.user)
        self.message = f"Your role ({role or 'none'}) does not allow this; it needs {', '.join(sorted(perms))}."
        return False

    def permissions_for(self, request: Request, view: APIView) -> list[str]:
        """The permissions this request needs."""
        action = getattr(view, "action", None)
        by_action: dict[str, list[str]] = getattr(view, "action_permissions", {})
        if action in by_action:
            return by_action[action]
        by_method: dict[str, list[str]] | None = getattr(view, "required_permissions", None)
        if by_method is not None:
            return self._listed_permissions(by_method, request.method or "")
        model: Any = self._queryset(view).model
        return self.get_required_permissions(request.method or "", model)

    @staticmethod
    def _listed_permissions(by_method: dict[str, list[str]], method: str) -> list[str]:
        if method == "HEAD" and "GET" in by_method:
            method = "GET"
        if method in by_method or "*" in by_method:
            return by_method.get(method, by_method.get("*", []))
        if method == "OPTIONS":
            return []
        # Before the view's own dispatch, so an unlisted method must not look like a missing permission (403).
        raise MethodNotAllowed(method)

"""Every route of the URL resolver, with what tests need to call it: so new pages and endpoints are covered as
they are added (token secrecy, CSRF, the role matrix)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver

DRF_ACTIONS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its full route text, namespaced name, parameter names and view."""

    route: str
    name: str
    params: tuple[str, ...]
    callback: Callable[..., Any]

    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def model(self) -> type[Model] | None:
        """The model the view shows: an admin page's, or a generic view's `model` / `queryset`."""
        model_admin = getattr(self.callback, "model_admin", None)
        if model_admin is not None:
            return model_admin.model
        queryset = getattr(self.view_class, "queryset", None)
        return getattr(self.view_class, "model", None) or getattr(queryset, "model", None)

    def methods(self) -> set[str]:
        """HTTP methods the view answers (OPTIONS and HEAD left out): a DRF viewset's actions or handlers."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return {method.upper() for method in actions if method in DRF_ACTIONS}
        view_class = self.view_class
        if view_class is None:
            return {"GET", "POST"}  # a plain function view may take anything
        return {method.upper() for method in DRF_ACTIONS if hasattr(view_class, method)}


def all_routes() -> list[Route]:
    """Every URL pattern of the project, depth first."""
    return list(_walk(get_resolver().url_patterns, "", (), ()))


def _walk(patterns: list[Any], prefix: str, namespaces: tuple[str, ...], params: tuple[str, ...]) -> Iterator[Route]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        names = (*params, *(getattr(pattern.pattern, "converters", {}) or pattern.pattern.regex.groupindex))
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, route, inner, names)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield Route(route, ":".join((*namespaces, pattern.name)), names, pattern.callback)

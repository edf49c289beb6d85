"""Accounts: API tokens, the viewer / operator / admin roles, and the auth endpoints."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from accounts.roles import roles_sync

    roles_sync(using=using)


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)

        # After every migrate: the role groups exist with exactly their permissions (idempotent).
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")

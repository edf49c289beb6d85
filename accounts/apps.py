"""Accounts: API tokens, the viewer / operator / admin roles, and the auth endpoints."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


def _sync_roles(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from accounts.roles import roles_sync

    roles_sync(using=using)


def _invalidate_cached_permissions_on_change() -> None:
    """Any change to who has which permission bumps the permission cache's generation (accounts.backends)."""
    from django.contrib.auth.models import Group, Permission, User

    from accounts.backends import permissions_generation_bump

    for model in (User, Group, Permission):
        post_save.connect(permissions_generation_bump, sender=model, dispatch_uid=f"perms.save.{model.__name__}")
        post_delete.connect(permissions_generation_bump, sender=model, dispatch_uid=f"perms.delete.{model.__name__}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_generation_bump, sender=through, dispatch_uid=f"perms.m2m.{through.__name__}")


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)

        # After every migrate: the role groups exist with exactly their permissions (idempotent).
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
        _invalidate_cached_permissions_on_change()
        from django.contrib.auth.signals import user_login_failed

        from accounts.throttling import login_failure_record

        # Only failed logins count against a client's login throttle (accounts.throttling).
        user_login_failed.connect(login_failure_record, dispatch_uid="accounts.login_failure_record")

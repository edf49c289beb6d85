"""The three roles as Django groups: viewer (read), operator (run and edit the crowd), admin (everything)."""

from __future__ import annotations

from enum import StrEnum

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db.models import Q


class Role(StrEnum):
    """A role is a group of the same name; a user has at most one."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


# What the operator edits: the crowd and its chats (no deletes, no settings, no users).
CROWD_MODELS: tuple[str, ...] = ("bots.bot", "bots.stance", "bots.holding", "bots.memory")
CROWD_MODELS += ("chats.chat", "chats.membership", "chats.message")
STEERING_MODELS: tuple[str, ...] = ("engine.marketevent",)  # what the operator injects into the crowd's chats
READABLE_MODELS = (*CROWD_MODELS, *STEERING_MODELS, "engine.turn", "engine.setting", "engine.newsitem")
ADMIN_APPS = ("bots", "chats", "engine", "accounts")
ADMIN_AUTH_MODELS = ("user", "group")
CONTROL_SIMULATION = "accounts.control_simulation"
CHANGE_SETTING = "engine.change_setting"  # the runtime settings, global and each chat's own (admins)


def _model_perms(actions: tuple[str, ...], models: tuple[str, ...]) -> set[str]:
    return {f"{label.split('.')[0]}.{action}_{label.split('.')[1]}" for label in models for action in actions}


VIEWER_PERMS = frozenset(_model_perms(("view",), READABLE_MODELS))
OPERATOR_PERMS = (
    VIEWER_PERMS | _model_perms(("add", "change"), (*CROWD_MODELS, *STEERING_MODELS)) | {CONTROL_SIMULATION}
)


def role_permissions(role: Role) -> Q:
    """A filter on Permission selecting exactly the role's permissions."""
    if role is Role.ADMIN:
        return Q(content_type__app_label__in=ADMIN_APPS) | Q(
            content_type__app_label="auth", content_type__model__in=ADMIN_AUTH_MODELS
        )
    wanted = VIEWER_PERMS if role is Role.VIEWER else OPERATOR_PERMS
    query = Q(pk__in=[])
    for perm in wanted:
        app_label, codename = perm.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def roles_sync(using: str = "default") -> None:
    """Create the role groups and set exactly their permissions (idempotent; runs after every migrate)."""
    # Permissions are created per app by another post_migrate handler; make sure they exist whatever the order.
    for app_label in ("auth", *ADMIN_APPS):
        create_permissions(apps.get_app_config(app_label), verbosity=0, using=using)
    for role in Role:
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        group.permissions.set(Permission.objects.using(using).filter(role_permissions(role)))


def user_role(user: User | AnonymousUser) -> Role | None:
    """The user's role (superusers are admins); None for anonymous users and users without a role."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in (Role.ADMIN, Role.OPERATOR, Role.VIEWER) if role.value in names), None)

"""Account writes: API tokens, roles and API users."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import Enum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken
from accounts.roles import Role, roles_sync
from accounts.selectors import PREFIX_LENGTH, key_digest

# last_used_at is informational: writing it at most once a minute keeps token requests read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Fields only a superuser may set on anyone: they grant the admin site or every permission.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser")


class Keep(Enum):
    """The marker of an argument not given (a role of None means "no role", so None cannot mean "unchanged")."""

    KEEP = "keep"


def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None, minted_by: ApiToken | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns it with its key, which is stored only as a digest and cannot be shown again.

    A token created with another token (`minted_by`) expires at the latest when that one does, so a leaked
    short-lived token cannot make itself a permanent one.
    """
    if minted_by is not None and minted_by.expires_at is not None:
        expires_at = min(expires_at or minted_by.expires_at, minted_by.expires_at)
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:PREFIX_LENGTH], key_hash=key_digest(key), expires_at=expires_at
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a token: it stops working at once."""
    token.delete()


def api_token_touch(*, token: ApiToken) -> None:
    """Record that the token was used (at most once per minute, to keep requests cheap)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def user_set_role(*, user: User, role: Role | None) -> None:
    """Give the user exactly one role (None removes every role)."""
    role_names = [item.value for item in Role]
    if role is not None and not Group.objects.filter(name=role.value).exists():
        roles_sync()
    with transaction.atomic():
        user.groups.remove(*Group.objects.filter(name__in=role_names))
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))


def api_user_create(*, username: str, role: Role, token_name: str = "api") -> tuple[User, str]:
    """Create (or reuse) a user without a usable password, give it a role and a new token; returns the key."""
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user_set_role(user=user, role=role)
        _, key = api_token_create(user=user, name=token_name)
    return user, key


def user_write_check(*, actor: User, user: User | None, fields: dict[str, object]) -> None:
    """Refuse (PermissionDenied) a write only a superuser may make: to a superuser, or granting staff/superuser."""
    if actor.is_superuser:
        return
    if user is not None and user.is_superuser:
        raise PermissionDenied("Only a superuser can change, deactivate or delete a superuser.")
    granted = [name for name in PRIVILEGE_FIELDS if fields.get(name)]
    if granted:
        raise PermissionDenied(f"Only a superuser can grant {' or '.join(granted)}.")


def user_create(
    *,
    actor: User,
    username: str,
    role: Role | None = None,
    email: str = "",
    password: str = "",
    **fields: object,
) -> User:
    """Create a user with a role; without a password the user can only use API tokens."""
    user_write_check(actor=actor, user=None, fields=fields)
    with transaction.atomic():
        user = get_user_model()(username=username, email=email, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        user_set_role(user=user, role=role)
    return user


def user_update(
    *, actor: User, user: User, role: Role | Keep | None = Keep.KEEP, password: str = "", **fields: object
) -> User:
    """Change a user's fields, password (when given) and role (when given; None removes it)."""
    user_write_check(actor=actor, user=user, fields=fields)
    with transaction.atomic():
        for name, value in fields.items():
            setattr(user, name, value)
        if password:
            user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        if not isinstance(role, Keep):
            user_set_role(user=user, role=role)
    return user


def user_delete(*, actor: User, user: User) -> None:
    """Delete a user (a superuser only by a superuser)."""
    user_write_check(actor=actor, user=user, fields={})
    user.delete()

"""Test users with a role and an API client authenticated by their token."""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import api_user_create


def role_client(role: Role, username: str | None = None) -> tuple[APIClient, User, str]:
    """An API client sending a new token of a new user with the role; returns client, user and key."""
    user, key = api_user_create(username=username or f"{role.value}-user", role=role, token_name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, user, key

"""create_api_user: a user with a role and a key printed once."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.roles import Role, user_role


class CreateApiUserTest(TestCase):
    """The printed key authenticates as the new user with the requested role."""

    def test_it_creates_the_user_and_prints_a_working_key(self) -> None:
        out = StringIO()
        call_command(
            "create_api_user", "grafana", "--role", "viewer", "--token-name", "dash", stdout=out, stderr=StringIO()
        )
        key = out.getvalue().strip()
        user = User.objects.get(username="grafana")
        self.assertFalse(user.has_usable_password())
        self.assertEqual(user_role(user), Role.VIEWER)
        self.assertEqual(ApiToken.objects.get(user=user).name, "dash")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        self.assertEqual(client.get("/api/auth/me/").json()["role"], "viewer")

    def test_running_it_again_changes_the_role_and_adds_a_token(self) -> None:
        call_command("create_api_user", "bob", "--role", "viewer", stdout=StringIO(), stderr=StringIO())
        call_command("create_api_user", "bob", "--role", "admin", stdout=StringIO(), stderr=StringIO())
        user = User.objects.get(username="bob")
        self.assertEqual(user_role(user), Role.ADMIN)
        self.assertEqual(user.api_tokens.count(), 2)

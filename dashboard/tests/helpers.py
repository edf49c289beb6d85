"""Shared setup for dashboard page tests: users of each role, logged in through the test client."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import TestCase

from accounts.roles import Role
from accounts.services import api_user_create


class DashboardTestCase(TestCase):
    """A TestCase with `login_as(role)`; anonymous requests should be redirected to the login page."""

    def login_as(self, role: Role) -> User:
        user, _ = api_user_create(username=f"{role.value}-page-user", role=role)
        self.client.force_login(user)
        return user

    def assertRedirectsToLogin(self, path: str) -> None:  # noqa: N802 - unittest naming
        response = self.client.get(path)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/login/?next="), response["Location"])

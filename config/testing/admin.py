"""A TestCase logged in to the admin as a superuser, shared by the apps' admin tests."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import TestCase


class AdminTestCase(TestCase):
    """Logged in as a superuser."""

    def setUp(self) -> None:
        user = get_user_model().objects.create_superuser("admin", "admin@example.com", "password")
        self.client.force_login(user)

    def get_ok(self, url: str) -> str:
        """GET a page that must render (200); returns its HTML."""
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        return response.content.decode()

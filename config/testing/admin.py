"""A TestCase logged in to the admin as a superuser, shared by the apps' admin tests."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from config.testing.cases import RedisTestCase


class AdminTestCase(RedisTestCase):
    """Logged in as a superuser (the test Redis emptied, as admin actions enqueue jobs)."""

    def setUp(self) -> None:
        super().setUp()
        user = get_user_model().objects.create_superuser("admin", "admin@example.com", "password")
        self.client.force_login(user)

    def get_ok(self, url: str) -> str:
        """GET a page that must render (200); returns its HTML."""
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        return response.content.decode()

"""Hostile request bodies: JSON nested too deep is a 400, a body over the upload limit a 413, never a 500."""

from __future__ import annotations

from django.conf import settings
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import role_client

DEEP_JSON = "[" * 50_000 + "]" * 50_000


class HostileBodyTest(TestCase):
    """Anonymous and authenticated callers get DRF's error shape for bodies the parser cannot take."""

    def setUp(self) -> None:
        self.anonymous = APIClient()
        self.operator, _, _ = role_client(Role.OPERATOR)

    def endpoints(self) -> list[tuple[str, APIClient, str]]:
        return [("login", self.anonymous, "/api/auth/login/"), ("bots", self.operator, "/api/bots/")]

    def test_json_nested_50000_deep_is_a_400(self) -> None:
        for name, api, url in self.endpoints():
            with self.subTest(name):
                response = api.post(url, DEEP_JSON, content_type="application/json")
                self.assertEqual(response.status_code, 400, response.content[:200])
                self.assertIn("nested too deeply", response.json()["detail"])

    def test_a_body_over_the_upload_limit_is_a_413(self) -> None:
        body = '{"username": "' + "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'
        for name, api, url in self.endpoints():
            with self.subTest(name):
                response = api.post(url, body, content_type="application/json")
                self.assertEqual(response.status_code, 413, response.content[:200])
                self.assertIn("too large", response.json()["detail"])

    def test_an_ordinary_body_still_parses(self) -> None:
        response = self.anonymous.post("/api/auth/login/", {"username": "nobody", "password": "x"})
        self.assertEqual(response.status_code, 401)

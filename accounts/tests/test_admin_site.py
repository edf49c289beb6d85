"""The admin's login form is throttled per client address, sharing the counter of the API and dashboard logins."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import TestCase

from accounts.admin_site import ThrottledAdminSite


class AdminLoginThrottleTest(TestCase):
    def setUp(self) -> None:
        cache.clear()  # throttle counts live in the cache
        User.objects.create_superuser("root", password="doğru-parola-123")

    def attempt(self, password: str) -> int:
        return self.client.post("/admin/login/", {"username": "root", "password": password}).status_code

    def test_the_sixth_attempt_in_a_minute_is_429_even_with_the_right_password(self) -> None:
        self.assertEqual([self.attempt("yanlış") for _ in range(5)], [200] * 5)  # the form again, with an error
        response = self.client.post("/admin/login/", {"username": "root", "password": "doğru-parola-123"})
        self.assertEqual(response.status_code, 429)
        self.assertGreater(int(response["Retry-After"]), 0)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_api_attempts_count_against_the_admin_login(self) -> None:
        for _ in range(5):
            self.client.post("/api/auth/login/", {"username": "root", "password": "yanlış"})
        self.assertEqual(self.attempt("doğru-parola-123"), 429)

    def test_a_login_within_the_limit_works_and_the_site_is_ours(self) -> None:
        self.assertEqual(self.attempt("doğru-parola-123"), 302)
        self.assertIsInstance(admin.site._wrapped, ThrottledAdminSite)  # type: ignore[attr-defined]

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.cache import cache

from dashboard.tests.helpers import DashboardTestCase


class LoginTests(DashboardTestCase):
    def setUp(self) -> None:
        cache.clear()  # the throttle counts attempts in the cache
        self.addCleanup(cache.clear)
        get_user_model().objects.create_user("ayse", password="doğru-parola-123")

    def test_a_user_logs_in_and_lands_on_the_page_asked_for(self) -> None:
        response = self.client.post("/login/", {"username": "ayse", "password": "doğru-parola-123", "next": "/chats/"})
        self.assertRedirects(response, "/chats/", fetch_redirect_response=False)

    def test_wrong_credentials_show_an_error_and_no_session(self) -> None:
        response = self.client.post("/login/", {"username": "ayse", "password": "yanlış"})
        self.assertContains(response, "Please enter a correct username and password")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_login_attempts_are_throttled_per_address_like_the_api_login(self) -> None:
        for _ in range(4):  # the rate is 5/min (LOGIN_THROTTLE_RATE)
            self.assertEqual(self.client.post("/login/", {"username": "ayse", "password": "yanlış"}).status_code, 200)
        self.client.post("/api/auth/login/", {"username": "ayse", "password": "yanlış"})  # the same counter
        response = self.client.post("/login/", {"username": "ayse", "password": "doğru-parola-123"})
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many login attempts from your address", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_logout_ends_the_session(self) -> None:
        self.client.post("/login/", {"username": "ayse", "password": "doğru-parola-123"})
        response = self.client.post("/logout/")
        self.assertRedirects(response, "/login/", fetch_redirect_response=False)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_the_login_form_is_csrf_protected(self) -> None:
        self.client.handler.enforce_csrf_checks = True
        response = self.client.post("/login/", {"username": "ayse", "password": "doğru-parola-123"})
        self.assertEqual(response.status_code, 403)

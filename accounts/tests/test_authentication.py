"""API-key authentication: one SHA-256 per request, never a password hash; expiry, revocation, headers."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

from django.contrib.auth.models import User
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.services import api_token_create, api_token_revoke
from accounts.tests.factories import role_client

ME = "/api/auth/me/"


class ApiTokenAuthenticationTest(TestCase):
    """Bearer and Token headers authenticate; anything wrong is a JSON 401."""

    def setUp(self) -> None:
        self.client_, self.user, self.key = role_client(Role.VIEWER)

    def test_it_authenticates_a_bearer_key(self) -> None:
        response = self.client_.get(ME)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["username"], self.user.username)
        self.assertEqual(response.json()["role"], "viewer")

    def test_it_accepts_the_token_keyword(self) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.key}")
        self.assertEqual(client.get(ME).status_code, 200)

    def test_it_rejects_a_wrong_key_with_json_401(self) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key[:-1]}x")
        response = client.get(ME)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["WWW-Authenticate"], "Bearer")
        self.assertIn("Invalid", response.json()["detail"])

    def test_it_rejects_a_malformed_header(self) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
        self.assertEqual(client.get(ME).status_code, 401)

    def test_it_answers_401_without_credentials(self) -> None:
        response = APIClient().get("/api/bots/")
        self.assertEqual(response.status_code, 401)
        self.assertIn("detail", response.json())

    def test_it_rejects_an_expired_token(self) -> None:
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        self.assertEqual(self.client_.get(ME).status_code, 401)

    def test_it_rejects_a_revoked_token(self) -> None:
        api_token_revoke(token=ApiToken.objects.get(user=self.user))
        self.assertEqual(self.client_.get(ME).status_code, 401)

    def test_it_rejects_the_token_of_an_inactive_user(self) -> None:
        User.objects.filter(pk=self.user.pk).update(is_active=False)
        self.assertEqual(self.client_.get(ME).status_code, 401)

    def test_it_tells_apart_tokens_sharing_a_prefix(self) -> None:
        other_user = User.objects.create(username="other")
        other, _ = api_token_create(user=other_user, name="clash")
        ApiToken.objects.filter(pk=other.pk).update(prefix=self.key[:8])
        self.assertEqual(self.client_.get(ME).json()["username"], self.user.username)

    def test_it_records_last_use_at_most_once_a_minute(self) -> None:
        self.client_.get(ME)
        first = ApiToken.objects.get(user=self.user).last_used_at
        self.assertIsNotNone(first)
        self.client_.get(ME)
        self.assertEqual(ApiToken.objects.get(user=self.user).last_used_at, first)


class NoPasswordHashTest(TestCase):
    """The earlier system ran a 0.2 s password hash on every request; a token check must not hash passwords."""

    def test_it_never_calls_a_password_hasher(self) -> None:
        client, _, _ = role_client(Role.OPERATOR)
        boom = mock.Mock(side_effect=AssertionError("password hasher called"))
        with (
            mock.patch("django.contrib.auth.hashers.check_password", boom),
            mock.patch("django.contrib.auth.hashers.make_password", boom),
            mock.patch("django.contrib.auth.hashers.PBKDF2PasswordHasher.encode", boom),
            mock.patch("django.contrib.auth.hashers.PBKDF2PasswordHasher.verify", boom),
        ):
            self.assertEqual(client.get("/api/bots/").status_code, 200)
            self.assertEqual(client.post("/api/control/start/").status_code, 200)
        boom.assert_not_called()

    def test_authentication_takes_well_under_5_ms(self) -> None:
        from rest_framework.test import APIRequestFactory

        from accounts.authentication import ApiTokenAuthentication

        _, user, key = role_client(Role.VIEWER)
        request = APIRequestFactory().get("/api/bots/", HTTP_AUTHORIZATION=f"Bearer {key}")
        authentication = ApiTokenAuthentication()
        authentication.authenticate(request)  # warm up (first use writes last_used_at)
        timings = []
        for _ in range(20):  # the fastest run: what the code costs, not what a busy machine adds
            started = time.perf_counter()
            result = authentication.authenticate(request)
            timings.append(time.perf_counter() - started)
        assert result is not None
        self.assertEqual(result[0], user)
        self.assertLess(min(timings), 0.005)

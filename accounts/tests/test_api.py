"""Auth endpoints (throttled session login, logout, me), own API tokens, users (admin), and the schema."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import TestCase
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.roles import Role, user_role
from accounts.tests.factories import role_client


class LoginTest(TestCase):
    """Session login for the browser; five attempts a minute per client address."""

    def setUp(self) -> None:
        cache.clear()
        self.user = User.objects.create_user("ayse", password="correct horse")
        self.api = APIClient(enforce_csrf_checks=True)

    def log_in(self, password: str) -> Any:
        """POST the login as a browser does: with the CSRF token GET /api/auth/login/ set as a cookie."""
        token = self.api.get("/api/auth/login/").cookies["csrftoken"].value
        data = {"username": "ayse", "password": password}
        return self.api.post("/api/auth/login/", data, headers={"X-CSRFToken": token})

    def test_it_logs_in_and_out_with_a_session(self) -> None:
        response = self.log_in("correct horse")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.api.get("/api/auth/me/").json()["username"], "ayse")
        self.api.logout()
        self.assertEqual(self.api.get("/api/auth/me/").status_code, 401)

    def test_a_wrong_password_is_a_json_401(self) -> None:
        response = self.log_in("nope")
        self.assertEqual(response.status_code, 401)
        self.assertIn("Wrong username or password", response.json()["detail"])

    def test_it_throttles_login_attempts(self) -> None:
        codes = [self.log_in("x").status_code for _ in range(6)]
        self.assertEqual(codes, [401] * 5 + [429])
        response = self.log_in("correct horse")
        self.assertEqual(response.status_code, 429)
        self.assertIn("throttled", response.json()["detail"])

    def test_a_login_without_the_csrf_token_is_refused(self) -> None:
        # Else another site could post its own credentials and log the browser in to its account.
        response = self.api.post("/api/auth/login/", {"username": "ayse", "password": "correct horse"})
        self.assertEqual(response.status_code, 403)
        self.assertIn("CSRF", response.json()["detail"])
        self.assertEqual(self.api.get("/api/auth/me/").status_code, 401)

    def test_session_writes_need_the_csrf_token(self) -> None:
        self.api.force_login(User.objects.create_superuser("root", password="pw"))
        self.assertEqual(self.api.post("/api/control/start/").status_code, 403)


class ApiTokenApiTest(TestCase):
    """Each user manages their own tokens; the key is returned once, at creation."""

    def setUp(self) -> None:
        self.api, self.user, self.key = role_client(Role.VIEWER)

    def test_it_creates_a_token_whose_key_works_and_is_never_listed(self) -> None:
        created = self.api.post("/api/auth/tokens/", {"name": "grafana"}).json()
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
        self.assertEqual(other.get("/api/auth/me/").json()["username"], self.user.username)
        listing = self.api.get("/api/auth/tokens/").content.decode()
        self.assertNotIn(created["key"], listing)
        self.assertIn(created["prefix"], listing)
        self.assertEqual(len(ApiToken.objects.get(pk=created["id"]).key_hash), 64)

    def test_it_cannot_revoke_someone_elses_token(self) -> None:
        _, other_user, _ = role_client(Role.ADMIN)
        token = ApiToken.objects.get(user=other_user)
        self.assertEqual(self.api.delete(f"/api/auth/tokens/{token.pk}/").status_code, 404)


class UserApiTest(TestCase):
    """Admins manage users and their roles."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.ADMIN)

    def test_it_creates_a_user_with_a_role_and_a_validated_password(self) -> None:
        response = self.api.post("/api/users/", {"username": "ops", "role": "operator", "password": "123"})
        self.assertIn("password", response.json())
        response = self.api.post("/api/users/", {"username": "ops", "role": "operator", "password": "k8s-pilot-17"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["role"], "operator")
        self.assertNotIn("password", response.json())
        self.assertEqual(user_role(User.objects.get(username="ops")), Role.OPERATOR)

    def test_an_unknown_role_names_the_field(self) -> None:
        self.assertIn("role", self.api.post("/api/users/", {"username": "x", "role": "god"}).json())


class SchemaTest(TestCase):
    """The OpenAPI document is public, valid, and describes the token scheme; the docs pages work offline."""

    def test_the_schema_is_valid_openapi(self) -> None:
        response = self.client.get("/api/schema/?format=json")
        self.assertEqual(response.status_code, 200)
        schema = response.json()
        validate_schema(schema)
        self.assertIn("/api/bots/{bot_pk}/stances/", schema["paths"])
        self.assertEqual(schema["components"]["securitySchemes"]["apiToken"]["scheme"], "bearer")
        bot_request = schema["components"]["schemas"]["BotRequest"]["properties"]
        self.assertIn("token", bot_request)
        self.assertNotIn("token", schema["components"]["schemas"]["Bot"]["properties"])

    def test_the_docs_pages_load_their_assets_locally(self) -> None:
        for url in ("/api/docs/", "/api/redoc/"):
            html = self.client.get(url).content.decode()
            self.assertNotIn("cdn.jsdelivr.net", html, url)
            self.assertIn("/static/drf_spectacular_sidecar/", html, url)

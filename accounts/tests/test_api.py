"""Auth endpoints (throttled session login, logout, me), own API tokens, users (admin), and the schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.utils import timezone
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

    def test_successful_logins_do_not_count_against_the_limit(self) -> None:
        codes = [self.log_in("correct horse").status_code for _ in range(8)]
        self.assertEqual(codes, [200] * 8)
        self.assertEqual([self.log_in("x").status_code for _ in range(6)], [401] * 5 + [429])

    def test_a_login_without_the_csrf_token_is_refused(self) -> None:
        # Else another site could post its own credentials and log the browser in to its account.
        response = self.api.post("/api/auth/login/", {"username": "ayse", "password": "correct horse"})
        self.assertEqual(response.status_code, 403)
        self.assertIn("CSRF", response.json()["detail"])
        self.assertEqual(self.api.get("/api/auth/me/").status_code, 401)

    def test_session_writes_need_the_csrf_token(self) -> None:
        self.api.force_login(User.objects.create_superuser("root", password="pw"))
        self.assertEqual(self.api.post("/api/control/start/").status_code, 403)


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
class LoginBehindProxyTest(TestCase):
    """Behind the TLS proxy (REMOTE_ADDR is the proxy's), each client has its own count of failed logins."""

    def setUp(self) -> None:
        cache.clear()
        User.objects.create_user("ayse", password="correct horse")

    def attempt(self, client_address: str, password: str) -> int:
        data = {"username": "ayse", "password": password}
        # The proxy appends the address it saw; a client's own X-Forwarded-For entries come first.
        headers = {"X-Forwarded-For": f"203.0.113.99, {client_address}"}
        return APIClient().post("/api/auth/login/", data, headers=headers, REMOTE_ADDR="10.0.0.2").status_code

    def test_two_clients_behind_the_proxy_have_separate_buckets(self) -> None:
        self.assertEqual([self.attempt("198.51.100.1", "x") for _ in range(6)], [401] * 5 + [429])
        self.assertEqual(self.attempt("198.51.100.1", "correct horse"), 429)
        self.assertEqual(self.attempt("198.51.100.2", "correct horse"), 200)
        self.assertEqual([self.attempt("198.51.100.2", "x") for _ in range(5)], [401] * 5)

    def test_a_client_cannot_escape_its_bucket_by_sending_its_own_forwarded_for(self) -> None:
        for spoofed in range(5):
            data = {"username": "ayse", "password": "x"}
            headers = {"X-Forwarded-For": f"192.0.2.{spoofed}, 198.51.100.1"}
            APIClient().post("/api/auth/login/", data, headers=headers, REMOTE_ADDR="10.0.0.2")
        self.assertEqual(self.attempt("198.51.100.1", "correct horse"), 429)


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

    def test_a_token_minted_by_a_token_expires_at_the_latest_with_it(self) -> None:
        expiry = timezone.now() + timedelta(hours=1)
        ApiToken.objects.filter(user=self.user).update(expires_at=expiry)
        later = (expiry + timedelta(days=30)).isoformat()
        for name, body in (("forever", {"name": "forever"}), ("later", {"name": "later", "expires_at": later})):
            with self.subTest(name):
                response = self.api.post("/api/auth/tokens/", body)
                self.assertEqual(response.status_code, 201, response.content)
                self.assertEqual(ApiToken.objects.get(pk=response.json()["id"]).expires_at, expiry)
        sooner = expiry - timedelta(minutes=30)
        created = self.api.post("/api/auth/tokens/", {"name": "sooner", "expires_at": sooner.isoformat()}).json()
        self.assertEqual(ApiToken.objects.get(pk=created["id"]).expires_at, sooner)

    def test_a_token_minted_in_a_session_may_never_expire(self) -> None:
        browser = APIClient()
        browser.force_login(self.user)
        created = browser.post("/api/auth/tokens/", {"name": "laptop"}).json()
        self.assertIsNone(ApiToken.objects.get(pk=created["id"]).expires_at)

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

    def test_a_null_role_removes_the_role_and_a_missing_one_keeps_it(self) -> None:
        user = User.objects.create_user("ops")
        self.api.patch(f"/api/users/{user.pk}/", {"role": "operator"})
        response = self.api.patch(f"/api/users/{user.pk}/", {"email": "ops@example.com"})
        self.assertEqual(response.json()["role"], "operator")
        response = self.api.patch(f"/api/users/{user.pk}/", {"role": None})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIsNone(response.json()["role"])
        self.assertIsNone(user_role(User.objects.get(pk=user.pk)))


class SuperuserProtectionTest(TestCase):
    """An admin-role user who is not a superuser cannot take over, disable or delete a superuser."""

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", password="root-parola-123")
        self.api, self.admin, _ = role_client(Role.ADMIN)

    def assert_refused(self, response: Any) -> None:
        self.assertEqual(response.status_code, 403, response.content)
        self.assertIn("Only a superuser", response.json()["detail"])
        root = User.objects.get(pk=self.root.pk)
        self.assertTrue(root.check_password("root-parola-123"))
        self.assertTrue(root.is_active and root.is_superuser)

    def test_it_refuses_to_change_a_superusers_password(self) -> None:
        self.assert_refused(self.api.patch(f"/api/users/{self.root.pk}/", {"password": "taken-over-456"}))
        body = {"username": "root", "password": "taken-over-456", "is_active": True}
        self.assert_refused(self.api.put(f"/api/users/{self.root.pk}/", body))

    def test_it_refuses_to_deactivate_or_delete_a_superuser(self) -> None:
        self.assert_refused(self.api.patch(f"/api/users/{self.root.pk}/", {"is_active": False}))
        self.assert_refused(self.api.delete(f"/api/users/{self.root.pk}/"))
        self.assertTrue(User.objects.filter(pk=self.root.pk).exists())

    def test_the_admin_still_manages_other_users(self) -> None:
        other = User.objects.create_user("ops", password="ops-parola-123")
        self.assertEqual(self.api.patch(f"/api/users/{other.pk}/", {"is_active": False}).status_code, 200)
        self.assertEqual(self.api.delete(f"/api/users/{other.pk}/").status_code, 204)

    def test_a_superuser_may_change_a_superuser(self) -> None:
        api = APIClient()
        api.force_authenticate(User.objects.create_superuser("root2", password="x-parola-123"))
        response = api.patch(f"/api/users/{self.root.pk}/", {"password": "new-root-parola-789"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(User.objects.get(pk=self.root.pk).check_password("new-root-parola-789"))


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

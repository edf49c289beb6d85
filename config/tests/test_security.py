"""Site-wide security: no page shows a bot token, every form needs the CSRF token, the security headers are set.

Pages and views come from the URL resolver (config.testing.routes), so pages added later (the dashboard) are
covered as soon as they exist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, TestCase
from django.urls import NoReverseMatch, reverse

from bots.models import Bot
from bots.services import bot_create
from bots.tests.factories import HoldingFactory, MemoryFactory, StanceFactory
from chats.models import Chat
from chats.services import chat_create, membership_add
from config.testing.fake_telegram import make_token
from config.testing.routes import Route, all_routes
from engine.services.webhooks import inbox_for
from engine.tests.factories import TurnFactory

TOKEN = make_token(7_400_000_001)
SECRET = TOKEN.split(":")[1]
# Views that accept unsafe requests without Django's CSRF check, and why:
CSRF_EXEMPT = {
    "telegram-webhook": "Telegram cannot send a CSRF token; the secret header authenticates it",
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _world() -> dict[str, Any]:
    """Objects for the pages to show: a bot with a token, its chat, knowledge and a turn."""
    chat = chat_create(title="Borsa", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100800)
    bot = bot_create(name="Gizli", username="secret_page_bot", token=TOKEN)
    membership = membership_add(chat=chat, bot=bot)
    for factory in (StanceFactory, HoldingFactory, MemoryFactory):
        factory.create(bot=bot)
    TurnFactory.create(chat=chat, bot=bot, error="chat not found")
    return {"bot": bot, "chat": chat, "membership": membership, "inbox": inbox_for(bot)}


def _value(name: str, route: Route, world: dict[str, Any]) -> tuple[Any, bool]:
    """A value for a URL parameter and whether it names a real row: the shown model's row (the token bot for
    bots) or one of the world's objects; else a guess (an id that may not exist)."""
    model = route.model
    if name in ("object_id", "pk", "id") and model is not None and model._meta.managed:
        instance = world["bot"] if model is Bot else model._default_manager.order_by("pk").first()
        return (instance.pk, True) if instance is not None else (1, False)
    by_name: dict[str, Any] = {
        "bot_pk": world["bot"].pk,
        "chat_pk": world["chat"].pk,
        "chat_id": world["chat"].pk,
        "webhook_id": world["inbox"].webhook_id,
        "app_label": "bots",
        "content_type_id": ContentType.objects.get_for_model(Bot).pk,
    }
    return (by_name[name], True) if name in by_name else (1, False)


def page_urls(world: dict[str, Any]) -> dict[str, bool]:
    """A concrete URL for every route that can be reversed, and whether all its parameters name real rows."""
    urls: dict[str, bool] = {}
    for route in all_routes():
        values = {name: _value(name, route, world) for name in route.params}
        try:
            url = reverse(route.name, kwargs={name: value for name, (value, _) in values.items()} or None)
        except NoReverseMatch:
            continue  # a parameter with a fixed set of values (e.g. a regex alternative) we did not guess
        urls[url] = all(known for _, known in values.values())
    return urls


class NoTokenOnAnyPageTest(TestCase):
    """Every page and endpoint of the resolver, as a superuser (who sees everything), GET."""

    def setUp(self) -> None:
        self.world = _world()
        self.client.force_login(User.objects.create_superuser("root", password="pw-not-used-123"))

    def test_no_page_shows_a_bot_token_or_fails(self) -> None:
        urls = page_urls(self.world)
        bot = self.world["bot"]
        self.assertIs(urls[reverse("admin:bots_bot_change", args=[bot.pk])], True)
        self.assertGreater(len(urls), 100)
        # Third-party pages (django-rq's) fail on ids that do not exist: only pages of real rows must not.
        self.client.raise_request_exception = False
        for url, real in sorted(urls.items()):
            with self.subTest(url=url):
                response = self.get_in_savepoint(url)
                if real:
                    self.assertNotEqual(response.status_code, 500)  # a 503 from /health/ready is an answer
                body = b"".join(response) if response.streaming else response.content
                self.assertNotIn(SECRET.encode(), body)

    def get_in_savepoint(self, url: str) -> Any:
        # On PostgreSQL a failed query aborts the test's transaction: a failing page must not break the next.
        savepoint = transaction.savepoint()
        response = self.client.get(url)
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        return response

    def test_the_bot_admin_never_echoes_a_token_it_refuses(self) -> None:
        url = reverse("admin:bots_bot_add")
        for token in (TOKEN, TOKEN + "!"):  # taken by another bot, then malformed
            with self.subTest(token=token[-4:]):
                response = self.client.post(url, {"name": "Kopya", "token": token, "talkativeness": "0.5"})
                self.assertEqual(response.status_code, 200)  # the form again, with the error
                self.assertTrue(response.context["adminform"].form.errors)
                self.assertNotIn(SECRET.encode(), response.content)


class CsrfTest(TestCase):
    """Session-authenticated writes without the CSRF token are refused, on the API, the admin and every form."""

    def setUp(self) -> None:
        self.world = _world()
        self.user = User.objects.create_superuser("root", password="pw-not-used-123")
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(self.user)

    def test_only_the_listed_views_skip_django_csrf_check(self) -> None:
        exempt = {
            route.name
            for route in all_routes()
            if getattr(route.callback, "csrf_exempt", False) and not _is_drf(route)  # DRF checks it itself
        }
        self.assertEqual(exempt, set(CSRF_EXEMPT))

    def test_every_unsafe_api_request_with_a_session_needs_the_csrf_token(self) -> None:
        requests = [
            (method, reverse(route.name, kwargs=self.kwargs(route) or None))
            for route in all_routes()
            if route.route.startswith("api/")
            for method in sorted(route.methods() & set(UNSAFE))
        ]
        self.assertGreater(len(requests), 30)
        for method, url in requests:
            with self.subTest(method=method, url=url):
                response = self.client.generic(method, url, data="{}", content_type="application/json")
                self.assertEqual(response.status_code, 403)
                self.assertIn("CSRF", response.json()["detail"])

    def test_admin_and_site_forms_refuse_a_post_without_the_token(self) -> None:
        bot = self.world["bot"]
        urls = [
            reverse("admin:login"),
            reverse("admin:logout"),
            reverse("admin:bots_bot_add"),
            reverse("admin:bots_bot_change", args=[bot.pk]),
            reverse("admin:bots_bot_delete", args=[bot.pk]),
            reverse("admin:bots_bot_changelist"),  # bulk actions
            reverse("admin:password_change"),
        ]
        urls += [url for url in page_urls(self.world) if not url.startswith(("/api/", "/admin/", "/telegram/"))]
        self.client.raise_request_exception = False
        for url in urls:
            with self.subTest(url=url):
                self.assertEqual(self.client.post(url, {"name": "x", "action": "delete_selected"}).status_code, 403)
        self.assertTrue(Bot.objects.filter(pk=bot.pk).exists())

    def kwargs(self, route: Route) -> dict[str, Any]:
        return {name: _value(name, route, self.world)[0] for name in route.params}


def _is_drf(route: Route) -> bool:
    from rest_framework.views import APIView

    view_class = route.view_class
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class SecurityHeadersTest(TestCase):
    """Headers every response carries (pages, API, errors)."""

    def test_pages_api_and_errors_carry_the_security_headers(self) -> None:
        client = Client()
        for url in ("/admin/login/", "/api/", "/api/bots/", "/api/docs/", "/health/live", "/no-such-page/"):
            with self.subTest(url=url):
                response = client.get(url)
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
                self.assertEqual(response["Referrer-Policy"], "same-origin")
                self.assertEqual(response["X-Frame-Options"], "DENY")
                self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")
                self.assertIn("script-src 'self'", response["Content-Security-Policy"])

    def test_production_settings_add_hsts_secure_cookies_and_pass_the_deploy_check(self) -> None:
        env = {
            **os.environ,
            "DEBUG": "False",
            "SECRET_KEY": "x" * 64 + uuid.uuid4().hex,
            "TOKEN_ENCRYPTION_KEYS": "nU7Dk0e8lZJ8Y3XnWmXoG1oXqWm4Ir5Zb5s0V0hZl2E=",
            "ALLOWED_HOSTS": "piyasa.example.com",
        }
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        probe = (
            "import json; from django.conf import settings as s; print(json.dumps([s.SECURE_HSTS_SECONDS,"
            " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT]))"
        )
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        shown = subprocess.run([*manage, "shell", "-c", probe], env=env, capture_output=True, text=True, check=True)
        hsts, subdomains, *secure = json.loads(shown.stdout.strip().splitlines()[-1])
        self.assertGreaterEqual(hsts, 31536000)
        self.assertTrue(subdomains and all(secure))
        check = [*manage, "check", "--deploy", "--fail-level", "WARNING"]
        result = subprocess.run(check, env=env, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

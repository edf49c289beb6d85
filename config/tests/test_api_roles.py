"""The role matrix: every API endpoint × {anonymous, viewer, operator, admin}, and no token ever in a response."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.services import api_token_create
from accounts.tests.factories import role_client
from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceChangeFactory, StanceFactory
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from config.testing.routes import all_routes
from engine.models import MarketEvent
from engine.tests.factories import TurnFactory

ANON, VIEWER, OPERATOR, ADMIN = "anonymous", "viewer", "operator", "admin"
TELEGRAM_TOKEN = "123456789:AAE-known-telegram-secret_abcdefghijkl"


def read() -> dict[str, int]:
    return {ANON: 401, VIEWER: 200, OPERATOR: 200, ADMIN: 200}


def crowd_write(code: int) -> dict[str, int]:
    return {ANON: 401, VIEWER: 403, OPERATOR: code, ADMIN: code}


def admin_only(code: int) -> dict[str, int]:
    return {ANON: 401, VIEWER: 403, OPERATOR: 403, ADMIN: code}


def authenticated(code: int) -> dict[str, int]:
    return {ANON: 401, VIEWER: code, OPERATOR: code, ADMIN: code}


def public() -> dict[str, int]:
    return {ANON: 200, VIEWER: 200, OPERATOR: 200, ADMIN: 200}


@dataclass
class World:
    """The objects the cases point at."""

    user: User | None
    bot: Any = field(default_factory=lambda: BotFactory.create(token=TELEGRAM_TOKEN))
    chat: Any = field(default_factory=ChatFactory.create)

    def __post_init__(self) -> None:
        self.stance = StanceFactory.create(bot=self.bot)
        self.stance_change = StanceChangeFactory.create(stance=self.stance)
        self.holding = HoldingFactory.create(bot=self.bot)
        self.memory = MemoryFactory.create(bot=self.bot)
        self.membership = MembershipFactory.create(chat=self.chat, bot=self.bot)
        self.message = MessageFactory.create(chat=self.chat)
        self.turn = TurnFactory.create(chat=self.chat, bot=self.bot, error="chat not found")
        self.other_user = User.objects.create(username="someone")
        soon = timezone.now() + timedelta(hours=1)
        self.event = MarketEvent.objects.create(text="Faiz kararı", direction="up", intensity=0.5, fire_at=soon)


@dataclass
class Case:
    """One request and the status each role must get."""

    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    format: str = "json"


def _victim_token(w: World) -> str:
    owner = w.user or User.objects.create(username="anon-owner")
    token, _ = api_token_create(user=owner, name="victim")
    return f"/api/auth/tokens/{token.pk}/"


CASES: list[Case] = [
    Case("api-root", "get", lambda w: "/api/", public()),
    Case("schema", "get", lambda w: "/api/schema/", public()),
    Case("docs", "get", lambda w: "/api/docs/", public()),
    Case("redoc", "get", lambda w: "/api/redoc/", public()),
    Case("auth-me", "get", lambda w: "/api/auth/me/", authenticated(200)),
    Case("api-token-list", "get", lambda w: "/api/auth/tokens/", authenticated(200)),
    Case("api-token-list", "post", lambda w: "/api/auth/tokens/", authenticated(201), lambda w: {"name": "ci"}),
    Case("api-token-detail", "delete", _victim_token, authenticated(204)),
    Case("bot-list", "get", lambda w: "/api/bots/", read()),
    Case("bot-list", "post", lambda w: "/api/bots/", crowd_write(201), lambda w: {"name": "Yeni"}),
    Case("bot-detail", "get", lambda w: f"/api/bots/{w.bot.pk}/", read()),
    Case("bot-detail", "patch", lambda w: f"/api/bots/{w.bot.pk}/", crowd_write(200), lambda w: {"talkativeness": 0.9}),
    Case("bot-detail", "put", lambda w: f"/api/bots/{w.bot.pk}/", crowd_write(200), lambda w: {"name": "Ayni"}),
    Case("bot-enable", "post", lambda w: f"/api/bots/{w.bot.pk}/enable/", crowd_write(200)),
    Case("bot-disable", "post", lambda w: f"/api/bots/{w.bot.pk}/disable/", crowd_write(200)),
    Case("bot-stance-list", "get", lambda w: f"/api/bots/{w.bot.pk}/stances/", read()),
    Case(
        "bot-stance-list",
        "post",
        lambda w: f"/api/bots/{w.bot.pk}/stances/",
        crowd_write(201),
        lambda w: {"topic": "XAUUSD", "stance": "Altın yükselir.", "polarity": "bullish"},
    ),
    Case("bot-stance-detail", "get", lambda w: f"/api/bots/{w.bot.pk}/stances/{w.stance.pk}/", read()),
    Case("bot-stance-change-list", "get", lambda w: f"/api/bots/{w.bot.pk}/stance-changes/", read()),
    Case(
        "bot-stance-change-detail",
        "get",
        lambda w: f"/api/bots/{w.bot.pk}/stance-changes/{w.stance_change.pk}/",
        read(),
    ),
    Case(
        "bot-stance-detail",
        "patch",
        lambda w: f"/api/bots/{w.bot.pk}/stances/{w.stance.pk}/",
        crowd_write(200),
        lambda w: {"confidence": 0.2},
    ),
    Case("bot-holding-list", "get", lambda w: f"/api/bots/{w.bot.pk}/holdings/", read()),
    Case(
        "bot-holding-list",
        "post",
        lambda w: f"/api/bots/{w.bot.pk}/holdings/",
        crowd_write(201),
        lambda w: {"symbol": "BTCUSDT", "size": "0.5", "average_price": "60000"},
    ),
    Case("bot-holding-detail", "get", lambda w: f"/api/bots/{w.bot.pk}/holdings/{w.holding.pk}/", read()),
    Case(
        "bot-holding-detail",
        "patch",
        lambda w: f"/api/bots/{w.bot.pk}/holdings/{w.holding.pk}/",
        crowd_write(200),
        lambda w: {"note": "uzun vade"},
    ),
    Case("bot-memory-list", "get", lambda w: f"/api/bots/{w.bot.pk}/memories/", read()),
    Case(
        "bot-memory-list",
        "post",
        lambda w: f"/api/bots/{w.bot.pk}/memories/",
        crowd_write(201),
        lambda w: {"kind": "routine", "content": "Sabah 9'da ekrana bakar."},
    ),
    Case("bot-memory-detail", "get", lambda w: f"/api/bots/{w.bot.pk}/memories/{w.memory.pk}/", read()),
    Case(
        "bot-memory-detail",
        "patch",
        lambda w: f"/api/bots/{w.bot.pk}/memories/{w.memory.pk}/",
        crowd_write(200),
        lambda w: {"relevance": 0.9},
    ),
    Case("chat-list", "get", lambda w: "/api/chats/", read()),
    Case("chat-list", "post", lambda w: "/api/chats/", crowd_write(201), lambda w: {"title": "Yeni sohbet"}),
    Case("chat-detail", "get", lambda w: f"/api/chats/{w.chat.pk}/", read()),
    Case("chat-detail", "patch", lambda w: f"/api/chats/{w.chat.pk}/", crowd_write(200), lambda w: {"cadence": 2}),
    Case("chat-pause", "post", lambda w: f"/api/chats/{w.chat.pk}/pause/", crowd_write(200)),
    Case("chat-resume", "post", lambda w: f"/api/chats/{w.chat.pk}/resume/", crowd_write(200)),
    Case("chat-enable", "post", lambda w: f"/api/chats/{w.chat.pk}/enable/", crowd_write(200)),
    Case("chat-membership-list", "get", lambda w: f"/api/chats/{w.chat.pk}/memberships/", read()),
    Case(
        "chat-membership-list",
        "post",
        lambda w: f"/api/chats/{w.chat.pk}/memberships/",
        crowd_write(201),
        lambda w: {"bot": BotFactory.create().pk},
    ),
    Case("chat-membership-detail", "get", lambda w: f"/api/chats/{w.chat.pk}/memberships/{w.membership.pk}/", read()),
    Case(
        "chat-membership-detail",
        "patch",
        lambda w: f"/api/chats/{w.chat.pk}/memberships/{w.membership.pk}/",
        crowd_write(200),
        lambda w: {"is_enabled": False},
    ),
    Case("message-list", "get", lambda w: f"/api/messages/?chat={w.chat.pk}", read()),
    Case("message-list", "post", lambda w: "/api/messages/", {ANON: 401, VIEWER: 403, OPERATOR: 405, ADMIN: 405}),
    Case("message-detail", "get", lambda w: f"/api/messages/{w.message.pk}/", read()),
    Case("chat-quality", "get", lambda w: f"/api/chats/{w.chat.pk}/quality/", read()),
    Case("bot-interviews", "get", lambda w: f"/api/bots/{w.bot.pk}/interviews/", read()),
    Case(
        "bot-interviews",
        "post",
        lambda w: f"/api/bots/{w.bot.pk}/interviews/",
        crowd_write(201),
        lambda w: {"question": "Piyasa hakkında ne düşünüyorsun?"},
    ),
    Case(
        "personas-generate",
        "post",
        lambda w: "/api/personas/generate/",
        crowd_write(200),
        lambda w: {"brief": "x: a student", "count": 1},
    ),
    Case("marketevent-list", "get", lambda w: f"/api/events/?chat={w.chat.pk}", read()),
    Case(
        "marketevent-list",
        "post",
        lambda w: "/api/events/",
        crowd_write(201),
        lambda w: {"text": "Faiz kararı", "direction": "up", "intensity": "high", "chats": [w.chat.pk]},
    ),
    Case("marketevent-detail", "get", lambda w: f"/api/events/{w.event.pk}/", read()),
    Case("marketevent-cancel", "post", lambda w: f"/api/events/{w.event.pk}/cancel/", crowd_write(200)),
    Case("turn-list", "get", lambda w: "/api/turns/?status=planned", read()),
    Case("turn-detail", "get", lambda w: f"/api/turns/{w.turn.pk}/", read()),
    Case("settings", "get", lambda w: "/api/settings/", read()),
    Case("settings", "patch", lambda w: "/api/settings/", admin_only(200), lambda w: {"max_msgs_per_min": 10}),
    Case("control", "get", lambda w: "/api/control/", read()),
    Case("control-start", "post", lambda w: "/api/control/start/", crowd_write(200)),
    Case("control-stop", "post", lambda w: "/api/control/stop/", crowd_write(200)),
    Case("control-scale", "post", lambda w: "/api/control/scale/", crowd_write(200), lambda w: {"scale_factor": 2}),
    Case("user-list", "get", lambda w: "/api/users/", admin_only(200)),
    Case("user-list", "post", lambda w: "/api/users/", admin_only(201), lambda w: {"username": "n", "role": "viewer"}),
    Case("user-detail", "get", lambda w: f"/api/users/{w.other_user.pk}/", admin_only(200)),
    Case(
        "user-detail",
        "patch",
        lambda w: f"/api/users/{w.other_user.pk}/",
        admin_only(200),
        lambda w: {"role": "operator"},
    ),
    Case(
        "bot-stance-detail",
        "put",
        lambda w: f"/api/bots/{w.bot.pk}/stances/{w.stance.pk}/",
        crowd_write(200),
        lambda w: {"topic": w.stance.topic, "stance": "Ayı piyasası.", "polarity": "bearish"},
    ),
    Case(
        "bot-holding-detail",
        "put",
        lambda w: f"/api/bots/{w.bot.pk}/holdings/{w.holding.pk}/",
        crowd_write(200),
        lambda w: {"symbol": w.holding.symbol, "size": "2", "average_price": "10"},
    ),
    Case(
        "bot-memory-detail",
        "put",
        lambda w: f"/api/bots/{w.bot.pk}/memories/{w.memory.pk}/",
        crowd_write(200),
        lambda w: {"kind": "routine", "content": "Akşam haberleri izler."},
    ),
    Case("chat-detail", "put", lambda w: f"/api/chats/{w.chat.pk}/", crowd_write(200), lambda w: {"title": "Yeni ad"}),
    Case(
        "chat-membership-detail",
        "put",
        lambda w: f"/api/chats/{w.chat.pk}/memberships/{w.membership.pk}/",
        crowd_write(200),
        lambda w: {"is_enabled": True},
    ),
    Case(
        "chat-member-post",
        "post",
        lambda w: f"/api/chats/{w.chat.pk}/messages/",
        crowd_write(201),
        lambda w: {"sender_name": "Ayşe", "text": "Dolar ne olur?"},
    ),
    Case("metrics-summary", "get", lambda w: "/api/metrics/summary", read()),
    Case(
        "user-detail",
        "put",
        lambda w: f"/api/users/{w.other_user.pk}/",
        admin_only(200),
        lambda w: {"username": "someone", "role": "viewer"},
    ),
    Case("crowd-export", "get", lambda w: "/api/crowd/export/", read()),
    Case(
        "crowd-import",
        "post",
        lambda w: "/api/crowd/import/?dry_run=true",
        crowd_write(200),
        lambda w: {"format": "piyasa-crowd", "version": 1},
    ),
    Case(
        "bot-card-import",
        "post",
        lambda w: "/api/bots/cards/",
        crowd_write(200),
        lambda w: {"file": SimpleUploadedFile("card.json", b'{"name": "Kart"}')},
        format="multipart",
    ),
    # Deletes last: they remove what the cases above point at.
    Case("bot-stance-detail", "delete", lambda w: f"/api/bots/{w.bot.pk}/stances/{w.stance.pk}/", admin_only(204)),
    Case("bot-holding-detail", "delete", lambda w: f"/api/bots/{w.bot.pk}/holdings/{w.holding.pk}/", admin_only(204)),
    Case("bot-memory-detail", "delete", lambda w: f"/api/bots/{w.bot.pk}/memories/{w.memory.pk}/", admin_only(204)),
    Case(
        "chat-membership-detail",
        "delete",
        lambda w: f"/api/chats/{w.chat.pk}/memberships/{w.membership.pk}/",
        admin_only(204),
    ),
    Case("user-detail", "delete", lambda w: f"/api/users/{w.other_user.pk}/", admin_only(204)),
    Case("bot-detail", "delete", lambda w: f"/api/bots/{BotFactory.create().pk}/", admin_only(204)),
    Case("chat-detail", "delete", lambda w: f"/api/chats/{ChatFactory.create().pk}/", admin_only(204)),
    Case("auth-logout", "post", lambda w: "/api/auth/logout/", authenticated(204)),
    # Last: a successful login gives the client a session.
    Case("auth-login", "get", lambda w: "/api/auth/login/", public()),
    Case("auth-login", "post", lambda w: "/api/auth/login/", public(), lambda w: {"username": "pw", "password": "pw"}),
]


def _api_endpoints() -> set[tuple[str, str]]:
    """(route name, method) of every view under /api/, wherever it is included from (the URL resolver)."""
    routes = [route for route in all_routes() if route.route.startswith("api/")]
    return {(route.name, method) for route in routes for method in route.methods()}


class RoleMatrixTest(TestCase):
    """Each role gets exactly the expected status on every endpoint of the API tree."""

    def setUp(self) -> None:
        cache.clear()  # login throttle counts live in the cache
        User.objects.create_user("pw", password="pw")

    def run_matrix(self, role: str) -> None:
        if role == ANON:
            client, user, key = APIClient(), None, ""
        else:
            client, user, key = role_client(Role(role))
        world = World(user=user)
        for case in CASES:
            url = case.url(world)
            with self.subTest(role=role, method=case.method, url=url):
                response = getattr(client, case.method)(url, case.data(world), format=case.format)
                self.assertEqual(response.status_code, case.expected[role], response.content[:300])
                body = response.content.decode(errors="replace")
                self.assertNotIn(TELEGRAM_TOKEN, body)
                self.assertNotIn(TELEGRAM_TOKEN.split(":")[1], body)
                if key:
                    self.assertNotIn(key, body)
                if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
                    self.assertTrue(response.json(), "an error must say what went wrong")

    def test_anonymous(self) -> None:
        self.run_matrix(ANON)

    def test_viewer(self) -> None:
        self.run_matrix(VIEWER)

    def test_operator(self) -> None:
        self.run_matrix(OPERATOR)

    def test_admin(self) -> None:
        self.run_matrix(ADMIN)

    def test_a_user_without_a_role_can_only_see_itself(self) -> None:
        user = User.objects.create(username="norole")
        _, key = api_token_create(user=user, name="t")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        self.assertEqual(client.get("/api/auth/me/").json()["role"], None)
        self.assertEqual(client.get("/api/bots/").status_code, 403)
        self.assertIn("Your role (none)", client.get("/api/bots/").json()["detail"])

    def test_the_matrix_covers_every_method_of_every_api_route(self) -> None:
        covered = {(case.name, case.method.upper()) for case in CASES}
        self.assertEqual(_api_endpoints() - covered, set())
        self.assertTrue(ApiToken._meta.permissions)  # control_simulation is a real permission

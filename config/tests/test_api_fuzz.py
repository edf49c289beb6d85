"""Schemathesis against the whole API as each role: no server error, responses as documented, no token leaked.

`make test` runs the quick budget (a few random examples per operation); CI's "API fuzz" step runs every phase
with PIYASA_API_FUZZ=full (thousands of requests per role; the figures are in docs/reliability.md).
"""

from __future__ import annotations

from io import StringIO

from django.core.cache import cache
from django.core.management import call_command
from django.test import TransactionTestCase
from django_rq import get_connection

from accounts.roles import Role
from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, membership_add
from config.testing.api_fuzz import FuzzReport, budget_from_env, fuzz_api
from config.testing.fake_telegram import make_token

TOKEN = make_token(7_300_000_001)


class ApiFuzzTest(TransactionTestCase):
    """The demo crowd plus a Telegram bot with a token; one schemathesis run per role."""

    def setUp(self) -> None:
        get_connection("default").flushdb()
        cache.clear()
        call_command("create_demo_crowd", stdout=StringIO())
        chat = chat_create(title="Borsa", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100900)
        membership_add(chat=chat, bot=bot_create(name="Fuzz", username="fuzz_target_bot", token=TOKEN))

    def tearDown(self) -> None:
        get_connection("default").flushdb()

    def fuzz(self, role: Role) -> FuzzReport:
        budget = budget_from_env()
        report = fuzz_api(role=role, budget=budget, must_not_leak=[TOKEN, TOKEN.split(":")[1]])
        print(report.summary())  # the figure docs/reliability.md quotes (pytest -s)
        self.assertEqual(report.server_errors, [])
        self.assertEqual(report.failures, {})
        self.assertEqual(report.engine_errors, [])
        self.assertEqual(report.leaks, [])
        self.assertGreaterEqual(report.requests, budget.min_requests)
        return report

    def test_as_a_viewer(self) -> None:
        self.fuzz(Role.VIEWER)

    def test_as_an_operator(self) -> None:
        self.fuzz(Role.OPERATOR)

    def test_as_an_admin(self) -> None:
        self.fuzz(Role.ADMIN)

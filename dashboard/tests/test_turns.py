"""Turns explorer: newest first, the API's filters, 50 a page, failure reasons up front; and one turn's detail."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bots.tests.factories import BotFactory
from chats.tests.factories import ChatFactory
from dashboard.tests.edit_helpers import EditPageTestCase, field_errors
from dashboard.views.turns import TURNS_PER_PAGE
from engine.models import Turn
from engine.tests.factories import TurnFactory


class TurnListTests(EditPageTestCase):
    def setUp(self) -> None:
        self.bot = BotFactory.create(name="Kemal")
        self.chat = ChatFactory.create(title="Piyasa Sohbet")
        self.sent = TurnFactory.create(
            bot=self.bot, chat=self.chat, status=Turn.Status.SENT, text="Bankalar uçar.", llm_latency_ms=812,
            tokens_in=420, tokens_out=37,
        )  # fmt: skip
        self.failed = TurnFactory.create(
            kind=Turn.Kind.PRIORITY_REPLY, status=Turn.Status.FAILED, error="Telegram: chat not found (permanent)"
        )

    def rows(self, html: str) -> int:
        return html.count('class="turn-row')

    def test_every_role_sees_turns_newest_first_with_the_failure_reason(self) -> None:
        self.assert_every_role_sees("/turns/")
        html = self.page("/turns/")
        self.assertLess(html.index(f'href="/turns/{self.failed.pk}/"'), html.index(f'href="/turns/{self.sent.pk}/"'))
        self.assertIn("Telegram: chat not found (permanent)", html)
        self.assertIn("812 ms", html)
        self.assertIn("420 in / 37 out", html)
        self.assertIn("Bankalar uçar.", html)

    def test_it_filters_like_the_api(self) -> None:
        self.assertEqual(self.rows(self.page("/turns/?status=failed")), 1)
        self.assertEqual(self.rows(self.page("/turns/?status=failed&status=sent")), 2)
        self.assertEqual(self.rows(self.page("/turns/?kind=priority_reply")), 1)
        self.assertEqual(self.rows(self.page(f"/turns/?bot={self.bot.pk}")), 1)
        self.assertEqual(self.rows(self.page(f"/turns/?chat={self.chat.pk}")), 1)
        self.assertEqual(self.rows(self.page("/turns/?has_error=true")), 1)
        self.assertEqual(self.rows(self.page("/turns/?error=NOT+FOUND")), 1)
        later = (timezone.now() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
        self.assertEqual(self.rows(self.page(f"/turns/?created_after={later}")), 0)
        self.assertEqual(self.rows(self.page(f"/turns/?created_before={later}")), 2)

    def test_an_invalid_filter_is_a_400_with_the_error_inline(self) -> None:
        html = self.page("/turns/?status=exploded&created_after=yesterday", status=400)
        errors = field_errors(html, "turn-filters")
        self.assertIn("Select a valid choice", errors)
        self.assertIn("Enter a valid date/time.", errors)

    def test_it_pages_by_50_and_keeps_the_filters(self) -> None:
        TurnFactory.create_batch(TURNS_PER_PAGE + 3, bot=self.bot, chat=self.chat)
        first = self.page(f"/turns/?bot={self.bot.pk}")
        self.assertEqual(self.rows(first), TURNS_PER_PAGE)
        self.assertIn(f'href="?bot={self.bot.pk}&amp;page=2"', first)
        self.assertEqual(self.rows(self.page(f"/turns/?bot={self.bot.pk}&page=2")), 4)


class TurnDetailTests(EditPageTestCase):
    def test_it_shows_the_reason_times_text_and_inputs(self) -> None:
        turn = TurnFactory.create(
            status=Turn.Status.SKIPPED, error="near-duplicate of message 12", text="Altın 2500'ü görür." * 20,
            inputs={"topic": "Makro", "memories": [3, 5]}, llm_model="llama-3.3-70b-versatile",
            ready_at=timezone.now(),
        )  # fmt: skip
        self.assert_every_role_sees(f"/turns/{turn.pk}/")
        html = self.page(f"/turns/{turn.pk}/")
        self.assertIn("near-duplicate of message 12", html)
        self.assertIn("Altın 2500&#x27;ü görür." * 20, html)
        self.assertIn("&quot;topic&quot;: &quot;Makro&quot;", html)
        self.assertIn("llama-3.3-70b-versatile", html)
        self.assertIn(f"{turn.ready_at:%Y-%m-%d %H:%M:%S}", html)

    def test_an_unknown_turn_is_a_404(self) -> None:
        self.page("/turns/999999/", status=404)

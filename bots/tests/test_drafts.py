"""Persona drafts: the schema of a complete persona, and saving a reviewed draft all or nothing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.test import TestCase

from bots.drafts import draft_save, draft_validate
from bots.models import Bot
from bots.tests.factories import BotFactory

DRAFT: dict[str, Any] = {
    "name": "Kemal Aydın",
    "username": "kemal_aydin",
    "persona": {"tone": "veteran", "risk_profile": "low", "watchlist": ["thyao"]},
    "stances": [{"topic": "BIST:THYAO", "stance": "Turizm destekliyor", "polarity": "bullish"}],
    "holdings": [{"symbol": "THYAO", "size": "100", "average_price": "290"}],
    "memories": [{"kind": "past_event", "content": "2001 krizini bankada yaşadı"}],
}


class DraftTests(TestCase):
    def test_a_draft_is_checked_by_the_bot_schemas_naming_each_field(self) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"persona": {"tone": "pirate"}}, "draft.persona.tone: Input should be"),
            ({"emotion": {"empathy": 2}}, "draft.emotion.empathy: Input should be less than or equal to 1"),
            ({"holdings": [{"symbol": "bad symbol!", "size": 1, "average_price": 1}]}, "draft.holdings.0.symbol"),
            ({"memories": [{"kind": "dream", "content": "x"}]}, "draft.memories.0.kind"),
            ({"stances": DRAFT["stances"] * 2}, "stances: each topic or symbol only once"),
            ({"username": "has space"}, "draft.username: String should match pattern"),
            ({"token": "1:abc"}, "draft.token: Extra inputs are not permitted"),
        ]
        for change, error in cases:
            with self.subTest(change=change), self.assertRaises(ValidationError) as raised:
                draft_validate({**DRAFT, **change})
            assert any(error in message for message in raised.exception.messages), raised.exception.messages

    def test_a_saved_draft_is_a_bot_with_its_stances_holdings_and_memories(self) -> None:
        bot = draft_save(document=DRAFT)
        assert (bot.name, bot.persona["watchlist"], bot.persona["style"]["length"]) == (
            "Kemal Aydın", ["THYAO"], "medium"
        )  # fmt: skip
        assert [h.symbol for h in bot.holdings.all()] == ["THYAO"]
        assert (bot.stances.count(), bot.memories.count(), bot.has_token) == (1, 1, False)

    def test_a_taken_username_saves_nothing(self) -> None:
        BotFactory.create(username="kemal_aydin")
        with self.assertRaisesMessage(ValidationError, "already exists"):
            draft_save(document=DRAFT)
        assert Bot.objects.count() == 1

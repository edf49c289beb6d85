"""manage.py quality_report CHAT [--since] [--until] [--json]: a chat's figures as a table or JSON."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import CommandError, call_command
from django.test import TestCase

from bots.services import bot_create
from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from engine.quality.report import FIGURES


def run(*args: str) -> str:
    out = StringIO()
    call_command("quality_report", *args, stdout=out)
    return out.getvalue()


class QualityReportCommandTests(TestCase):
    chat: Chat

    @classmethod
    def setUpTestData(cls) -> None:
        cls.chat = chat_create(title="Borsa")
        bot = bot_create(name="Kemal Aydın", username="kemal_bot")
        membership_add(chat=cls.chat, bot=bot)
        for text in ("BIST bugün sakin.", "BIST bugün sakin mi?"):
            Message.objects.create(chat=cls.chat, bot=bot, sender_name=bot.name, text=text)

    def test_it_prints_one_row_per_figure_with_value_band_and_target(self) -> None:
        out = run(str(self.chat.pk))
        self.assertIn("Borsa (chat", out)
        self.assertIn("2 bot and 0 member messages", out)
        for spec in FIGURES:
            self.assertIn(spec.title, out)
        self.assertRegex(out, r"Same speaker in a row\s+100%\s+red\s+≤ 5%\s+1 of 1")

    def test_json_carries_every_figure(self) -> None:
        body = json.loads(run(str(self.chat.pk), "--json", "--since", "2h"))
        self.assertEqual(len(body["figures"]), len(FIGURES))
        self.assertEqual(body["bot_messages"], 2)

    def test_a_window_before_the_messages_is_empty(self) -> None:
        body = json.loads(run(str(self.chat.pk), "--json", "--since", "2020-01-01T00:00", "--until", "2020-01-02"))
        self.assertEqual(body["bot_messages"], 0)

    def test_bad_input_is_a_clear_command_error(self) -> None:
        for args, message in (
            (["abc"], "CHAT must be a chat id"),
            (["999999"], "no chat with id 999999"),
            ([str(self.chat.pk), "--since", "dün"], "neither an ISO 8601 time"),
            ([str(self.chat.pk), "--since", "1h", "--until", "2h"], "the window is empty"),
        ):
            with self.subTest(args=args), self.assertRaisesMessage(CommandError, message):
                run(*args)

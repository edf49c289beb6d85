from __future__ import annotations

import json
import tempfile
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from bots.importing import BotImportError, Outcome, bots_import
from bots.models import Bot
from bots.services import bot_create
from chats.models import Membership
from chats.tests.factories import ChatFactory

TOKEN_A = "111111111:AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCdddd_"
TOKEN_B = "222222222:BBBBBBBBBBccccccccccDDDDDDDDDDeeee-"
TOKEN_C = "333333333:CCCCCCCCCCddddddddddEEEEEEEEEEffff0"
SECRETS = [TOKEN_A.split(":")[1], TOKEN_B.split(":")[1], TOKEN_C.split(":")[1]]


class ImportTestCase(TestCase):
    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.dir = Path(directory.name)

    def write(self, name: str, content: Any) -> Path:
        path = self.dir / name
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        return path

    def run_command(self, *args: Any) -> tuple[str, str]:
        out, err = StringIO(), StringIO()
        try:
            call_command("import_bots", *args, stdout=out, stderr=err)
        finally:
            self.printed = out.getvalue() + err.getvalue()
            for secret in SECRETS:
                self.assertNotIn(secret, self.printed)
        return out.getvalue(), err.getvalue()


class JsonImportTests(ImportTestCase):
    def test_it_creates_bots_with_their_persona_and_encrypted_token(self) -> None:
        rows = [
            {"token": TOKEN_A, "name": "Ayşe", "username": "@ayse_bot", "persona": {"risk_profile": "high"}},
            {"token": TOKEN_B, "name": "Mehmet", "talkativeness": 0.9, "speed": {"base_delay_s": 5}},
        ]
        result = bots_import(path=self.write("bots.json", rows))
        self.assertEqual((result.count(Outcome.CREATED), result.count(Outcome.UPDATED)), (2, 0))
        ayse = Bot.objects.get(username="ayse_bot")
        self.assertEqual((ayse.token, ayse.persona["risk_profile"]), (TOKEN_A, "high"))
        self.assertNotIn(SECRETS[0], ayse.token_encrypted)
        mehmet = Bot.objects.get(name="Mehmet")
        self.assertEqual(mehmet.talkativeness, 0.9)
        # Partial documents are stored complete, so the engine can read every key.
        self.assertEqual((mehmet.speed["base_delay_s"], mehmet.speed["min_delay_s"]), (5.0, 3.0))

    def test_it_updates_by_token_then_by_username_and_reports_unchanged(self) -> None:
        by_token = bot_create(name="Eski Ad", username="old_handle", token=TOKEN_A)
        by_username = bot_create(name="Mehmet", username="mehmet_bot")
        same = bot_create(name="Zeynep", username="zeynep_bot", token=TOKEN_C)
        rows = [
            {"token": TOKEN_A, "name": "Yeni Ad"},
            {"token": TOKEN_B, "name": "Mehmet", "username": "mehmet_bot"},
            {"token": TOKEN_C, "name": "Zeynep", "username": "zeynep_bot"},
        ]
        result = bots_import(path=self.write("bots.json", rows))
        self.assertEqual([item.outcome for item in result.planned], ["updated", "updated", "unchanged"])
        self.assertEqual(Bot.objects.count(), 3)
        by_token.refresh_from_db()
        by_username.refresh_from_db()
        self.assertEqual((by_token.name, by_token.username), ("Yeni Ad", "old_handle"))
        self.assertEqual(by_username.token, TOKEN_B)
        self.assertEqual(Bot.objects.get(pk=same.pk).updated_at, same.updated_at)

    def test_invalid_rows_name_row_and_field_and_nothing_is_written(self) -> None:
        rows: list[dict[str, Any]] = [
            {"token": TOKEN_A, "name": "İyi"},
            {"token": TOKEN_B, "name": "Kötü", "persona": {"risk_profile": "extreme"}},
            {"token": "not-a-token-" + SECRETS[2], "name": "Tokensiz", "colour": "red"},
        ]
        with self.assertRaises(BotImportError) as caught:
            bots_import(path=self.write("bots.json", rows))
        self.assertEqual(caught.exception.errors, ["row 3: colour: unknown field"])
        del rows[2]["colour"]
        with self.assertRaises(BotImportError) as caught:
            bots_import(path=self.write("bots.json", rows))
        errors = caught.exception.errors
        self.assertEqual(len(errors), 2, errors)
        self.assertTrue(errors[0].startswith("row 2: persona.risk_profile: "), errors)
        self.assertTrue(errors[1].startswith("row 3: token: not-…"), errors)
        self.assertNotIn(SECRETS[2], "\n".join(errors))
        self.assertFalse(Bot.objects.exists())

    def test_duplicates_inside_the_file_are_refused(self) -> None:
        rows = [
            {"token": TOKEN_A, "name": "A", "username": "x_bot"},
            {"token": TOKEN_A, "name": "B", "username": "X_bot"},
        ]
        with self.assertRaises(BotImportError) as caught:
            bots_import(path=self.write("bots.json", rows))
        self.assertEqual(
            caught.exception.errors,
            ["row 2: token: 1111…ddd_ is also in row 1", "row 2: username: 'x_bot' is also in row 1"],
        )

    def test_a_username_taken_by_another_bot_is_an_error_on_username(self) -> None:
        bot_create(name="A", username="taken_bot", token=TOKEN_A)
        bot_create(name="B", username="b_bot", token=TOKEN_B)
        with self.assertRaises(BotImportError) as caught:
            bots_import(path=self.write("bots.json", [{"token": TOKEN_B, "name": "B", "username": "taken_bot"}]))
        self.assertEqual(caught.exception.errors, ["row 1: username: already used by another bot"])

    def test_dry_run_writes_nothing(self) -> None:
        result = bots_import(path=self.write("bots.json", [{"token": TOKEN_A, "name": "A"}]), dry_run=True)
        self.assertEqual(result.count(Outcome.CREATED), 1)
        self.assertFalse(Bot.objects.exists())


class CsvImportTests(ImportTestCase):
    def test_it_reads_csv_detected_by_content_and_adds_bots_to_a_chat(self) -> None:
        chat = ChatFactory.create()
        content = f"token,name,username,talkativeness\n{TOKEN_A},Ayşe,@ayse_bot,0.8\n{TOKEN_B},Mehmet,mehmet_bot,\n"
        result = bots_import(path=self.write("tokens.txt", content), chat_id=chat.pk)
        self.assertEqual((result.count(Outcome.CREATED), result.memberships_added), (2, 2))
        self.assertEqual(Bot.objects.get(username="ayse_bot").talkativeness, 0.8)
        self.assertEqual(Bot.objects.get(username="mehmet_bot").talkativeness, 0.5)
        self.assertEqual(Membership.objects.filter(chat=chat).count(), 2)

    def test_a_bad_value_names_row_and_column(self) -> None:
        content = f"token,name,username,talkativeness\n{TOKEN_A},Ayşe,ayse_bot,1.5\n{TOKEN_B},,b_bot,x\n"
        with self.assertRaises(BotImportError) as caught:
            bots_import(path=self.write("tokens.csv", content))
        errors = caught.exception.errors
        self.assertEqual([line.split(":")[0:2] for line in errors[:1]], [["row 1", " talkativeness"]])
        self.assertIn("row 2: name: This field cannot be blank.", errors)
        self.assertTrue(any(line.startswith("row 2: talkativeness:") for line in errors), errors)

    def test_missing_and_unknown_columns_are_reported(self) -> None:
        with self.assertRaises(BotImportError) as caught:
            bots_import(path=self.write("tokens.csv", f"token,name,colour\n{TOKEN_A},A,red\n"))
        self.assertEqual(
            caught.exception.errors, ["header: missing column 'username'", "header: unknown column 'colour'"]
        )

    def test_an_unknown_chat_is_refused(self) -> None:
        with self.assertRaises(BotImportError):
            bots_import(path=self.write("tokens.csv", f"token,name,username\n{TOKEN_A},A,a_bot\n"), chat_id=999)
        self.assertFalse(Bot.objects.exists())


class ImportCommandTests(ImportTestCase):
    def test_it_prints_counts_and_masked_tokens_only(self) -> None:
        bot_create(name="A", username="a_bot", token=TOKEN_A)
        path = self.write("bots.json", [{"token": TOKEN_A, "name": "A"}, {"token": TOKEN_B, "name": "B"}])
        out, _ = self.run_command(str(path))
        self.assertIn("row 1: unchanged", out)
        self.assertIn("row 2: created   B (-, 2222…eee-)", out)
        self.assertIn("created 1, updated 0, unchanged 1.", out)

    def test_it_fails_with_every_error_on_stderr(self) -> None:
        path = self.write("bots.json", [{"token": "12:" + SECRETS[0], "name": "A"}, {"token": TOKEN_B, "name": ""}])
        with self.assertRaisesMessage(CommandError, "2 problem(s); nothing was imported"):
            self.run_command(str(path))
        self.assertIn("row 1: token: 12:A…ddd_ is not a Telegram bot token", self.printed)
        self.assertIn("row 2: name: This field cannot be blank.", self.printed)

    def test_dry_run_says_so(self) -> None:
        out, _ = self.run_command(str(self.write("bots.json", [{"token": TOKEN_A, "name": "A"}])), "--dry-run")
        self.assertIn("Dry run, nothing written: would have created 1", out)
        self.assertFalse(Bot.objects.exists())

"""export_crowd and import_crowd: a file round trip, dry runs, and errors that name the item and write nothing."""

from __future__ import annotations

import json
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from bots.models import Bot
from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, membership_add


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class CrowdCommandTest(TestCase):
    def setUp(self) -> None:
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        bot = bot_create(name="Kemal", username="kemal_bot", token="7300000003:AAE-command-secret-value_zz")
        membership_add(chat=chat_create(title="Borsa"), bot=bot)

    def test_a_crowd_goes_to_a_file_and_back(self) -> None:
        path = self.folder / "crowd.json"
        out, _ = run("export_crowd", "--output", str(path))
        assert "Wrote 1 bot(s), 1 chat(s)" in out
        assert "AAE-command" not in path.read_text()
        Bot.objects.all().delete()
        Chat.objects.all().delete()

        out, _ = run("import_crowd", str(path), "--dry-run")
        assert "Dry run, nothing written: bots: 1 created, 0 updated" in out
        assert not Bot.objects.exists()
        out, _ = run("import_crowd", str(path))
        assert "bot  created  @kemal_bot" in out
        assert Chat.objects.get().memberships.get().bot.username == "kemal_bot"

    def test_the_document_goes_to_standard_output_without_a_file(self) -> None:
        out, _ = run("export_crowd")
        assert json.loads(out)["bots"][0]["name"] == "Kemal"

    def test_a_bad_document_names_every_problem_and_imports_nothing(self) -> None:
        path = self.folder / "bad.json"
        document = json.loads(run("export_crowd")[0])
        document["bots"][0]["persona"]["tone"] = "loud"
        document["bots"].append({"name": "Yeni", "username": "yeni_bot"})
        path.write_text(json.dumps(document))
        err = StringIO()
        with self.assertRaisesMessage(CommandError, "1 problem(s); nothing was imported"):
            call_command("import_crowd", str(path), stdout=StringIO(), stderr=err)
        assert 'bots["kemal_bot"].persona.tone: Input should be' in err.getvalue()
        assert not Bot.objects.filter(username="yeni_bot").exists()

"""Import a crowd document: everything is validated first, then written in one transaction (or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.portability.importing import CrowdImportError, CrowdImportResult, crowd_import, crowd_load


class Command(BaseCommand):
    help = (
        "Import a crowd document written by export_crowd. Bots are matched by username (their tokens are kept),"
        " chats by transport and Telegram chat id; the whole document is validated first and applied all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path to the crowd document (JSON).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report what would change; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Import the file and print one line per bot and chat, then the counts."""
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = crowd_import(data=crowd_load(path.read_bytes()), dry_run=options["dry_run"])
        except CrowdImportError as error:
            for line in error.errors:
                self.stderr.write(line)
            raise CommandError(f"{path}: {len(error.errors)} problem(s); nothing was imported") from None
        for line in report_lines(result):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(summary(result)))


def report_lines(result: CrowdImportResult) -> list[str]:
    """One line per bot and chat with what the import does to it."""
    lines = [f"bot  {item.outcome:<8} {item.label}" for item in result.bots]
    return lines + [f"chat {item.outcome:<8} {item.chat.title} ({item.chat.telegram_chat_id})" for item in result.chats]


def summary(result: CrowdImportResult) -> str:
    """The counts, marked when nothing was written."""
    report = result.as_dict()
    bots, chats = report["bots"], report["chats"]
    created = sum(1 for item in bots if item["outcome"] == "created")
    changed = ", ".join(result.settings_changed) or "none"
    line = f"bots: {created} created, {len(bots) - created} updated; chats: {len(chats)}"
    line += f"; memberships: {result.memberships['created']} created, {result.memberships['updated']} updated"
    line += f"; settings changed: {changed}"
    return f"Dry run, nothing written: {line}." if result.dry_run else f"Imported {line}."

"""Import bots from a tokens file (JSON or CSV); every row is validated before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.importing import BotImportError, ImportResult, Outcome, bots_import, mask


class Command(BaseCommand):
    help = (
        "Create or update bots from a JSON list of objects (token, name, username, persona, emotion, speed,"
        " talkativeness, ...) or a CSV file (token,name,username[,talkativeness]). Bots are matched by token,"
        " else username; all rows are validated first and saved together (all or nothing). Tokens are never printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path to a .json or .csv tokens file.")
        parser.add_argument("--chat", type=int, help="Also add every imported bot to this chat (id).")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Import the file and print one line per bot and the counts."""
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = bots_import(path=path, chat_id=options["chat"], dry_run=options["dry_run"])
        except BotImportError as error:
            for line in error.errors:
                self.stderr.write(line)
            raise CommandError(f"{path}: {len(error.errors)} problem(s); nothing was imported") from None
        for item in result.planned:
            username = f"@{item.bot.username}" if item.bot.username else "-"
            self.stdout.write(
                f"row {item.row.number}: {item.outcome:<9} {item.bot.name} ({username}, {mask(item.row.token)})"
            )
        self.stdout.write(self.style.SUCCESS(summary(result)))


def summary(result: ImportResult) -> str:
    """Counts of created, updated and unchanged bots (and memberships), marked when nothing was written."""
    counts = ", ".join(f"{outcome} {result.count(outcome)}" for outcome in Outcome)
    line = f"{'Dry run, nothing written: would have ' if result.dry_run else ''}{counts}"
    if result.memberships_added:
        line += f"; {result.memberships_added} added to the chat"
    return line + "."

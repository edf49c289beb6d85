"""Restore a backup of `manage.py backup` into the configured database, after a safety backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.backups import BackupError, backup_read, backup_restore


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a backup's. A safety backup of the current database is taken first;"
        " a dump from a newer schema than this code's migrations is refused; an older one is migrated after."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The dump (its .json sidecar must be beside it).")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--dir", type=Path, help="Where the safety backup goes (default: BACKUP_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Check the file, confirm, restore, and say where the safety backup is."""
        path: Path = options["file"]
        try:
            backup = backup_read(path)
            if not options["yes"] and not self._confirmed(backup.created_at.isoformat()):
                raise CommandError("Not restored: not confirmed.")
            result = backup_restore(path=path, directory=options["dir"] or settings.BACKUP_DIR)
        except BackupError as error:
            raise CommandError(str(error)) from error
        migrated = " and migrated to this code's schema" if result.migrated else ""
        self.stdout.write(self.style.SUCCESS(f"Restored {path}{migrated}."))
        self.stdout.write(f"Safety backup of the database as it was: {result.safety.path}")

    def _confirmed(self, created_at: str) -> bool:
        answer = input(f"Replace every row of the database with the backup of {created_at}? [y/N] ")
        return answer.strip().lower() in {"y", "yes"}

"""Back up the database into BACKUP_DIR (config/backups.py), then rotate: N daily, weekly and monthly kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.backups import BackupError, backup_create, backups_rotate


class Command(BaseCommand):
    help = (
        "Dump the database (PostgreSQL: pg_dump --format=custom; SQLite: the online backup API) into a 0600 file"
        " with a JSON sidecar naming the schema, then delete the backups the rotation does not keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, help="Where backups go (default: BACKUP_DIR).")
        parser.add_argument("--keep-daily", type=int, default=7, help="Newest backup of each of the last N days.")
        parser.add_argument("--keep-weekly", type=int, default=4, help="… of each of the last N ISO weeks.")
        parser.add_argument("--keep-monthly", type=int, default=6, help="… of each of the last N months.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Take one backup, print its path and size, then rotate the directory."""
        directory: Path = options["dir"] or settings.BACKUP_DIR
        try:
            backup = backup_create(directory=directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backup {backup.path} ({backup.path.stat().st_size} bytes)."))
        deleted = backups_rotate(
            directory=directory,
            daily=options["keep_daily"],
            weekly=options["keep_weekly"],
            monthly=options["keep_monthly"],
        )
        for old in deleted:
            self.stdout.write(f"Rotated out {old.path.name}.")

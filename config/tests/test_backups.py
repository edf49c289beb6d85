"""Backups and restores (config/backups.py, `manage.py backup` / `restore`) on the configured database."""

from __future__ import annotations

import io
import json
import sqlite3
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import SimpleTestCase, TransactionTestCase

from bots.models import Bot, Interview
from bots.tests.factories import BotFactory
from config import backups

# A migration that only changes choices: unrecording and re-applying it changes no data.
STATE_ONLY_MIGRATION = ("engine", "0008_abuse_limits_setting")


def _at(day: int, hour: int = 3) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=UTC) + timedelta(days=day)


class RotationTests(SimpleTestCase):
    def test_daily_backups_keep_the_last_days_weeks_and_months(self) -> None:
        times = [_at(day) for day in range(200)]
        keep = backups.rotation_keep(times, daily=7, weekly=4, monthly=6)
        newest = max(times)
        assert {t for t in keep if newest - t < timedelta(days=7)} == {newest - timedelta(days=n) for n in range(7)}
        weeks = {tuple(t.isocalendar())[:2] for t in keep}
        months = {(t.year, t.month) for t in keep}
        assert len(weeks) >= 4
        assert months == {(2026, month) for month in range(2, 8)}
        # The newest of each kept month is kept, nothing older than the sixth month back.
        assert min(keep) == _at(58)  # 28 February, the last day of the oldest kept month
        assert len(keep) == 7 + 3 + 5  # weekly and monthly share their newest with the daily ones

    def test_several_backups_a_day_keep_only_the_newest_of_the_day(self) -> None:
        times = [_at(day, hour) for day in range(3) for hour in (1, 12, 23)]
        assert backups.rotation_keep(times, daily=3, weekly=0, monthly=0) == {_at(d, 23) for d in range(3)}

    def test_zero_everywhere_keeps_nothing_and_no_backups_keep_nothing(self) -> None:
        assert backups.rotation_keep([_at(1)], daily=0, weekly=0, monthly=0) == set()
        assert backups.rotation_keep([], daily=7, weekly=4, monthly=6) == set()

    def test_gaps_count_periods_that_have_a_backup(self) -> None:
        times = [_at(0), _at(40), _at(100)]
        assert backups.rotation_keep(times, daily=2, weekly=0, monthly=0) == {_at(40), _at(100)}


class PostgresConnectionTests(SimpleTestCase):
    def test_the_password_goes_in_the_environment_never_on_the_command_line(self) -> None:
        database = {"NAME": "piyasa", "USER": "app", "PASSWORD": "s3cret-pass", "HOST": "db", "PORT": 5432}
        with mock.patch.dict(settings.DATABASES["default"], database):
            args, env = backups._pg_env()
        assert "s3cret-pass" not in " ".join(args)
        assert env["PGPASSWORD"] == "s3cret-pass"
        assert args == ["--no-password", "--dbname", "piyasa", "--host", "db", "--port", "5432", "--username", "app"]


class SqliteCopyTests(SimpleTestCase):
    def test_a_live_database_is_copied_page_by_page_with_an_open_writer(self) -> None:
        directory = Path(self.enterContext(tempfile.TemporaryDirectory()))
        writer = sqlite3.connect(directory / "live.sqlite3")
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("CREATE TABLE t (n INTEGER)")
        writer.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
        writer.commit()
        backups.sqlite_copy(source=directory / "live.sqlite3", target=directory / "copy.sqlite3")
        writer.close()
        copy = sqlite3.connect(directory / "copy.sqlite3")
        assert copy.execute("SELECT count(*), sum(n) FROM t").fetchone() == (100, 4950)
        copy.close()


class BackupTestCase(TransactionTestCase):
    """Real commits: the dump tools read the database from outside this connection."""

    def setUp(self) -> None:
        self.directory = Path(self.enterContext(tempfile.TemporaryDirectory())) / "backups"

    def backup(self) -> backups.Backup:
        return backups.backup_create(directory=self.directory)

    def restore(self, path: Path) -> str:
        out = io.StringIO()
        call_command("restore", str(path), "--yes", "--dir", str(self.directory), stdout=out)
        return out.getvalue()

    def files(self) -> set[str]:
        return {path.name for path in self.directory.iterdir()} if self.directory.exists() else set()


class BackupCommandTests(BackupTestCase):
    def test_it_writes_a_private_dump_and_a_sidecar_naming_the_schema(self) -> None:
        BotFactory.create()
        call_command("backup", "--dir", str(self.directory), stdout=io.StringIO())
        (backup,) = backups.backups_in(self.directory)
        assert stat.S_IMODE(self.directory.stat().st_mode) == 0o700
        for path in (backup.path, backup.sidecar):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        sidecar = json.loads(backup.sidecar.read_text())
        assert sidecar["engine"] == connection.vendor
        assert sidecar["schema"] == backups.schema_applied()
        assert sidecar["schema"]["engine"] == max(
            n for a, n in MigrationRecorder(connection).applied_migrations() if a == "engine"
        )
        assert backup.path.name.startswith(f"piyasa-{backup.created_at.strftime(backups.STAMP)}")

    def test_it_rotates_out_what_the_policy_does_not_keep(self) -> None:
        now = datetime.now(UTC)
        for days in range(10):
            backups.backup_create(directory=self.directory, now=now - timedelta(days=days))
        (self.directory / "notes.txt").write_text("not ours")
        call_command(
            "backup",
            "--dir",
            str(self.directory),
            "--keep-daily",
            "3",
            "--keep-weekly",
            "0",
            "--keep-monthly",
            "0",
            stdout=io.StringIO(),
        )
        assert len(backups.backups_in(self.directory)) == 3
        assert "notes.txt" in self.files()
        assert len(self.files()) == 3 * 2 + 1


class RestoreCommandTests(BackupTestCase):
    def test_a_backup_restores_the_same_rows_after_a_wipe(self) -> None:
        bots = [BotFactory.create() for _ in range(3)]
        backup = self.backup()
        Bot.objects.all().delete()
        BotFactory.create(name="made after the backup")
        output = self.restore(backup.path)
        assert sorted(Bot.objects.values_list("pk", "name")) == sorted((b.pk, b.name) for b in bots)
        assert "Restored" in output
        assert "migrated" not in output

    def test_it_takes_a_safety_backup_of_the_database_as_it_was(self) -> None:
        backup = self.backup()
        after = BotFactory.create(name="made after the backup")
        output = self.restore(backup.path)
        assert not Bot.objects.filter(pk=after.pk).exists()
        safety = next(b for b in backups.backups_in(self.directory) if b.path != backup.path)
        assert str(safety.path) in output
        self.restore(safety.path)
        assert Bot.objects.filter(pk=after.pk, name="made after the backup").exists()

    def test_a_dump_of_an_older_schema_is_migrated_after_the_restore(self) -> None:
        call_command("migrate", *STATE_ONLY_MIGRATION, verbosity=0)  # the engine's later migrations undone first
        recorder = MigrationRecorder(connection)
        recorder.record_unapplied(*STATE_ONLY_MIGRATION)
        try:
            backup = self.backup()
        finally:
            recorder.record_applied(*STATE_ONLY_MIGRATION)
            call_command("migrate", verbosity=0)
        assert backup.schema["engine"] < STATE_ONLY_MIGRATION[1]
        output = self.restore(backup.path)
        assert "migrated to this code's schema" in output
        assert STATE_ONLY_MIGRATION in MigrationRecorder(connection).applied_migrations()

    def test_a_table_the_older_dump_lacks_is_made_again_by_migrate(self) -> None:
        # bots.0003 creates the Interview table, which nothing migrates after: the dump is taken without it.
        bot = BotFactory.create()
        try:
            call_command("migrate", "bots", "0002", verbosity=0)
            backup = self.backup()
        finally:
            call_command("migrate", verbosity=0)
        Interview.objects.create(bot=bot, question="q", answer="a", provider="offline")
        output = self.restore(backup.path)
        assert "migrated to this code's schema" in output
        assert list(Interview.objects.all()) == []
        assert Bot.objects.filter(pk=bot.pk).exists()

    def test_a_dump_of_a_newer_schema_is_refused_naming_the_migration(self) -> None:
        bot = BotFactory.create()
        backup = self.backup()
        sidecar = json.loads(backup.sidecar.read_text())
        sidecar["schema"]["engine"] = "9999_from_the_future"
        backup.sidecar.write_text(json.dumps(sidecar))
        Bot.objects.all().delete()
        with self.assertRaisesMessage(
            CommandError, "newer schema than this code's migrations: engine.9999_from_the_future"
        ):
            self.restore(backup.path)
        assert not Bot.objects.filter(pk=bot.pk).exists()  # nothing restored
        assert len(backups.backups_in(self.directory)) == 1  # and no safety backup taken

    def test_without_yes_it_asks_and_a_no_changes_nothing(self) -> None:
        backup = self.backup()
        after = BotFactory.create()
        asked = self.enterContext(mock.patch("builtins.input", return_value="n"))
        with self.assertRaisesMessage(CommandError, "not confirmed"):
            call_command("restore", str(backup.path), "--dir", str(self.directory), stdout=io.StringIO())
        asked.assert_called_once()
        assert Bot.objects.filter(pk=after.pk).exists()
        assert len(backups.backups_in(self.directory)) == 1

    def test_bad_files_are_refused_and_change_nothing(self) -> None:
        bot = BotFactory.create()
        backup = self.backup()
        other_engine = "sqlite" if connection.vendor == "postgresql" else "postgresql"
        cases = {
            "missing": (self.directory / "nope.pgdump", "no such file", None),
            "no sidecar": (self.directory / "plain.txt", "not a Piyasa backup", None),
            "another format": (self.directory / "other.dump", "not a Piyasa backup", {"format": "something"}),
            "garbage dump": (self.directory / "garbage.dump", "not a readable", {"engine": connection.vendor}),
            "another engine": (
                self.directory / "engine.dump",
                "cannot be restored into this",
                {"engine": other_engine},
            ),
        }
        for name, (path, message, sidecar) in cases.items():
            with self.subTest(name):
                if name != "missing":
                    path.write_bytes(backup.path.read_bytes() if name == "another engine" else b"not a dump\n")
                if sidecar is not None:
                    document = json.loads(backup.sidecar.read_text()) | sidecar
                    backups.sidecar_of(path).write_text(json.dumps(document))
                before = self.files()
                with self.assertRaisesMessage(CommandError, message):
                    self.restore(path)
                assert Bot.objects.filter(pk=bot.pk).exists()
                assert self.files() == before  # no safety backup either

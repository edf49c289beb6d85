"""Database backups and restores: pg_dump/pg_restore for PostgreSQL, the online backup API for SQLite.

A backup is two files in BACKUP_DIR: the dump (``piyasa-<UTC>.pgdump`` or ``.sqlite3``) and its sidecar
(``<dump>.json``: format, engine, time, the latest applied migration per app). Both are created 0600 in a 0700
directory (config/secrets.py). Rotation keeps N daily, weekly and monthly backups (grandfather-father-son).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from config.secrets import private_dir, private_file

FORMAT = "piyasa-backup"
VERSION = 1
SUFFIXES = {"postgresql": ".pgdump", "sqlite": ".sqlite3"}
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, and nothing was changed."""


@dataclass(frozen=True)
class Backup:
    """One backup: the dump, its sidecar and what the sidecar says."""

    path: Path
    engine: str
    created_at: datetime
    schema: dict[str, str]

    @property
    def sidecar(self) -> Path:
        return sidecar_of(self.path)


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: the safety backup it took first, and whether migrate ran afterwards."""

    safety: Backup
    migrated: bool


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def engine_name() -> str:
    """'postgresql' or 'sqlite' for the default database (the prometheus wrappers included)."""
    vendor = connection.vendor
    if vendor not in SUFFIXES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")
    return vendor


def schema_applied() -> dict[str, str]:
    """The latest applied migration per app (names are numbered, so the greatest name is the latest)."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(name, latest.get(app, name))
    return dict(sorted(latest.items()))


def schema_unknown(schema: dict[str, str]) -> list[str]:
    """The dump's migrations this code does not have: the dump is from a newer schema if any."""
    nodes = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    return [f"{app}.{name}" for app, name in schema.items() if (app, name) not in nodes]


# --- taking a backup ---


def backup_create(*, directory: Path, now: datetime | None = None) -> Backup:
    """Dump the default database into directory (0700) as a new 0600 file with its sidecar."""
    engine = engine_name()
    created_at = (now or datetime.now(UTC)).replace(microsecond=0)
    path = _new_file(private_dir(directory), created_at, SUFFIXES[engine])
    try:
        _dump_postgresql(path) if engine == "postgresql" else _dump_sqlite(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    backup = Backup(path=path, engine=engine, created_at=created_at, schema=schema_applied())
    document = {
        "format": FORMAT,
        "version": VERSION,
        "engine": engine,
        "created_at": created_at.isoformat(),
        "schema": backup.schema,
        "size": path.stat().st_size,
    }
    private_file(backup.sidecar, json.dumps(document, indent=2) + "\n")
    return backup


def _new_file(directory: Path, created_at: datetime, suffix: str) -> Path:
    """An empty 0600 file named by the time; a second backup within the same second gets -1, -2…"""
    stem, attempt = f"piyasa-{created_at.strftime(STAMP)}", 0
    while True:
        path = directory / f"{stem}{f'-{attempt}' if attempt else ''}{suffix}"
        if not sidecar_of(path).exists() and private_file(path):
            return path
        attempt += 1


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments from DATABASES; the password goes in PGPASSWORD, never on the command line."""
    db: dict[str, Any] = settings.DATABASES["default"]
    args = ["--no-password", "--dbname", str(db["NAME"])]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    if db.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = str(db["OPTIONS"]["sslmode"])
    return args, env


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (the postgresql-client package)") from error
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout


def _dump_postgresql(path: Path) -> None:
    args, env = _pg_env()
    _run(["pg_dump", "--format=custom", "--file", str(path), *args], env)


def _sqlite_path() -> Path:
    return Path(str(settings.DATABASES["default"]["NAME"]))


def _dump_sqlite(path: Path) -> None:
    sqlite_copy(source=_sqlite_path(), target=path)


def sqlite_copy(*, source: Path, target: Path) -> None:
    """Copy a (possibly live) SQLite database page by page with the online backup API, never a file copy."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=20)
    writer = sqlite3.connect(target, timeout=20)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()


# --- reading and rotating backups ---


def backup_read(path: Path) -> Backup:
    """The backup at path, checked for restoring here: file and sidecar present, our format, this database's
    engine, a readable dump."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        document = json.loads(sidecar_of(path).read_text(encoding="utf-8"))
        if document["format"] != FORMAT or document["engine"] not in SUFFIXES:
            raise ValueError(document["format"])
        backup = Backup(
            path=path,
            engine=document["engine"],
            created_at=datetime.fromisoformat(document["created_at"]),
            schema={str(app): str(name) for app, name in document["schema"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupError(f"{path}: not a Piyasa backup (no valid sidecar {sidecar_of(path).name})") from error
    engine = engine_name()
    if backup.engine != engine:
        raise BackupError(f"{path}: a {backup.engine} backup cannot be restored into this {engine} database")
    _check_dump(backup)
    return backup


def _check_dump(backup: Backup) -> None:
    if backup.engine == "postgresql":
        try:
            _run(["pg_restore", "--list", str(backup.path)])
        except BackupError as error:
            raise BackupError(f"{backup.path}: not a readable pg_dump archive ({error})") from error
        return
    try:
        reader = sqlite3.connect(f"file:{backup.path}?mode=ro", uri=True)
        try:
            ok = reader.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            ok = ok and bool(reader.execute("PRAGMA table_info(django_migrations)").fetchall())
        finally:
            reader.close()
    except sqlite3.DatabaseError:
        ok = False
    if not ok:
        raise BackupError(f"{backup.path}: not a readable SQLite database with Django's migrations")


def backups_in(directory: Path) -> list[Backup]:
    """Every backup in directory with a valid sidecar, oldest first (other files are left alone)."""
    found = []
    for sidecar in directory.glob("piyasa-*.json") if directory.is_dir() else []:
        try:
            document = json.loads(sidecar.read_text(encoding="utf-8"))
            created_at = datetime.fromisoformat(document["created_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        path = sidecar.with_name(sidecar.name.removesuffix(".json"))
        if document.get("format") == FORMAT and path.is_file():
            found.append(Backup(path=path, engine=document["engine"], created_at=created_at, schema=document["schema"]))
    return sorted(found, key=lambda backup: (backup.created_at, backup.path.name))


def rotation_keep(times: Iterable[datetime], *, daily: int, weekly: int, monthly: int) -> set[datetime]:
    """Grandfather-father-son: the newest backup of each of the latest `daily` days, `weekly` ISO weeks and
    `monthly` months that have one. Everything not returned may be deleted."""
    periods = (
        (daily, lambda t: t.date()),
        (weekly, lambda t: tuple(t.isocalendar())[:2]),
        (monthly, lambda t: (t.year, t.month)),
    )
    keep: set[datetime] = set()
    newest_first = sorted(set(times), reverse=True)
    for count, period in periods:
        seen: list[object] = []
        for time in newest_first:
            if len(seen) >= count:
                break
            if period(time) not in seen:
                seen.append(period(time))
                keep.add(time)
    return keep


def backups_rotate(*, directory: Path, daily: int, weekly: int, monthly: int) -> list[Backup]:
    """Delete the backups the rotation does not keep; returns the deleted ones."""
    backups = backups_in(directory)
    keep = rotation_keep([b.created_at for b in backups], daily=daily, weekly=weekly, monthly=monthly)
    # Two backups in one second share a time: keep only the newest of them.
    kept_paths = {max((b for b in backups if b.created_at == t), key=lambda b: b.path.name).path for t in keep}
    deleted = [b for b in backups if b.path not in kept_paths]
    for backup in deleted:
        backup.path.unlink(missing_ok=True)
        backup.sidecar.unlink(missing_ok=True)
    return deleted


# --- restoring ---


def backup_restore(*, path: Path, directory: Path) -> RestoreResult:
    """Restore the backup at path into the default database, after a safety backup into directory.

    Refuses (BackupError, nothing changed) a missing or foreign file, another engine's dump, or a dump from a
    newer schema; runs migrate when the dump is from an older one.
    """
    backup = backup_read(path)
    unknown = schema_unknown(backup.schema)
    if unknown:
        raise BackupError(
            f"{path}: the dump is from a newer schema than this code's migrations: {', '.join(unknown)}"
            " (deploy the code that has them, then restore)"
        )
    safety = backup_create(directory=directory)
    connection.close()
    _restore_postgresql(backup.path) if backup.engine == "postgresql" else _restore_sqlite(backup.path)
    return RestoreResult(safety=safety, migrated=_migrate_if_behind())


def _restore_postgresql(path: Path) -> None:
    _drop_tables_not_in(path)
    args, env = _pg_env()
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(path)], env)


def _drop_tables_not_in(path: Path) -> None:
    """Tables of a newer schema than the dump's: dropped, so --clean can drop the dump's tables they reference
    and migrate can create them again."""
    listed = _run(["pg_restore", "--list", str(path)])
    dumped = {line.split()[-2] for line in listed.splitlines() if " TABLE " in line and " TABLE DATA " not in line}
    extra = [name for name in connection.introspection.table_names() if name not in dumped]
    with connection.schema_editor() as editor:  # the schema editor's own DROP TABLE … CASCADE
        for name in extra:
            editor.execute(editor.sql_delete_table % {"table": editor.quote_name(name)})
    connection.close()


def _restore_sqlite(path: Path) -> None:
    sqlite_copy(source=path, target=_sqlite_path())


def _migrate_if_behind() -> bool:
    executor = MigrationExecutor(connection)
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return False
    call_command("migrate", interactive=False, verbosity=0)
    return True

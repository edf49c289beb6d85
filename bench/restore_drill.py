"""Restore drill: data in, backup, wipe, restore, the same rows back — on SQLite and on PostgreSQL.

    python -m bench.restore_drill [--messages 5000] [--pg-url postgres://postgres@127.0.0.1:5432] [--skip-postgres]

Each path runs in a throwaway var dir (and, for PostgreSQL, a database of its own, dropped afterwards): migrate,
the demo crowd plus `--messages` messages and half as many turns, `manage.py backup`, `flush`, `manage.py restore`,
then every table's row count and checksum compared with the ones before the wipe. Each step is a child process
(`--child STEP`), as the commands run in production; backup and restore are timed inside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
Snapshot = dict[str, list[Any]]


# --- child steps: run with Django set up on the path's database ---


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def child_seed(messages: int) -> dict[str, Any]:
    """The demo crowd, then messages in its sandbox chat and a sent turn for every second one."""
    from django.utils import timezone

    from bots.demo import demo_crowd_create
    from chats.models import Message
    from engine.models import Turn

    crowd = demo_crowd_create()
    now = timezone.now()
    rows = [
        Message(
            chat=crowd.chat,
            bot=crowd.bots[n % len(crowd.bots)] if n % 2 else None,
            sender_name=f"member {n % 17}",
            text=f"drill message {n}: THYAO {n % 300} TL, ne dersiniz? çğıöşü",
            telegram_message_id=n + 1,
            metadata={"n": n},
        )
        for n in range(messages)
    ]
    created = Message.objects.bulk_create(rows, batch_size=500)
    turns = [
        Turn(chat=crowd.chat, bot=m.bot, status=Turn.Status.SENT, due_at=now, text=m.text, message=m)
        for m in created
        if m.bot is not None
    ]
    Turn.objects.bulk_create(turns, batch_size=500)
    return {"messages": len(created), "turns": len(turns)}


def child_snapshot() -> Snapshot:
    """Per table: row count and a SHA-256 of every row's columns in primary-key order."""
    from django.apps import apps

    tables: Snapshot = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:  # django_rq's dashboard model has no table
            continue
        columns = [field.attname for field in model._meta.concrete_fields]
        digest, count = hashlib.sha256(), 0
        for row in model._base_manager.order_by("pk").values_list(*columns).iterator():
            digest.update(repr(row).encode())
            count += 1
        tables[model._meta.db_table] = [count, digest.hexdigest()]
    return dict(sorted(tables.items()))


def child_backup(directory: str) -> dict[str, Any]:
    from config.backups import backup_create

    started = time.perf_counter()
    backup = backup_create(directory=Path(directory))
    return {"seconds": time.perf_counter() - started, "path": str(backup.path), "bytes": backup.path.stat().st_size}


def child_restore(path: str, directory: str) -> dict[str, Any]:
    from config.backups import backup_restore

    started = time.perf_counter()
    result = backup_restore(path=Path(path), directory=Path(directory))
    return {"seconds": time.perf_counter() - started, "safety": str(result.safety.path), "migrated": result.migrated}


def child_wipe() -> dict[str, Any]:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    return {}


def run_child(step: str, args: list[str]) -> None:
    _setup()
    steps = {
        "seed": lambda: child_seed(int(args[0])),
        "snapshot": child_snapshot,
        "backup": lambda: child_backup(args[0]),
        "restore": lambda: child_restore(args[0], args[1]),
        "wipe": child_wipe,
    }
    print(json.dumps(steps[step]()))


# --- the drill: one path at a time, each step a child process ---


def _child(env: dict[str, str], step: str, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "bench.restore_drill", "--child", step, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def drill(name: str, env: dict[str, str], messages: int) -> bool:
    """Data in, backup, wipe, restore; prints the figures and whether every table came back the same."""
    backups = str(Path(env["PIYASA_VAR_DIR"]) / "backups")
    _manage(env, "migrate", "--noinput", "-v", "0")
    seeded = _child(env, "seed", str(messages))
    before = _child(env, "snapshot")
    backup = _child(env, "backup", backups)
    _child(env, "wipe")
    wiped = _child(env, "snapshot")
    restore = _child(env, "restore", backup["path"], backups)
    after = _child(env, "snapshot")
    differing = sorted(table for table in before if before[table] != after.get(table))
    rows = sum(count for count, _ in before.values())
    print(
        f"{name}: {seeded['messages']} messages, {seeded['turns']} turns, {rows} rows in {len(before)} tables;"
        f" backup {backup['seconds']:.2f} s, {backup['bytes'] / 1024:.0f} KiB; restore {restore['seconds']:.2f} s"
        f" (safety backup included); wipe left {sum(c for c, _ in wiped.values())} rows;"
        f" {'every table the same' if not differing else 'DIFFERENT: ' + ', '.join(differing)}"
    )
    return not differing and wiped != before and set(after) == set(before)


def drill_sqlite(messages: int) -> bool:
    var = tempfile.mkdtemp(prefix="piyasa-drill-")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    try:
        return drill("SQLite", env | {"PIYASA_VAR_DIR": var}, messages)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _psql(pg_url: str, sql: str) -> None:
    subprocess.run(["psql", f"{pg_url}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def drill_postgres(messages: int, pg_url: str) -> bool:
    var = tempfile.mkdtemp(prefix="piyasa-drill-")
    database = f"piyasa_drill_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"PIYASA_VAR_DIR": var, "DATABASE_URL": f"{pg_url}/{database}"}
    _psql(pg_url, f'CREATE DATABASE "{database}"')
    try:
        return drill("PostgreSQL", env, messages)
    finally:
        _psql(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(var, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        run_child(options.child[0], options.child[1:])
        return 0
    results = [drill_sqlite(options.messages)]
    if not options.skip_postgres:
        results.append(drill_postgres(options.messages, options.pg_url.rstrip("/")))
    print("restore drill passed" if all(results) else "restore drill FAILED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

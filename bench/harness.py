"""The reliability scripts' shared harness (bench.crash, bench.faults, bench.soak).

It runs the capacity benchmark's load (bench.engine: telegram chats × 3 bots at cadence 3/min, the fakes in
their own process, real `manage.py rqcron` / `manage.py rqworker` processes) with handles a script needs to
hurt it: kill and replace workers, script faults on the fakes (bench.fakes' control server), read what the
fake Telegram delivered, and judge every turn afterwards. Everything else is bench.engine's own helpers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import engine as bench_engine
from bench.engine import (
    BOTS_PER_CHAT,
    CADENCE,
    PYTHON,
    ROOT,
    _spawn,
    _stop,
    _wait_for_workers,
    build_crowd,
    configure,
    create_database,
    engine_env,
    reset_state,
    seed_next_at,
    start_fakes,
    teardown,
)

WORKER_COMMAND = [PYTHON, "manage.py", "rqworker", "high", "default", "low", "--with-scheduler"]
CRON_COMMAND = [PYTHON, "manage.py", "rqcron", "config.cron"]
LOGS = ROOT / "var" / "bench"
_scratch: list[str] = []


def use_servers(*, db_name: str, pg_url: str | None = None, redis_url: str | None = None) -> None:
    """Point bench.engine's helpers at this script's own database (and PostgreSQL / Redis servers)."""
    bench_engine.DB_NAME = db_name
    if pg_url is not None:
        bench_engine.PG_URL = pg_url
    if redis_url is not None:
        bench_engine.REDIS_URL = redis_url
        bench_engine.REDIS_PORT = ":" + redis_url.rsplit(":", 1)[-1].split("/", 1)[0]


def use_worker_class(path: str) -> None:
    """Run workers with `rqworker --worker-class path` (e.g. RQ's plain rq.worker.SimpleWorker, for comparison)."""
    if path:
        WORKER_COMMAND.extend(["--worker-class", path])


@dataclass
class Stack:
    """The processes of one run: fakes, workers and cron, with their shared environment and log."""

    env: dict[str, str]
    fakes: dict[str, Any]
    fakes_proc: subprocess.Popen[bytes]
    log: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    cron: subprocess.Popen[bytes] | None = None
    chat_ids: list[int] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """One more `rqworker` process (its own process group)."""
        proc = _spawn(WORKER_COMMAND, env=self.env, log=self.log)
        self.workers.append(proc)
        return proc

    def start_cron(self) -> subprocess.Popen[bytes]:
        """The one `rqcron config.cron` process."""
        self.cron = _spawn(CRON_COMMAND, env=self.env, log=self.log)
        return self.cron

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker's whole process group (the worker and its forked scheduler), like a crashed container."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.workers.remove(proc)

    def engine_procs(self) -> list[subprocess.Popen[bytes]]:
        """Cron and workers."""
        return [*self.workers, *([self.cron] if self.cron is not None else [])]

    def stop_engine(self) -> None:
        """Stop cron and every worker (TERM, then KILL of the group)."""
        _stop(self.engine_procs())
        self.workers.clear()
        self.cron = None

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the fakes' control server (GET without a body, POST with one)."""
        data = None if body is None else json.dumps(body).encode()
        method = "GET" if data is None else "POST"
        request = urllib.request.Request(self.fakes["control"] + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def telegram_stats(self, since: float = 0.0) -> dict[str, Any]:
        """What the fake Telegram saw: sends, duplicate sends, 429s, requests before their retry_after."""
        return self.control(f"/stats?since={since}")


def open_stack(*, bots: int, llm_latency: float, name: str, extra_env: dict[str, str] | None = None) -> Stack:
    """Create the database, start the fakes, set Django up on the same settings as the engine, migrate."""
    LOGS.mkdir(parents=True, exist_ok=True)
    database_url = create_database()
    fakes_log = LOGS / f"{name}-fakes.log"
    fakes_log.write_bytes(b"")
    fakes_proc, info = start_fakes(bots=bots, latency=llm_latency, log=fakes_log)
    # Metrics files of this run's processes only (never the checkout's var/metrics of a running `make run`).
    metrics_dir = tempfile.mkdtemp(prefix=f"crash_{name}_metrics_", dir="/tmp")
    _scratch.append(metrics_dir)
    env = engine_env(info, database_url) | {"METRICS_DIR": metrics_dir} | (extra_env or {})
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    log = LOGS / f"{name}.log"
    log.write_bytes(b"")
    return Stack(env=env, fakes=info, fakes_proc=fakes_proc, log=log)


def start_load(stack: Stack, *, chats: int, workers: int) -> None:
    """The capacity benchmark's crowd and processes, with the simulation switched on."""
    from engine.redis import redis_connection

    reset_state()
    stack.chat_ids = build_crowd(chats=chats, bots_per_chat=BOTS_PER_CHAT)
    configure(active=False)
    for _ in range(workers):
        stack.start_worker()
    _wait_for_workers(workers, redis_connection(), timeout=30 + workers * 2)
    stack.start_cron()
    time.sleep(2)
    seed_next_at(stack.chat_ids, mean_gap_s=60.0 / CADENCE, start=time.time())
    configure(active=True)


def settle(*, limit_s: float, poll_s: float = 1.0) -> float | None:
    """Stop planning and wait for every turn to reach a terminal status; seconds it took, or None at the limit."""
    from engine.models import Turn

    configure(active=False)
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if not Turn.objects.exclude(status__in=Turn.TERMINAL).exists():
            return time.monotonic() - started
        time.sleep(poll_s)
    return None


@dataclass
class TurnReport:
    """Every turn of the run, judged: statuses, the ones not finished, and why turns did not end `sent`."""

    total: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    not_terminal: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    without_reason: int = 0
    bot_messages: int = 0
    stuck: list[str] = field(default_factory=list)  # the unfinished turns, to diagnose a miss


def turn_report() -> TurnReport:
    """Count turns by status; group the errors of unsent terminal turns by reason (numbers stripped)."""
    from chats.models import Message
    from engine.models import Turn

    rows = list(Turn.objects.values_list("status", "error"))
    report = TurnReport(total=len(rows), statuses=dict(Counter(status for status, _ in rows)))
    report.not_terminal = {s: n for s, n in report.statuses.items() if s not in Turn.TERMINAL}
    unsent = [error for status, error in rows if status in Turn.TERMINAL and status != Turn.Status.SENT]
    report.reasons = dict(Counter(_reason(error) for error in unsent if error))
    report.without_reason = sum(1 for error in unsent if not error)
    report.bot_messages = Message.objects.filter(bot__isnull=False).count()
    now = dt.datetime.now(dt.UTC)
    for pk, status, kind, created, due in Turn.objects.exclude(status__in=Turn.TERMINAL).values_list(
        "pk", "status", "kind", "created_at", "next_run_at"
    )[:20]:
        due_s = f"{(now - due).total_seconds():.0f} s ago" if due else "never"
        age = (now - created).total_seconds()
        report.stuck.append(f"turn {pk} {kind} {status}, created {age:.0f} s ago, due {due_s}")
    return report


def _reason(error: str) -> str:
    return re.sub(r"\d+(\.\d+)?", "N", error)[:90]


def pairs(counts: dict[str, int]) -> str:
    """Counts as `key value, …`, the largest first, for the reports."""
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items(), key=lambda kv: -kv[1]))


def now_utc() -> str:
    """The run's date for the report."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_guarded(body: Callable[[], int], *, drop_db: bool = True) -> int:
    """Run a script's body; whatever happens, stop every process it started and drop its database."""

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        return body()
    finally:
        teardown(created_db=drop_db)
        for path in _scratch:
            shutil.rmtree(path, ignore_errors=True)

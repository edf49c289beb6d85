"""Engine benchmark: capacity, CPU per turn, DB queries per turn and LLM calls per message.

    .venv/bin/python -m bench.engine                       # the full run (≈ 15 min), rewrites docs/benchmarks.md
    .venv/bin/python -m bench.engine --quick               # a smoke run, under a minute
    .venv/bin/python -m bench.engine --chats 100,300 --minutes 2 --workers 8,20

Runs against PostgreSQL and Redis (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432, and
BENCH_REDIS_URL, default redis://127.0.0.1:6379/13). It creates its own database (piyasa_bench) and
drops it at the end, and flushes only its own Redis db. The fake Telegram Bot API and the fake Groq
server run in a separate process (bench.fakes); cron and workers are real `manage.py rqcron` /
`manage.py rqworker` processes. Every process it starts is killed (whole process group) on exit.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = os.environ.get("BENCH_DB_NAME", "piyasa_bench")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
REDIS_PORT = ":" + REDIS_URL.rsplit(":", 1)[-1].split("/", 1)[0]  # only our server, not embedded test ones
CADENCE = 3.0  # messages per minute per chat
BOTS_PER_CHAT = 3
# Each chat gets one turn a round, and a round of this many turns takes seconds: every chat stays within
# Telegram's group limits (1/s, 20/min) as at the 3 msgs/min of the capacity runs. With fewer chats the loop
# pushed each chat past a message a second and most send attempts were pacing deferrals.
IN_PROCESS_CHATS = 300
# Each chat starts as a running one looks: past the dedup scan's reach (an hour at 3 msgs/min fills it), so a
# turn loads a full history and a full set of recent texts to compare with.
IN_PROCESS_HISTORY = 200
LATENESS_TARGET_S = 2.0
ANALYSIS_MARKER = "<!-- analysis: hand-written, kept when the benchmark rewrites the figures above -->"
RATE_FLOOR = 0.9  # a run is "sustained" at >= 90 % of the rate the planner itself aims for (see README)
BENCH_SETTINGS: dict[str, Any] = {
    "scale_factor": 1.0,
    "max_msgs_per_min": 10_000,
    "bot_hourly_msg_limit": {"min": 1000, "max": 1000},
    "prime_hours_boost": False,
    "news_trigger_enabled": False,  # the news job would fetch real feeds: never in a benchmark
    "llm_budget": {"rpm": 100_000, "tpm": 100_000_000, "daily_tokens": 10_000_000_000},
}

_started: list[subprocess.Popen[bytes]] = []


# --------------------------------------------------------------------------------------------- processes


def _spawn(args: list[str], *, env: dict[str, str], log: Path, stdin: int | None = None) -> subprocess.Popen[bytes]:
    # A new session: the process and everything it forks (RQ's scheduler) share one process group.
    handle = open(log, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, stdin=stdin, start_new_session=True
    )
    _started.append(proc)
    return proc


def _stop(procs: list[subprocess.Popen[bytes]], *, grace: float = 8.0) -> None:
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for proc in procs:
        # SIGKILL the group even when the leader is gone: a forked scheduler may outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc in _started:
            _started.remove(proc)


def start_fakes(
    *, bots: int, latency: float, log: Path, llm_output: str = "synthetic"
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start bench.fakes and read the JSON line with its URLs (`llm_output`: synthetic or realistic answers)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    handle = open(log, "ab")  # noqa: SIM115
    command = ["--bots", str(bots), "--llm-latency", str(latency), "--llm-output", llm_output]
    proc = subprocess.Popen(
        [PYTHON, "-m", "bench.fakes", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=handle,
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    _started.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"bench.fakes did not start; see {log}")
    return proc, json.loads(line)


def tree_cpu(pids: list[int]) -> float:
    """user+sys CPU seconds of these processes and all their descendants (live and reaped)."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                continue
    return total


def named_cpu(names: tuple[str, ...], *, cmdline_has: str = "") -> float:
    """CPU seconds of every process with one of these names (PostgreSQL backends, redis-server)."""
    total = 0.0
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] in names and cmdline_has in " ".join(proc.info["cmdline"] or []):
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    return total


# --------------------------------------------------------------------------------------------- database


def create_database() -> str:
    import psycopg2

    conn = psycopg2.connect(f"{PG_URL}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    conn.close()
    return f"{PG_URL}/{DB_NAME}"


def teardown(*, created_db: bool) -> None:
    """Stop every process a run started, flush its Redis database, drop its database."""
    _stop(list(_started))
    try:
        from django_rq import get_connection

        get_connection("high").flushdb()
    except Exception:  # noqa: BLE001 - Django may not be set up
        pass
    if created_db:
        drop_database()


def drop_database() -> None:
    import psycopg2

    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django may not be set up yet
        pass
    conn = psycopg2.connect(f"{PG_URL}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    conn.close()


# Production settings (DEBUG off: no query log, no debug cursor) with keys made for this run; every process
# of a run gets the same ones, so bot tokens encrypted by the benchmark decrypt in its workers.
PRODUCTION_ENV = {
    # A fresh deployment's metrics directory: files left by earlier runs would make every scrape slower.
    "METRICS_DIR": tempfile.mkdtemp(prefix="piyasa-bench-metrics-"),
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback
}


atexit.register(shutil.rmtree, PRODUCTION_ENV["METRICS_DIR"], ignore_errors=True)


def engine_env(fakes: dict[str, Any], database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        **PRODUCTION_ENV,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LLM_PROVIDER": "groq",
        "GROQ_API_KEY": "bench-fake-key",
        "GROQ_BASE_URL": fakes["llm"],
        "TELEGRAM_API_BASE_URL": fakes["telegram"],
        "TELEGRAM_TIMEOUT_S": "10",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def reset_state() -> None:
    """Empty the bench database and the bench Redis db."""
    from django.core.management import call_command
    from django_rq import get_connection

    call_command("flush", interactive=False, verbosity=0)
    get_connection("high").flushdb()


def daytime_zone() -> str:
    """An Etc/GMT zone where it is now around noon: no night damping of the cadence during the run."""
    offset = 12 - dt.datetime.now(dt.UTC).hour
    if offset > 14:
        offset -= 24
    if offset < -12:
        offset += 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def build_crowd(*, chats: int, bots_per_chat: int, extra_bots: int = 0, history: int = 0) -> list[int]:
    """`chats` telegram chats of `bots_per_chat` bots each (plus `extra_bots` in no chat); returns chat ids.

    Bulk inserts (no per-row validation) so 10,000 bots take seconds; every bot has a token registered
    on the fake Telegram, two stances, a holding and three memories.
    """
    from decimal import Decimal

    from bench.fakes import bench_token
    from bots.models import Bot, Holding, Memory, Stance
    from chats.models import Chat, Membership, Message
    from engine.services.postprocess import normalize
    from engine.tests.pipeline import FAST_SPEED  # the same fast speed profile as the pipeline tests

    zone = daytime_zone()
    total = chats * bots_per_chat + extra_bots
    bots = []
    for index in range(total):
        bot = Bot(name=f"Bench {index}", username=f"bench{index}_bot", speed=FAST_SPEED, talkativeness=0.5)
        bot.token = bench_token(index)
        bots.append(bot)
    bots = Bot.objects.bulk_create(bots, batch_size=2000)
    Stance.objects.bulk_create(
        [
            Stance(bot=bot, topic=topic, stance=f"{topic} için görüşüm {polarity}", polarity=polarity)
            for bot in bots
            for topic, polarity in (("BIST:THYAO", "bullish"), ("Makro", "neutral"))
        ],
        batch_size=5000,
    )
    Holding.objects.bulk_create(
        [Holding(bot=bot, symbol="BIST:THYAO", size=Decimal(100), average_price=Decimal("250.5")) for bot in bots],
        batch_size=5000,
    )
    Memory.objects.bulk_create(
        [
            Memory(bot=bot, kind=Memory.Kind.choices[0][0], content=text, relevance=0.5)
            for bot in bots
            for text in ("Geçen ay THYAO'da kâr aldım", "Faiz kararlarını yakından izlerim", "Altın benim sigortam")
        ],
        batch_size=5000,
    )
    chat_rows = Chat.objects.bulk_create(
        [
            Chat(
                title=f"Bench {index}",
                transport=Chat.Transport.TELEGRAM,
                telegram_chat_id=-1_000_000_000_000 - index,
                timezone=zone,
                cadence=CADENCE,
            )
            for index in range(chats)
        ],
        batch_size=2000,
    )
    members = [
        Membership(chat=chat, bot=bots[index * bots_per_chat + slot])
        for index, chat in enumerate(chat_rows)
        for slot in range(bots_per_chat)
    ]
    Membership.objects.bulk_create(members, batch_size=5000)
    if history:
        rng = random.Random(7)
        messages = []
        for index, chat in enumerate(chat_rows):
            for number in range(1, history + 1):
                bot = bots[index * bots_per_chat + rng.randrange(bots_per_chat)]
                text = f"Geçmiş mesaj {number}: THYAO {rng.randint(200, 300)} civarında, hacim {number * 13}"
                messages.append(
                    Message(
                        chat=chat,
                        bot=bot,
                        sender_name=bot.name,
                        sender_is_bot=True,
                        text=text,
                        text_normalized=normalize(text),  # stored with every bot message the engine records
                        telegram_message_id=10_000_000 + number,
                        metadata={"topic": "BIST:THYAO", "symbols": ["BIST:THYAO"], "turn_id": None, "flags": []},
                    )
                )
        Message.objects.bulk_create(messages, batch_size=5000)
    return [chat.pk for chat in chat_rows]


def configure(*, active: bool) -> None:
    from engine.services import settings_update

    settings_update(values={**BENCH_SETTINGS, "simulation_active": active})


def seed_next_at(chat_ids: list[int], *, mean_gap_s: float, start: float) -> None:
    """Spread the chats' first due times like the planner's own exponential gaps (no thundering herd at t=0)."""
    from django_rq import get_connection

    from engine.services.planning import NEXT_AT_KEY

    rng = random.Random(11)
    mapping = {str(chat_id): str(start + rng.expovariate(1.0 / mean_gap_s)) for chat_id in chat_ids}
    if mapping:
        get_connection("high").hset(NEXT_AT_KEY, mapping=mapping)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- statistics


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": max(values) if values else float("nan"),
    }


# --------------------------------------------------------------------------------------------- 1. capacity


@dataclass
class CapacityResult:
    chats: int
    workers: int
    minutes: float
    window_s: float = 0.0
    sent_turns: int = 0
    messages: int = 0
    per_chat_per_min: float = 0.0
    messages_per_chat_per_min: float = 0.0
    lateness: dict[str, float] = field(default_factory=dict)
    generate_wait: dict[str, float] = field(default_factory=dict)
    end_to_end: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    engine_cpu_s: float = 0.0
    fakes_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    redis_cpu_s: float = 0.0
    machine_busy: float = 0.0
    finished_turns: int = 0
    cpu_ms_per_turn: float = 0.0
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    text_messages: int = 0
    max_queued: dict[str, int] = field(default_factory=dict)
    planner_rate: float = 0.0
    sustained: bool = False
    worker_rss_mb: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    problems: dict[str, int] | None = field(default_factory=dict)
    chats_with_several_active_turns: int = 0


def auto_workers(chats: int) -> int:
    # A generate job holds a (non-forking) worker for the 500 ms LLM call of up to GENERATE_BATCH turns at
    # once; a send job for its Bot API call. Each: rate × hold time, doubled.
    from engine.services.dispatch import GENERATE_BATCH

    rate = chats * CADENCE / 60
    batch_hold_s = 0.5 + GENERATE_BATCH * 0.03  # the LLM call, then each turn's own CPU in turn
    return math.ceil(rate / GENERATE_BATCH * batch_hold_s * 2) + math.ceil(rate * 0.05 * 2) + 2


def run_capacity(
    *,
    chats: int,
    workers: int,
    minutes: float,
    env: dict[str, str],
    logs: Path,
    warmup_s: float,
    worker_args: list[str] | None = None,
) -> CapacityResult:
    import django_rq
    from django.db.models import Count, Sum

    from chats.models import Message
    from engine.models import Turn

    result = CapacityResult(chats=chats, workers=workers, minutes=minutes)
    worker_args = worker_args or []
    reset_state()
    chat_ids = build_crowd(chats=chats, bots_per_chat=BOTS_PER_CHAT)
    configure(active=False)
    procs: list[subprocess.Popen[bytes]] = []
    queues = [django_rq.get_queue(name) for name in ("high", "default", "low")]
    try:
        log = logs / f"capacity-{chats}.log"
        for _ in range(workers):
            procs.append(
                _spawn(
                    [PYTHON, "manage.py", "rqworker", "high", "default", "low", "--with-scheduler", *worker_args],
                    env=env,
                    log=log,
                )
            )
        _wait_for_workers(workers, queues[0].connection, timeout=30 + workers * 1.5)
        procs.append(_spawn([PYTHON, "manage.py", "rqcron", "config.cron"], env=env, log=log))
        time.sleep(2)
        start = time.time()
        seed_next_at(chat_ids, mean_gap_s=60.0 / CADENCE, start=start)
        configure(active=True)
        engine_pids = [p.pid for p in procs]
        fakes_pid = int(env["BENCH_FAKES_PID"])
        warm_at, end_at = start + warmup_s, start + minutes * 60
        max_queued: Counter[str] = Counter()
        marks: dict[str, tuple[float, ...]] = {}
        while time.time() < end_at:
            now = time.time()
            if "warm" not in marks and now >= warm_at:
                marks["warm"] = _cpu_marks(engine_pids, fakes_pid)
            for queue in queues:
                max_queued[queue.name] = max(max_queued[queue.name], len(queue))
                key = f"{queue.name}:scheduled"
                max_queued[key] = max(max_queued[key], queue.scheduled_job_registry.count)
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{len(dead)} engine process(es) exited early; see {log}")
            time.sleep(min(2.0, max(0.05, end_at - time.time())))
        marks["end"] = _cpu_marks(engine_pids, fakes_pid)
        # The planner keeps one turn in flight per chat; more means two ticks planned the same chat.
        result.chats_with_several_active_turns = (
            Turn.objects.exclude(status__in=Turn.TERMINAL)
            .values("chat_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        result.worker_rss_mb = sum(_rss(pid) for pid in engine_pids) / len(engine_pids) / 2**20
        configure(active=False)
        # Let in-flight turns finish so their final status is known (new ones are no longer planned).
        deadline = time.time() + 20
        while time.time() < deadline and Turn.objects.exclude(status__in=Turn.TERMINAL).exists():
            time.sleep(0.5)
    finally:
        _stop(procs)

    window_start = dt.datetime.fromtimestamp(warm_at, dt.UTC)
    window_end = dt.datetime.fromtimestamp(end_at, dt.UTC)
    result.window_s = end_at - warm_at
    minutes_in_window = result.window_s / 60
    in_window = Turn.objects.filter(finished_at__gte=window_start, finished_at__lt=window_end)
    sent = in_window.filter(status=Turn.Status.SENT)
    result.sent_turns = sent.count()
    result.finished_turns = in_window.count()
    result.messages = Message.objects.filter(
        created_at__gte=window_start, created_at__lt=window_end, bot__isnull=False
    ).count()
    result.per_chat_per_min = result.sent_turns / chats / minutes_in_window
    result.messages_per_chat_per_min = result.messages / chats / minutes_in_window
    rows = list(sent.values_list("created_at", "generating_at", "next_run_at", "sending_at"))
    result.lateness = summary([(s - n).total_seconds() for _, _, n, s in rows if n and s])
    result.generate_wait = summary([(g - c).total_seconds() for c, g, _, _ in rows if g])
    result.end_to_end = summary([(s - c).total_seconds() for c, _, _, s in rows if s])
    created = Turn.objects.filter(created_at__gte=window_start, created_at__lt=window_end)
    result.statuses = dict(Counter(created.values_list("status", flat=True)))
    result.errors = dict(
        Counter(e.split(":")[0][:60] for e in created.exclude(error="").values_list("error", flat=True))
    )
    text = created.exclude(kind=Turn.Kind.REACTION)
    totals = text.aggregate(calls=Sum("llm_calls"), tin=Sum("tokens_in"), tout=Sum("tokens_out"))
    result.llm_calls, result.tokens_in, result.tokens_out = (
        totals["calls"] or 0,
        totals["tin"] or 0,
        totals["tout"] or 0,
    )
    result.text_messages = text.filter(status=Turn.Status.SENT).count()
    # Why a turn needed more than one call: the local checks' findings, recorded on the turn.
    result.problems = dict(
        Counter(
            p.split(" on ")[0][:50]
            for inputs in text.values_list("inputs", flat=True)
            for p in (inputs or {}).get("problems", [])
        )
    )
    (e0, f0, d0, r0, busy0, all0), (e1, f1, d1, r1, busy1, all1) = marks["warm"], marks["end"]
    result.engine_cpu_s, result.fakes_cpu_s = e1 - e0, f1 - f0
    result.db_cpu_s, result.redis_cpu_s = d1 - d0, r1 - r0
    result.machine_busy = (busy1 - busy0) / max(all1 - all0, 1e-9)
    result.cpu_ms_per_turn = 1000 * result.engine_cpu_s / max(result.finished_turns, 1)
    result.max_queued = dict(max_queued)
    result.planner_rate = planner_rate()
    result.sustained = (
        result.lateness.get("p95", 99) <= LATENESS_TARGET_S
        and result.per_chat_per_min >= RATE_FLOOR * result.planner_rate
    )
    reset_state()
    return result


def planner_rate(tick_s: float = 2.0, busy_s: float = 1.5) -> float:
    """Turns per chat per minute the planner itself aims for at cadence 3 with a perfect engine.

    The gap to the next turn is exponential (mean 60/cadence s, at least 1 s) from the tick that planned
    it; the chat is then found due on the next 2 s tick (≈ +1 s on average), and it is skipped while its
    previous turn is still in flight (≈ 1.5 s: LLM 0.5 s + typing 0.2-0.4 s + scheduler polling).
    """
    mean_gap = 60.0 / CADENCE
    # E[max(gap, busy)] for an exponential gap, + half a tick of quantisation.
    expected = mean_gap + busy_s - mean_gap * (1 - math.exp(-busy_s / mean_gap)) + tick_s / 2
    return 60.0 / expected


def _wait_for_workers(count: int, connection: Any, *, timeout: float) -> None:
    from rq import Worker

    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(Worker.all(connection=connection)) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"only {len(Worker.all(connection=connection))} of {count} workers registered in {timeout:.0f}s")


def _cpu_marks(engine_pids: list[int], fakes_pid: int) -> tuple[float, ...]:
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return (
        tree_cpu(engine_pids),
        tree_cpu([fakes_pid]),
        named_cpu(("postgres", "postmaster")),
        named_cpu(("redis-server",), cmdline_has=REDIS_PORT),
        busy,
        sum(machine),
    )


def _rss(pid: int) -> float:
    try:
        return float(psutil.Process(pid).memory_info().rss)
    except psutil.NoSuchProcess:
        return 0.0


# --------------------------------------------------------------------------------------------- 2. in-process CPU


@dataclass
class InProcessResult:
    turns: int = 0
    cpu_ms: dict[str, float] = field(default_factory=dict)
    wall_ms: dict[str, float] = field(default_factory=dict)
    db_server_ms: float = 0.0
    redis_server_ms: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


def typing_jobs(redis: Any, turn_id: int) -> int:
    """Take the turn's scheduled jobs and its slot's send off RQ (this loop runs them itself); how many typing jobs."""
    from rq import Queue
    from rq.job import Job

    from engine.services.dispatch import SENDS_KEY

    registry = Queue("high", connection=redis).scheduled_job_registry
    typing = 0
    redis.zrem(SENDS_KEY, str(turn_id))
    for job in Job.fetch_many(registry.get_job_ids(), connection=redis):
        if job is not None and (tuple(job.args) == (turn_id,) or job.func_name == "engine.jobs.send_due"):
            typing += job.func_name == "engine.jobs.send_typing"
            registry.remove(job, delete_job=True)
    return typing


def bench_llm(llm_url: str) -> Any:
    """The LLM client as a worker has it (`client_from_settings`: Groq behind the circuit breaker), at `llm_url`."""
    from django.conf import settings

    from engine.clients.llm import GroqProvider, LlmClient, breaker_for

    return LlmClient(GroqProvider(api_key="bench", model=settings.GROQ_MODEL, base_url=llm_url), breaker_for("groq"))


def run_in_process(*, turns: int, chats: int, llm_url: str, profile: Path | None = None) -> InProcessResult:
    """plan → generate → typing → send for `turns` turns in this process; fakes at 0 latency elsewhere."""
    from django_rq import get_connection

    from engine import jobs
    from engine.models import Turn
    from engine.services import delivery, generation
    from engine.services.dispatch import GENERATE_BATCH, SEND_BATCH
    from engine.services.planning import NEXT_AT_KEY
    from engine.worker import tune_gc

    reset_state()
    chat_ids = build_crowd(chats=chats, bots_per_chat=BOTS_PER_CHAT, history=IN_PROCESS_HISTORY)
    configure(active=True)
    llm = bench_llm(llm_url)
    redis = get_connection("high")
    result = InProcessResult()
    phases = ("tick", "generate", "typing", "send")
    cpu = dict.fromkeys(phases, 0.0)
    wall = dict.fromkeys(phases, 0.0)
    outcomes: Counter[str] = Counter()

    def timed(phase: str, call: Any) -> Any:
        c0, w0 = time.process_time(), time.perf_counter()
        value = call()
        cpu[phase] += time.process_time() - c0
        wall[phase] += time.perf_counter() - w0
        return value

    # Warm up imports, connection pools and caches with one untimed round.
    profiler = None
    db0 = rd0 = 0.0
    done = -1
    while done < turns:
        redis.hset(NEXT_AT_KEY, mapping=dict.fromkeys(chat_ids, 0))
        before = set(Turn.objects.values_list("pk", flat=True))
        timed("tick", jobs.tick)
        planned = list(Turn.objects.exclude(pk__in=before).order_by("pk").values_list("pk", flat=True))
        # Generated as the tick's jobs do: GENERATE_BATCH turns at a time, their LLM calls overlapping.
        for start in range(0, len(planned), GENERATE_BATCH):
            batch = planned[start : start + GENERATE_BATCH]
            batch_outcomes = timed("generate", lambda b=batch: generation.generate_turns(turn_ids=b, llm=llm))
            outcomes.update("generate:" + outcome for outcome in batch_outcomes.values())
        for turn_id in planned:
            # A typing job runs only when the typing starts later than generation ends (never with the
            # fast speed profile: generate shows the first typing action itself).
            for _job in range(typing_jobs(redis, turn_id)):
                timed("typing", lambda t=turn_id: delivery.send_typing(turn_id=t))
        # Sent as the slots' jobs do: up to SEND_BATCH due turns at a time, their Bot API calls overlapping.
        pending = list(planned)
        while pending:
            batch, pending = pending[:SEND_BATCH], pending[SEND_BATCH:]
            sent = timed("send", lambda b=batch: delivery.send_turns(turn_ids=b))
            deferred = [int(turn_id) for turn_id, outcome in sent.items() if outcome == "deferred"]
            outcomes.update("send:" + outcome for outcome in sent.values() if outcome != "deferred")
            for turn_id in deferred:
                typing_jobs(redis, turn_id)  # this loop sends it again itself
            if deferred and not pending:
                deferred_until = Turn.objects.filter(pk__in=deferred).values_list("next_run_at", flat=True)
                due = min(moment for moment in deferred_until if moment is not None)
                wait = (due - dt.datetime.now(dt.UTC)).total_seconds()
                time.sleep(max(0.0, min(wait, 1.5)) + 0.01)  # a paced send: sleeping is not CPU
            pending += deferred
        if done == -1:  # the warm-up round is over: start counting, collecting garbage as a worker does
            tune_gc()
            done = 0
            cpu, wall, outcomes = dict.fromkeys(phases, 0.0), dict.fromkeys(phases, 0.0), Counter()
            db0, rd0 = named_cpu(("postgres", "postmaster")), named_cpu(("redis-server",), cmdline_has=REDIS_PORT)
            if profile is not None:
                import cProfile

                profiler = cProfile.Profile(time.process_time)  # CPU, not waits
                profiler.enable()
            continue
        done += len(planned)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    result.turns = done
    result.db_server_ms = 1000 * (named_cpu(("postgres", "postmaster")) - db0) / done
    result.redis_server_ms = 1000 * (named_cpu(("redis-server",), cmdline_has=REDIS_PORT) - rd0) / done
    result.cpu_ms = {phase: 1000 * value / done for phase, value in cpu.items()}
    result.cpu_ms["total"] = sum(result.cpu_ms.values())
    result.wall_ms = {phase: 1000 * value / done for phase, value in wall.items()}
    result.outcomes = dict(outcomes)
    reset_state()
    return result


# --------------------------------------------------------------------------------------------- 3. queries


@dataclass
class QueryResult:
    bots_in_system: int
    bots_in_chat: int
    tick: list[int] = field(default_factory=list)
    generate: list[int] = field(default_factory=list)
    typing: list[int] = field(default_factory=list)
    send: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    tick_ms: list[float] = field(default_factory=list)
    generate_ms: list[float] = field(default_factory=list)


def run_queries(*, scales: list[int], llm_url: str, samples: int) -> list[QueryResult]:
    """Queries for one tick (one due chat) and for generate + typing + send of one turn, at several crowd sizes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_rq import get_connection

    from bots.models import Bot
    from chats.models import Chat, Membership
    from engine import jobs
    from engine.models import Turn
    from engine.services import delivery, generation
    from engine.services.planning import NEXT_AT_KEY

    llm = bench_llm(llm_url)
    redis = get_connection("high")
    results = []
    for scale in scales:
        reset_state()
        small = 10
        # One chat of 10 bots, one chat holding every bot (when there are more), 20 messages of history each.
        chat_ids = build_crowd(chats=1, bots_per_chat=small, extra_bots=scale - small, history=20)
        if scale > small:
            big = Chat.objects.create(
                title="Everyone", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-999, timezone=daytime_zone()
            )
            Membership.objects.bulk_create(
                [Membership(chat=big, bot_id=pk) for pk in Bot.objects.values_list("pk", flat=True)], batch_size=5000
            )
            targets = [(chat_ids[0], small), (big.pk, scale)]
        else:
            targets = [(chat_ids[0], small)]
        configure(active=True)
        for chat_id, in_chat in targets:
            row = QueryResult(bots_in_system=scale, bots_in_chat=in_chat)
            far = time.time() + 10**6
            for sample in range(samples + 1):
                redis.hset(NEXT_AT_KEY, mapping=dict.fromkeys(Chat.objects.values_list("pk", flat=True), far))
                redis.hset(NEXT_AT_KEY, chat_id, 0)
                before = set(Turn.objects.values_list("pk", flat=True))
                connection.queries_log.clear()  # DEBUG logs every query; the log is capped at 9,000
                with CaptureQueriesContext(connection) as tick_q:
                    t0 = time.perf_counter()
                    jobs.tick()
                    tick_ms = 1000 * (time.perf_counter() - t0)
                seen = {"tick": [q["sql"] for q in tick_q.captured_queries]}
                turn = Turn.objects.exclude(pk__in=before).get()
                connection.queries_log.clear()  # DEBUG logs every query; the log is capped at 9,000
                with CaptureQueriesContext(connection) as gen_q:
                    t0 = time.perf_counter()
                    generation.generate_turn(turn_id=turn.pk, llm=llm)
                    gen_ms = 1000 * (time.perf_counter() - t0)
                seen["generate"] = [q["sql"] for q in gen_q.captured_queries]
                connection.queries_log.clear()  # DEBUG logs every query; the log is capped at 9,000
                with CaptureQueriesContext(connection) as typing_q:
                    for _job in range(typing_jobs(redis, turn.pk)):
                        delivery.send_typing(turn_id=turn.pk)
                seen["typing"] = [q["sql"] for q in typing_q.captured_queries]
                connection.queries_log.clear()  # DEBUG logs every query; the log is capped at 9,000
                with CaptureQueriesContext(connection) as send_q:
                    outcome = delivery.send_turn(turn_id=turn.pk)
                while outcome == "deferred":  # paced (≤ 1 message/s per group): wait and count the real send
                    time.sleep(1.05)
                    connection.queries_log.clear()
                    with CaptureQueriesContext(connection) as send_q:
                        outcome = delivery.send_turn(turn_id=turn.pk)
                seen["send"] = [q["sql"] for q in send_q.captured_queries]
                if os.environ.get("BENCH_SHOW_SQL") and sample == samples:
                    for name, sqls in seen.items():
                        for sql in sqls:
                            print(f"bench-sql {name}: {sql[:160]}")
                if sample == 0:
                    continue  # warm-up
                row.tick.append(len(seen["tick"]))
                row.generate.append(len(seen["generate"]))
                row.typing.append(len(seen["typing"]))
                row.send.append(len(seen["send"]))
                row.kinds.append(str(turn.kind))
                row.tick_ms.append(tick_ms)
                row.generate_ms.append(gen_ms)
            results.append(row)
    reset_state()
    return results


# --------------------------------------------------------------------------------------------- report


def machine_facts() -> dict[str, str]:
    import django
    import redis as redis_py
    import rq
    from django.db import connection
    from django_rq import get_connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    info = get_connection("high").info("server")
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model,
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": info.get("redis_version", "?"),
        "django": django.get_version(),
        "rq": rq.__version__,
        "redis-py": redis_py.__version__,
        "kernel": platform.release(),
    }


def fmt(value: float, digits: int = 2) -> str:
    return "–" if value != value else f"{value:.{digits}f}"


def report_header(title: str, *, command: str, facts: dict[str, str], quick: bool) -> list[str]:
    """The first lines of a benchmark report: title, smoke-run warning, command, date and machine."""
    lines = [title, ""]
    if quick:
        lines += ["> **Quick smoke run** (`--quick`): small and short, not the real figures.", ""]
    machine = (
        f"Machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['ram']} RAM, kernel {facts['kernel']}; "
        f"Python {facts['python']}, PostgreSQL {facts['postgresql']}, Redis {facts['redis']}, "
        f"Django {facts['django']}, RQ {facts['rq']}."
    )
    return [*lines, f"Command: `{command}`  ", f"Date: {facts['date']}  ", machine, ""]


def render(
    *,
    command: str,
    facts: dict[str, str],
    capacity: list[CapacityResult],
    inproc: InProcessResult | None,
    queries: list[QueryResult],
    llm_latency: float,
    quick: bool,
) -> str:
    lines = report_header("# Engine benchmarks", command=command, facts=facts, quick=quick)
    add = lines.append
    add(
        f"Setup: telegram-transport chats of {BOTS_PER_CHAT} bots each (fast speed profile: no reading delay, "
        f"0.2-0.4 s typing), cadence {CADENCE:g} msgs/min, limits and LLM budget raised so they never bind; "
        f"`LLM_PROVIDER=groq` against the fake Groq server with {llm_latency * 1000:.0f} ms latency and the fake "
        "Telegram Bot API, both in a separate process (`bench.fakes`); one `manage.py rqcron config.cron` and W "
        "`manage.py rqworker high default low --with-scheduler` (SimpleWorker) processes; PostgreSQL and Redis "
        "on 127.0.0.1. Figures are measured over the run after a warm-up."
    )
    add("")
    if capacity:
        add("## 1. Capacity")
        add("")
        add(
            "| chats | workers | window | sent turns/chat/min | messages/chat/min | lateness p50 / p95 / p99 / max (s) "
            "| generate wait p50 / p95 (s) | turns by status | engine CPU ms/turn | machine busy | sustained |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in capacity:
            lat, gen = r.lateness, r.generate_wait
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
            add(
                f"| {r.chats} | {r.workers} | {r.window_s:.0f} s | {fmt(r.per_chat_per_min)} | "
                f"{fmt(r.messages_per_chat_per_min)} | {fmt(lat['p50'])} / {fmt(lat['p95'])} / {fmt(lat['p99'])} / "
                f"{fmt(lat['max'])} | {fmt(gen['p50'])} / {fmt(gen['p95'])} | {statuses} | {fmt(r.cpu_ms_per_turn, 1)} "
                f"| {r.machine_busy * 100:.0f} % | {'yes' if r.sustained else 'no'} |"
            )
        add("")
        add(
            f"Sustained = p95 lateness ≤ {LATENESS_TARGET_S:g} s and sent turns/chat/min ≥ {RATE_FLOOR:.0%} of what "
            f"the planner itself aims for ({fmt(capacity[0].planner_rate)} turns/chat/min at cadence 3: exponential "
            "gaps from the 2 s tick, none while the chat's previous turn is in flight; see bench/README.md). "
            "Lateness = `Turn.sending_at − Turn.next_run_at` of sent turns (how late the send job claimed the "
            "turn after it was due; negative when early: RQ schedules to the whole second, and a second's send job "
            "takes every turn due within it); generate wait = `generating_at − created_at` (queue wait of the "
            "generate job)."
        )
        add("")
        add("CPU over the measured window (seconds of user+sys), where it went:")
        add("")
        add(
            "| chats | engine (cron + workers + scheduler) | fakes | PostgreSQL | Redis | everything else "
            "| machine capacity | max queued (high / default / scheduled) | worker RSS |"
        )
        add("|---|---|---|---|---|---|---|---|---|")
        cpus = int(facts["nproc"])
        for r in capacity:
            queued = r.max_queued
            busy = r.machine_busy * r.window_s * cpus
            other = busy - r.engine_cpu_s - r.fakes_cpu_s - r.db_cpu_s - r.redis_cpu_s
            add(
                f"| {r.chats} | {r.engine_cpu_s:.1f} s | {r.fakes_cpu_s:.1f} s | {r.db_cpu_s:.1f} s | "
                f"{r.redis_cpu_s:.1f} s | {other:.1f} s | {r.window_s * cpus:.0f} s "
                f"| {queued.get('high', 0)} / {queued.get('default', 0)} / "
                f"{queued.get('high:scheduled', 0) + queued.get('default:scheduled', 0)} | {r.worker_rss_mb:.0f} MB |"
            )
        add("")
        add(
            "“Everything else” is machine CPU not attributed to the benchmark's processes: the kernel's loopback "
            "networking, the orchestrator, and whatever else runs on the machine (other people's test runs)."
        )
        add("")
        add(
            "Chats with more than one turn in flight at the end of the window (two overlapping ticks planned the "
            "same chat): "
            + ", ".join(
                f"{r.chats} chats → "
                + (str(r.chats_with_several_active_turns) if r.chats_with_several_active_turns >= 0 else "not measured")
                for r in capacity
            )
            + "."
        )
        add("")
        best = max((r.chats for r in capacity if r.sustained), default=0)
        add(f"**Largest N sustained in this run: {best} chats** (target 1,000).")
        add("")
    if inproc is not None:
        add("## 2. Engine CPU per turn (excluding waits)")
        add("")
        add(
            "Process-level: engine CPU over the capacity window ÷ turns finished in it (includes RQ's own job "
            "bookkeeping, the cron process and the scheduler): "
            + ", ".join(f"{r.chats} chats → {fmt(r.cpu_ms_per_turn, 1)} ms" for r in capacity)
            + "."
        )
        add("")
        add(
            f"In-process: {inproc.turns} turns through tick → generate → typing → send in one process, LLM fake at "
            "0 ms in another process, `time.process_time()` per phase (no RQ; garbage collection tuned as the "
            "worker does, `engine.worker.tune_gc`). Typing counts the typing *jobs*: "
            "when typing starts as soon as the text is ready (always, with the fast speed profile), generate "
            "shows the first typing action itself and there is none:"
        )
        add("")
        add("| phase | CPU ms/turn | wall ms/turn |")
        add("|---|---|---|")
        for phase in ("tick", "generate", "typing", "send", "total"):
            add(
                f"| {phase} | {fmt(inproc.cpu_ms[phase])} | "
                f"{fmt(inproc.wall_ms.get(phase, sum(inproc.wall_ms.values())))} |"
            )
        add("")
        add(
            f"Server side per turn: PostgreSQL {fmt(inproc.db_server_ms)} ms, "
            f"Redis {fmt(inproc.redis_server_ms)} ms CPU. "
            f"Outcomes: {', '.join(f'{k} {v}' for k, v in sorted(inproc.outcomes.items()))}."
        )
        add("")
    if queries:
        add("## 3. DB queries per turn")
        add("")
        add(
            "Queries counted with `CaptureQueriesContext` (one chat due, 20 messages of history, each bot with "
            "2 stances, a holding and 3 memories); min–max over the sampled turns (kinds vary: proactive, reply, "
            "reaction):"
        )
        add("")
        add(
            "| bots in system | bots in chat | tick | generate | typing | send | generate+typing+send "
            "| tick ms | generate ms (LLM 0 ms) |"
        )
        add("|---|---|---|---|---|---|---|---|---|")
        for q in queries:
            per_turn = [g + t + s for g, t, s in zip(q.generate, q.typing, q.send, strict=True)]
            add(
                f"| {q.bots_in_system:,} | {q.bots_in_chat:,} | {_span(q.tick)} | {_span(q.generate)} | "
                f"{_span(q.typing)} | {_span(q.send)} | {_span(per_turn)} | {fmt(pct(q.tick_ms, 50), 1)} | "
                f"{fmt(pct(q.generate_ms, 50), 1)} |"
            )
        add("")
        add(f"Turn kinds sampled: {dict(Counter(k for q in queries for k in q.kinds))}.")
        add("")
    if capacity:
        add("## 4. LLM calls and tokens per message")
        add("")
        add("| chats | text messages sent | LLM calls | calls/message | tokens in/message | tokens out/message |")
        add("|---|---|---|---|---|---|")
        for r in capacity:
            n = max(r.text_messages, 1)
            add(
                f"| {r.chats} | {r.text_messages} | {r.llm_calls} | {r.llm_calls / n:.3f} | {r.tokens_in / n:.0f} | "
                f"{r.tokens_out / n:.0f} |"
            )
        add("")
        add(
            "Extra calls came from (local-check findings on sent turns): "
            + "; ".join(
                f"{r.chats} chats: " + ("not recorded" if r.problems is None else str(r.problems or "none"))
                for r in capacity
            )
            + ". Over every non-reaction turn created in the window (calls of skipped or failed turns count too). "
            "The fake LLM answers neutral, varied text, so repairs and dedup retries are rare by construction."
        )
        add("")
    return "\n".join(lines)


def _span(values: list[int]) -> str:
    if not values:
        return "–"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


# --------------------------------------------------------------------------------------------- main


def render_from_log(log: Path, *, output: str, llm_latency: float) -> int:
    """Rebuild the report from the `bench: ...` lines of an earlier run (no processes are started)."""
    import ast

    facts: dict[str, str] = {}
    command = ""
    capacity: list[CapacityResult] = []
    inproc: InProcessResult | None = None
    queries: list[QueryResult] = []
    for line in log.read_text().splitlines():
        if line.startswith("bench: command "):
            command = line.removeprefix("bench: command ")
        if not line.startswith("bench: {"):
            continue
        body = line.removeprefix("bench: ")
        data = json.loads(body) if body.startswith('{"') else ast.literal_eval(body)
        if "nproc" in data:
            facts = data
        elif "chats" in data:
            # Runs from before a field existed: mark it "not measured" rather than showing a default.
            data.setdefault("chats_with_several_active_turns", -1)
            data.setdefault("problems", None)
            capacity.append(CapacityResult(**data))
        elif "turns" in data:
            inproc = InProcessResult(**data)
        elif "bots_in_system" in data:
            queries.append(QueryResult(**data))
    report = render(
        command=command or f"(re-rendered from {log.name})",
        facts=facts,
        capacity=capacity,
        inproc=inproc,
        queries=queries,
        llm_latency=llm_latency,
        quick=False,
    )
    print(report)
    if output != "-":
        write_report(Path(output), report)
    return 0


def write_report(out: Path, report: str) -> None:
    """Write the figures; hand-written analysis below the marker survives a re-run."""
    old = out.read_text() if out.exists() else ""
    kept = old.split(ANALYSIS_MARKER, 1)[1] if ANALYSIS_MARKER in old else ""
    out.write_text(report + "\n" + (ANALYSIS_MARKER + kept if kept else ""))
    print(f"bench: wrote {out}")


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt  # run the finally block: stop every process, drop the database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Piyasa engine benchmark (see bench/README.md)")
    parser.add_argument("--chats", default="100,300,1000", help="comma-separated chat counts for the capacity runs")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each capacity run")
    parser.add_argument("--workers", default="auto", help="worker processes per run: a number, a list or 'auto'")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds excluded at the start of each run")
    parser.add_argument("--llm-latency", type=float, default=0.5)
    parser.add_argument(
        "--llm-output", choices=("synthetic", "realistic"), default="synthetic", help="the fake LLM's answers"
    )
    parser.add_argument("--turns", type=int, default=300, help="turns in the in-process CPU run")
    parser.add_argument("--query-scales", default="10,1000,10000", help="bots in the system for the query counts")
    parser.add_argument("--query-samples", type=int, default=6)
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: capacity,cpu,queries")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="'-' to write no file")
    parser.add_argument("--profile", default="", help="write a cProfile of the in-process run to this file")
    parser.add_argument("--worker-args", default="", help="extra rqworker arguments, e.g. '-v 0' (less logging)")
    parser.add_argument("--quick", action="store_true", help="a smoke run in under a minute")
    parser.add_argument("--from-log", default="", help="re-render the report from a run's printed output")
    args = parser.parse_args(argv)
    if args.from_log:
        return render_from_log(Path(args.from_log), output=args.output, llm_latency=args.llm_latency)
    if args.quick:
        args.chats, args.minutes, args.warmup, args.workers = "20", 0.5, 10.0, "3"
        args.turns, args.query_scales, args.query_samples = 30, "10,1000", 2
        if args.output == str(ROOT / "docs" / "benchmarks.md"):
            args.output = "-"  # a smoke run never overwrites the real figures
    chat_counts = [int(x) for x in args.chats.split(",") if x]
    worker_counts = (
        [0] * len(chat_counts)  # auto: worked out once Django is set up
        if args.workers == "auto"
        else [int(x) for x in args.workers.split(",")] * (len(chat_counts) if "," not in args.workers else 1)
    )
    if len(worker_counts) != len(chat_counts):
        parser.error("--workers needs one value per --chats value (or one value, or auto)")
    skip = set(args.skip.split(",")) - {""}
    scales = [int(x) for x in args.query_scales.split(",") if x]
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.engine " + " ".join(argv if argv is not None else sys.argv[1:])

    signal.signal(signal.SIGTERM, _interrupt)
    fakes: list[subprocess.Popen[bytes]] = []
    created_db = False
    try:
        database_url = create_database()
        created_db = True
        max_bots = max([n * BOTS_PER_CHAT for n in chat_counts] + scales + [60 * BOTS_PER_CHAT])
        output = args.llm_output
        slow, slow_info = start_fakes(
            bots=max_bots, latency=args.llm_latency, log=logs / "fakes.log", llm_output=output
        )
        fast, fast_info = start_fakes(bots=max_bots, latency=0.0, log=logs / "fakes-0ms.log", llm_output=output)
        fakes += [slow, fast]
        env = engine_env(slow_info, database_url) | {"BENCH_FAKES_PID": str(slow.pid)}
        os.environ.update({k: v for k, v in env.items() if k != "BENCH_FAKES_PID"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        facts = machine_facts()
        print(f"bench: {facts}", flush=True)
        print(f"bench: command {command}", flush=True)

        capacity: list[CapacityResult] = []
        if "capacity" not in skip:
            for chats, workers in zip(chat_counts, worker_counts, strict=True):
                workers = workers or auto_workers(chats)
                print(f"bench: capacity {chats} chats, {workers} workers, {args.minutes:g} min …", flush=True)
                result = run_capacity(
                    chats=chats,
                    workers=workers,
                    minutes=args.minutes,
                    env=env,
                    logs=logs,
                    warmup_s=args.warmup,
                    worker_args=args.worker_args.split(),
                )
                capacity.append(result)
                print(f"bench: {json.dumps(result.__dict__, default=str)}", flush=True)
        inproc = None
        if "cpu" not in skip:
            print(f"bench: in-process CPU, {args.turns} turns …", flush=True)
            inproc = run_in_process(
                turns=args.turns,
                chats=100 if args.quick else IN_PROCESS_CHATS,
                llm_url=fast_info["llm"],
                profile=Path(args.profile) if args.profile else None,
            )
            print(f"bench: {json.dumps(inproc.__dict__)}", flush=True)
        queries: list[QueryResult] = []
        if "queries" not in skip:
            print(f"bench: queries at {scales} bots …", flush=True)
            queries = run_queries(scales=scales, llm_url=fast_info["llm"], samples=args.query_samples)
            for q in queries:
                print(f"bench: {json.dumps(q.__dict__)}", flush=True)
        report = render(
            command=command,
            facts=facts,
            capacity=capacity,
            inproc=inproc,
            queries=queries,
            llm_latency=args.llm_latency,
            quick=args.quick,
        )
        print("\n" + report)
        if args.output != "-":
            write_report(Path(args.output), report)
        return 0
    finally:
        teardown(created_db=created_db)


if __name__ == "__main__":
    sys.exit(main())

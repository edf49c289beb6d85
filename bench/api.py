"""API load benchmark: the bot list, the metrics summary and the live-chat poll at 100 concurrent clients.

    .venv/bin/python -m bench.api                # 100 clients, 20 s per endpoint and mode, rewrites its section
    .venv/bin/python -m bench.api --quick        # a smoke run (5 s each), writes no file
    .venv/bin/python -m bench.api --clients 200 --seconds 30 --web-workers 4

Serves the app with gunicorn as in production (config/gunicorn.py: sync workers, DEBUG off) on
127.0.0.1 against PostgreSQL and Redis, with a realistic dataset (300 bots with stances, holdings and
memories in 100 chats, 60,000 messages over the last two hours, 30,000 turns in the last hour for the
summary's series, vacuumed and analysed), and loads it with wrk (Debian's `wrk`, a C load generator: it
costs the 2-core machine far less CPU than a Python one). Each request carries a viewer's API token.
Two modes per endpoint:

- **clients**: 100 pollers (asyncio, in this process), each waiting 0.5–1.5 s (uniform) and then connecting,
  sending the GET and reading the whole response, like 100 open dashboards (the dashboard itself polls the
  chat every 2 s and the summary every 5 s). Latency runs from the connect to the response's last byte.
- **saturation**: wrk, 100 connections sending requests back to back: the most the machine serves, and the
  latency then.

Own database (BENCH_DB_NAME, default piyasa_bench_api) and Redis db (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/10), dropped/flushed at the end; every process it starts is killed in a `finally`.
"""

from __future__ import annotations

import os

# Before bench.engine reads them: never share another benchmark's database or Redis db.
os.environ.setdefault("BENCH_DB_NAME", "piyasa_bench_api")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.engine import (
    PRODUCTION_ENV,
    REDIS_URL,
    ROOT,
    build_crowd,
    configure,
    create_database,
    fmt,
    machine_facts,
    pct,
    teardown,
)
from bench.members import start_web, write_section

SECTION_TITLE = "## API under load"
TARGET_P95_MS = 50.0
THINK_MS = 1000  # mean wait of a "clients" poller between requests (uniform 0.5–1.5 s)
CHATS, BOTS_PER_CHAT, HISTORY = 100, 3, 600
TURNS_LAST_HOUR = 30_000
POLL_OVERLAP_S = 65  # the live view asks for the last few seconds; this returns ~1–2 messages per chat
WRK_SCRIPT = r"""
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
wrk.headers["Accept"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class LoadResult:
    """One wrk run: an endpoint in a mode."""

    endpoint: str
    mode: str
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    timeouts: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def _replace_endpoint(self, endpoint: str) -> LoadResult:
        return dataclasses.replace(self, endpoint=endpoint)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def seed() -> tuple[str, list[str]]:
    """The dataset, a viewer's API token, and one live-chat poll path per chat (for wrk to rotate through)."""
    from django.utils import timezone

    from accounts.roles import Role
    from accounts.services import api_user_create
    from chats.models import Message

    chat_ids = build_crowd(chats=CHATS, bots_per_chat=BOTS_PER_CHAT, history=HISTORY)
    spread_messages(two_hours_s=7200)
    seed_turns()
    configure(active=False)
    _, key = api_user_create(username="bench-viewer", role=Role.VIEWER)
    vacuum_analyze()
    since = (timezone.now() - dt.timedelta(seconds=POLL_OVERLAP_S)).isoformat().replace("+00:00", "Z")
    assert Message.objects.exists()
    return key, [f"/api/messages/?chat={chat_id}&since={since}&limit=200" for chat_id in chat_ids]


def vacuum_analyze() -> None:
    """A steady state: no autovacuum of the fresh rows (and the dead ones the spread left) during the load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def spread_messages(*, two_hours_s: int) -> None:
    """Spread each chat's history evenly over the last two hours, oldest first (the newest is from now)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE chats_message AS m SET created_at = now() - %s * interval '1 second' * (1 - r.rank::float / r.n) "
            "FROM (SELECT id, row_number() OVER (PARTITION BY chat_id ORDER BY id) AS rank, "
            "count(*) OVER (PARTITION BY chat_id) AS n FROM chats_message) AS r WHERE m.id = r.id",
            [two_hours_s],
        )


def seed_turns() -> None:
    """Sent turns over the last hour with LLM latency and tokens (what the summary's series aggregate)."""
    from django.utils import timezone

    from chats.models import Membership
    from engine.models import Turn

    rng = random.Random(5)
    pairs = list(Membership.objects.values_list("chat_id", "bot_id"))
    now = timezone.now()
    turns = []
    for _ in range(TURNS_LAST_HOUR):
        chat_id, bot_id = rng.choice(pairs)
        at = now - dt.timedelta(seconds=rng.uniform(0, 3600))
        fields = {"status": Turn.Status.SENT, "due_at": at, "ready_at": at, "finished_at": at, "llm_calls": 1}
        fields |= {"llm_latency_ms": rng.randint(300, 900), "tokens_in": 440, "tokens_out": 38}
        turns.append(Turn(chat_id=chat_id, bot_id=bot_id, **fields))
    Turn.objects.bulk_create(turns, batch_size=5000)


def run_wrk(*, base: str, path: str, paths: list[str], key: str, clients: int, seconds: float) -> Any:
    """wrk against one path (or rotating through `paths`); the parsed WRK_JSON line."""
    script = WRK_SCRIPT
    if paths:
        quoted = ", ".join(json.dumps(item) for item in paths)
        script += f"local paths = {{{quoted}}}\nlocal i = 0\n"
        script += "function request() i = i % #paths + 1; return wrk.format(nil, paths[i]) end\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="piyasa-wrk-", delete=False) as handle:
        handle.write(script)
    env = {**os.environ, "WRK_TOKEN": key}
    args = ["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s", "-s", handle.name, base + path]
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60)
    finally:
        os.unlink(handle.name)
    match = re.search(r"^WRK_JSON (.*)$", done.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    return json.loads(match.group(1))


def measure(*, base: str, key: str, polls: list[str], clients: int, seconds: float) -> list[LoadResult]:
    """Every endpoint in both modes, after a short warm-up of each."""
    endpoints: dict[str, list[str]] = {"bot list": ["/api/bots/"], "metrics summary": ["/api/metrics/summary"]}
    endpoints["live-chat poll"] = polls
    results = []
    for name, paths in endpoints.items():
        check(base + paths[0], key)
        run_wrk(base=base, path=paths[0], paths=paths, key=key, clients=clients, seconds=3)  # warm-up
        polled = asyncio.run(poll_as_clients(base=base, paths=paths, key=key, clients=clients, seconds=seconds))
        raw = run_wrk(base=base, path=paths[0], paths=paths, key=key, clients=clients, seconds=seconds)
        saturated = LoadResult(
            endpoint=name, mode="saturation", requests=raw["requests"], seconds=raw["duration_us"] / 1e6,
            non2xx=raw["non2xx"], socket_errors=raw["socket_errors"], timeouts=raw["timeouts"],
            p50_ms=raw["p50_us"] / 1000, p95_ms=raw["p95_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
            max_ms=raw["max_us"] / 1000,
        )  # fmt: skip
        for result in (polled._replace_endpoint(name), saturated):
            print(f"bench: {json.dumps({**result.__dict__, 'rps': round(result.rps, 1)})}", flush=True)
            results.append(result)
    return results


async def poll_as_clients(*, base: str, paths: list[str], key: str, clients: int, seconds: float) -> LoadResult:
    """`clients` pollers like open dashboards: wait 0.5–1.5 s, then connect, GET, read the response, close.

    A browser opens (or reuses) its connection when it polls; wrk would connect first and then wait, which
    ties up a server process on an idle connection. Latency runs from the connect to the last byte.
    """
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        rng = random.Random(number)
        while True:
            await asyncio.sleep(rng.uniform(THINK_MS / 2000, THINK_MS * 3 / 2000))
            if time.monotonic() >= deadline:
                return
            path = paths[rng.randrange(len(paths))]
            started = time.perf_counter()
            try:
                status = await _get(host, int(port), path, key)
            except OSError:
                status = 0
            latencies.append((time.perf_counter() - started) * 1000)
            errors[0] += status != 200

    started = time.monotonic()
    await asyncio.gather(*(client(number) for number in range(clients)))
    ordered = sorted(latencies) or [float("nan")]
    return LoadResult(
        endpoint="", mode="clients", requests=len(latencies), seconds=time.monotonic() - started,
        non2xx=errors[0], socket_errors=0, timeouts=0, p50_ms=pct(ordered, 50), p95_ms=pct(ordered, 95),
        p99_ms=pct(ordered, 99), max_ms=ordered[-1],
    )  # fmt: skip


async def _get(host: str, port: int, path: str, key: str) -> int:
    """One HTTP/1.1 GET on a new connection; returns the status after reading the whole response."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        writer.write((request + "Accept: application/json\r\nConnection: close\r\n\r\n").encode())
        await writer.drain()
        response = await reader.read()  # until the server closes: the whole response
        return int(response.split(b" ", 2)[1])
    finally:
        writer.close()


def check(url: str, key: str) -> None:
    """One request by hand first: a wrong status must fail the benchmark, not hide in wrk's counters."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    if isinstance(body, dict) and "results" in body and not body["results"] and "/api/messages/" in url:
        raise RuntimeError(f"the live-chat poll returned no messages: {url}")


def render(*, command: str, facts: dict[str, str], results: list[LoadResult], clients: int, web: str) -> str:
    """The docs/benchmarks.md section."""
    rows = [
        f"| {r.endpoint} | {r.mode} | {r.rps:.0f} | {fmt(r.p50_ms, 1)} | {fmt(r.p95_ms, 1)} | {fmt(r.p99_ms, 1)} "
        f"| {fmt(r.max_ms, 0)} | {r.non2xx + r.socket_errors + r.timeouts} |"
        for r in results
    ]
    verdicts = [
        f"- {r.endpoint}: p95 {fmt(r.p95_ms, 1)} ms at {clients} clients — "
        f"{'met' if r.p95_ms <= TARGET_P95_MS else 'NOT met'} (target ≤ {TARGET_P95_MS:g} ms)"
        for r in results
        if r.mode == "clients"
    ]
    return "\n".join(
        [
            SECTION_TITLE,
            "",
            f"`{command}` — {facts['date']}, {facts['nproc']} cores ({facts['cpu']}), "
            f"PostgreSQL {facts['postgresql']}, Redis {facts['redis']}; {web}; on 127.0.0.1; "
            f"{CHATS} chats × {BOTS_PER_CHAT} bots, {CHATS * HISTORY:,} messages, {TURNS_LAST_HOUR:,} turns in the "
            f"last hour; a viewer's API token. **clients** = {clients} pollers that each wait 0.5–1.5 s, then connect "
            f"and GET (open dashboards; latency from the connect to the last byte); **saturation** = wrk, {clients} "
            "connections back to back.",
            "",
            "| endpoint | mode | requests/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            *verdicts,
            "",
        ]
    )


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Piyasa API load benchmark (bench/README.md)")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0, help="per endpoint and mode")
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn worker processes (2 × cores + 1)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="'-' to write no file")
    parser.add_argument("--quick", action="store_true", help="a smoke run (5 s per run), writes no file")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench.api needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.quick:
        args.seconds = 5.0
        if args.output == str(ROOT / "docs" / "benchmarks.md"):
            args.output = "-"
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.api " + " ".join(argv if argv is not None else sys.argv[1:])
    signal.signal(signal.SIGTERM, _interrupt)
    created_db = False
    try:
        database_url = create_database()
        created_db = True
        env = {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
        env |= {"LOG_LEVEL": "WARNING", "LLM_PROVIDER": "offline"}
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        facts = machine_facts()
        print(f"bench: {facts}", flush=True)
        key, polls = seed()
        _web, base = start_web(env=env, log=logs / "api-web.log", workers=args.web_workers)
        web = f"gunicorn (config/gunicorn.py) {args.web_workers} sync workers"
        results = measure(base=base, key=key, polls=polls, clients=args.clients, seconds=args.seconds)
        report = render(command=command, facts=facts, results=results, clients=args.clients, web=web)
        print("\n" + report)
        if args.output != "-":
            write_section(Path(args.output), report, title=SECTION_TITLE)
        return 0
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        teardown(created_db=created_db)


if __name__ == "__main__":
    sys.exit(main())

"""Soak: the benchmark load for an hour; memory of every process over time and every error counted.

    .venv/bin/python -m bench.soak                    # 100 chats, 8 workers, 60 min (+ ≈ 1 min setup)
    .venv/bin/python -m bench.soak --quick            # 10 chats, 3 workers, 2 min: for CI
    .venv/bin/python -m bench.soak --minutes 240 --chats 300 --workers 20

The capacity benchmark's load (bench.harness: telegram chats × 3 bots at cadence 3/min, fake Groq at 500 ms and
fake Telegram in their own process, one `rqcron` and W `rqworker` processes) plus the web process (gunicorn,
bench.members.start_web) scraped like Prometheus does (`/metrics` every 15 s). Every `--sample` seconds it
records the RSS of each process (cron, each worker, each worker's forked scheduler, fakes, gunicorn master
and workers). Figures: RSS at the start of the measured window (after `--warmup`), at the end and the maximum,
per process; failed turns, turns not finished at the end, `piyasa_collector_errors` seen in scrapes, failed
scrapes, and ERROR/Traceback lines in the processes' logs.

Own database (BENCH_SOAK_DB_NAME, default piyasa_bench_soak) and Redis db (BENCH_REDIS_URL, default redis://127.0.0.1:6379/8).
"""

from __future__ import annotations

import os

os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")

import argparse
import json
import re
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from bench.engine import BOTS_PER_CHAT
from bench.harness import (
    LOGS,
    Stack,
    now_utc,
    open_stack,
    pairs,
    run_guarded,
    settle,
    start_load,
    turn_report,
    use_servers,
)
from bench.members import start_web

METRICS_EVERY_S = 15.0
COLLECTOR_ERRORS = re.compile(r"^piyasa_collector_errors(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", re.MULTILINE)
ERROR_LINE = re.compile(r"\bERROR\b|Traceback \(most recent call last\)")


@dataclass
class Memory:
    role: str
    pid: int
    start_mb: float = 0.0
    mid_mb: float = 0.0  # at half the window: growth that stops early is warm-up, growth that goes on a leak
    end_mb: float = 0.0
    max_mb: float = 0.0
    samples: int = 0

    def sample(self, rss_mb: float, *, measured: bool, second_half: bool) -> None:
        if measured and not self.samples:
            self.start_mb = rss_mb
        if second_half and not self.mid_mb:
            self.mid_mb = rss_mb
        if measured:
            self.samples += 1
            self.end_mb = rss_mb
            self.max_mb = max(self.max_mb, rss_mb)


@dataclass
class SoakResult:
    chats: int
    workers: int
    minutes: float
    warmup_s: float
    memory: list[Memory] = field(default_factory=list)
    sent_per_min: list[float] = field(default_factory=list)
    scrapes: int = 0
    failed_scrapes: int = 0
    collector_errors: int = 0
    error_lines: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    not_terminal: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0


def processes(stack: Stack, web_pid: int) -> dict[int, str]:
    """pid → role of every process of the run, forked children included."""
    roles = {stack.fakes_proc.pid: "fakes"}
    if stack.cron is not None:
        roles[stack.cron.pid] = "cron"
    for number, proc in enumerate(stack.workers, 1):
        roles[proc.pid] = f"worker {number}"
        for child in _children(proc.pid):
            roles[child] = f"worker {number} scheduler"
    roles[web_pid] = "web master"
    for number, child in enumerate(_children(web_pid), 1):
        roles[child] = f"web worker {number}"
    return roles


def _children(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def sample_memory(memory: dict[int, Memory], roles: dict[int, str], *, measured: bool, second_half: bool) -> None:
    """One RSS sample of every process (new pids, e.g. a scheduler forked later, are added)."""
    for pid, role in roles.items():
        try:
            rss = psutil.Process(pid).memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
        memory.setdefault(pid, Memory(role=role, pid=pid)).sample(rss, measured=measured, second_half=second_half)


def scrape(base: str) -> float | None:
    """GET /metrics like Prometheus; the piyasa_collector_errors value, None when the scrape failed."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    match = COLLECTOR_ERRORS.search(text)
    return float(match.group(1)) if match else 0.0


def count_error_lines(logs: list[Path]) -> dict[str, int]:
    """ERROR and traceback lines per log file."""
    counts: dict[str, int] = {}
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        counts[log.name] = sum(1 for line in text.splitlines() if ERROR_LINE.search(line))
    return counts


def sent_last_minute() -> float:
    """Turns sent in the last minute (all chats)."""
    import datetime as dt

    from engine.models import Turn

    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return float(Turn.objects.filter(status=Turn.Status.SENT, finished_at__gte=since).count())


def observe(stack: Stack, *, web: tuple[int, str], result: SoakResult, sample_s: float) -> None:
    """Sample memory, scrape /metrics and count sends until the run's time is up."""
    memory: dict[int, Memory] = {}
    started = time.monotonic()
    end, warm = started + result.minutes * 60 + result.warmup_s, started + result.warmup_s
    next_scrape = next_rate = started
    while (now := time.monotonic()) < end:
        half = now >= (warm + end) / 2
        sample_memory(memory, processes(stack, web[0]), measured=now >= warm, second_half=half)
        if now >= next_scrape:
            value = scrape(web[1])
            result.scrapes += 1
            result.failed_scrapes += value is None
            result.collector_errors += int(value or 0)
            next_scrape = now + METRICS_EVERY_S
        if now >= warm and now >= next_rate:
            result.sent_per_min.append(sent_last_minute())
            next_rate = now + 60
        dead = [p for p in [*stack.engine_procs(), stack.fakes_proc] if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{len(dead)} process(es) exited during the soak; see {stack.log}")
        time.sleep(max(0.0, min(sample_s, end - time.monotonic())))
    result.memory = sorted(memory.values(), key=lambda m: (m.role, m.pid))


def run(*, chats: int, workers: int, minutes: float, warmup_s: float, sample_s: float) -> SoakResult:
    """Start the load and the web process, observe, then judge the turns and the logs."""
    stack = open_stack(bots=chats * BOTS_PER_CHAT, llm_latency=0.5, name="soak")
    result = SoakResult(chats=chats, workers=workers, minutes=minutes, warmup_s=warmup_s)
    web_log = LOGS / "soak-web.log"
    web_log.write_bytes(b"")
    web, base = start_web(env=stack.env, log=web_log, workers=1)  # stopped by the harness' teardown
    start_load(stack, chats=chats, workers=workers)
    print(f"soak: {chats} chats, {workers} workers, web at {base}; {minutes:g} min after {warmup_s:g} s", flush=True)
    observe(stack, web=(web.pid, base), result=result, sample_s=sample_s)
    settle(limit_s=60)
    stats = stack.telegram_stats()
    stack.stop_engine()
    report = turn_report()
    result.statuses, result.not_terminal, result.reasons = report.statuses, report.not_terminal, report.reasons
    result.duplicates = stats["duplicates"]
    result.error_lines = count_error_lines([stack.log, web_log, LOGS / "soak-fakes.log"])
    return result


def render(r: SoakResult, *, command: str) -> str:
    """The figures as printed and pasted into docs/reliability.md."""
    lines = [
        f"Command: `{command}`; {now_utc()}; {os.cpu_count()} CPUs.",
        f"Load: {r.chats} chats × {BOTS_PER_CHAT} bots, {r.workers} workers, cron, fakes, web (1 gunicorn worker, "
        f"/metrics every {METRICS_EVERY_S:g} s); measured for {r.minutes:g} min after a {r.warmup_s:g} s warm-up.",
        "",
        "| process | RSS start (MB) | RSS at half (MB) | RSS end (MB) | RSS max (MB) | growth (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for m in r.memory:
        lines.append(
            f"| {m.role} | {m.start_mb:.1f} | {m.mid_mb:.1f} | {m.end_mb:.1f} | {m.max_mb:.1f} "
            f"| {m.end_mb - m.start_mb:+.1f} |"
        )
    rate = r.sent_per_min
    lines += [
        "",
        f"- sent turns/min (all chats), per minute of the window: min {min(rate, default=0):.0f}, "
        f"max {max(rate, default=0):.0f}, first {rate[0] if rate else 0:.0f}, last {rate[-1] if rate else 0:.0f}",
        f"- turns: {pairs(r.statuses)}; failed turns: **{r.statuses.get('failed', 0)}**; not terminal after the "
        f"run: **{sum(r.not_terminal.values())}**; duplicate sends: **{r.duplicates}**",
        f"- reasons of unsent turns: {pairs(r.reasons) or '—'}",
        f"- /metrics scrapes: {r.scrapes} ({r.failed_scrapes} failed); piyasa_collector_errors summed over scrapes: "
        f"**{r.collector_errors}**",
        f"- ERROR/Traceback log lines: **{sum(r.error_lines.values())}** ({pairs(r.error_lines)})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Piyasa soak: memory and errors over a long run")
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the measured window")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the first measured sample")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between memory samples")
    parser.add_argument("--quick", action="store_true", help="10 chats, 3 workers, 2 min: for CI")
    args = parser.parse_args(argv)
    if args.quick:
        args.chats, args.workers, args.minutes, args.warmup = 10, 3, 2.0, 20.0
    use_servers(db_name=os.environ.get("BENCH_SOAK_DB_NAME", "piyasa_bench_soak"))
    command = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])

    def body() -> int:
        result = run(
            chats=args.chats, workers=args.workers, minutes=args.minutes, warmup_s=args.warmup, sample_s=args.sample
        )
        print(f"soak: {json.dumps(asdict(result))}", flush=True)
        print(render(result, command=command.strip()))
        failed = result.statuses.get("failed", 0) + sum(result.not_terminal.values()) + result.duplicates
        return 0 if failed == 0 and result.collector_errors == 0 else 1

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())

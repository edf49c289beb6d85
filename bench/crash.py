"""Crash safety: SIGKILL workers at random moments under load; no turn is sent twice and every turn finishes.

    .venv/bin/python -m bench.crash                  # 60 chats, 6 workers, 60 kills (≈ 6 min)
    .venv/bin/python -m bench.crash --quick          # 20 chats, 4 workers, 30 kills (≈ 2.5 min)
    .venv/bin/python -m bench.crash --kills 100 --interval 1,5
    .venv/bin/python -m bench.crash --worker-class rq.worker.SimpleWorker   # RQ's plain worker, for comparison

The capacity benchmark's load (bench.harness) with W workers; the fake Telegram takes `--send-latency` (0.3 s)
to answer a sendMessage (and delivers it even when the caller is gone, like Telegram). Every 2-6 s (random) one
worker's process group is killed with SIGKILL — a worker that is running a job is picked when there is one (70 %
of kills), so kills land inside generate and send jobs, including between the Bot API call and the DB write —
and a replacement worker is started at once. After the last kill the simulation is switched off and the run
waits `--settle` seconds (default 60: two recovery sweeps). Figures: duplicate sends (sendMessage of the same
text to the same chat accepted more than once by the fake Telegram; target 0), turns not in a terminal status
at the end of the settle window (target 0), turns `unconfirmed`, and what the killed workers were running.

Own database (BENCH_CRASH_DB_NAME, default piyasa_bench_crash) and Redis db (BENCH_REDIS_URL, default redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import os

os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.engine import BOTS_PER_CHAT
from bench.harness import (
    Stack,
    TurnReport,
    now_utc,
    open_stack,
    pairs,
    run_guarded,
    settle,
    start_load,
    turn_report,
    use_servers,
    use_worker_class,
)

BUSY_PREFERENCE = 0.7


@dataclass
class CrashResult:
    chats: int
    workers: int
    send_latency_s: float = 0.0
    kills: int = 0
    killed_during: dict[str, int] = field(default_factory=dict)
    minutes: float = 0.0
    settle_s: float = 0.0
    all_terminal_after_s: float | None = None
    duplicates: int = 0
    telegram_sent: int = 0
    turns: TurnReport = field(default_factory=TurnReport)

    @property
    def met(self) -> bool:
        return self.duplicates == 0 and not self.turns.not_terminal and self.turns.without_reason == 0


def pick_victim(stack: Stack, rng: random.Random) -> tuple[Any, str]:
    """A worker process to kill and the job it is running ("idle" if none); busy workers are preferred."""
    from rq import Worker

    from engine.redis import redis_connection

    by_pid = {proc.pid: proc for proc in stack.workers}
    busy: list[tuple[Any, str]] = []
    for worker in Worker.all(connection=redis_connection()):
        job = worker.get_current_job()
        if worker.pid in by_pid and job is not None:
            busy.append((by_pid[worker.pid], (job.func_name or "?").rsplit(".", 1)[-1]))
    if busy and rng.random() < BUSY_PREFERENCE:
        return rng.choice(busy)
    proc = rng.choice(stack.workers)
    return proc, next((name for p, name in busy if p is proc), "idle")


def kill_loop(stack: Stack, *, kills: int, interval: tuple[float, float], rng: random.Random) -> Counter[str]:
    """Kill `kills` workers at random intervals, starting a replacement for each."""
    during: Counter[str] = Counter()
    for number in range(1, kills + 1):
        time.sleep(rng.uniform(*interval))
        victim, job = pick_victim(stack, rng)
        stack.kill_worker(victim)
        stack.start_worker()
        during[job] += 1
        if number % 10 == 0:
            print(f"crash: {number} kills ({dict(during)})", flush=True)
        if stack.cron is not None and stack.cron.poll() is not None:
            raise RuntimeError(f"the cron process exited; see {stack.log}")
    return during


def run(
    *, chats: int, workers: int, kills: int, interval: tuple[float, float], settle_s: float, send_latency: float
) -> CrashResult:
    """Load, kills, settle; then judge every turn and the fake Telegram's record."""
    stack = open_stack(bots=chats * BOTS_PER_CHAT, llm_latency=0.5, name="crash")
    result = CrashResult(chats=chats, workers=workers, send_latency_s=send_latency)
    if send_latency:
        # Telegram takes this long to answer a send: kills land between the send and its DB write.
        slow = {"kind": "delay", "method": "sendMessage", "delay": send_latency, "seconds": 1e9}
        stack.control("/telegram/fault", slow)
    start_load(stack, chats=chats, workers=workers)
    started = time.monotonic()
    print(f"crash: load running ({chats} chats, {workers} workers); killing {kills} workers …", flush=True)
    result.killed_during = dict(kill_loop(stack, kills=kills, interval=interval, rng=random.Random(31)))
    result.kills = sum(result.killed_during.values())
    result.minutes = (time.monotonic() - started) / 60
    result.settle_s = settle_s
    result.all_terminal_after_s = settle(limit_s=settle_s)
    stats = stack.telegram_stats()
    stack.stop_engine()
    result.turns = turn_report()
    result.duplicates, result.telegram_sent = stats["duplicates"], stats["sent"]
    return result


def render(r: CrashResult, *, command: str) -> str:
    """The figures as printed and pasted into docs/reliability.md."""
    verdict, t = ("met" if r.met else "NOT met"), r.turns
    return "\n".join(
        [
            f"Command: `{command}`; {now_utc()}; {os.cpu_count()} CPUs.",
            f"Load: {r.chats} chats × {BOTS_PER_CHAT} bots, {r.workers} workers, fake Telegram answering sendMessage "
            f"after {r.send_latency_s:g} s, {r.kills} SIGKILLs in "
            f"{r.minutes:.1f} min (killed while running: {pairs(r.killed_during)}), then {r.settle_s:g} s to settle.",
            f"- duplicate sends (same text accepted twice for a chat by the fake Telegram): **{r.duplicates}** "
            "(target 0)",
            f"- turns not in a terminal status {r.settle_s:g} s after the run: **{sum(t.not_terminal.values())}** "
            f"{pairs(t.not_terminal)} (target 0); all terminal after "
            + (f"{r.all_terminal_after_s:.0f} s" if r.all_terminal_after_s is not None else "—"),
            f"- turns unconfirmed: **{t.statuses.get('unconfirmed', 0)}**; unsent turns without a reason: "
            f"{t.without_reason}",
            f"- turns: {pairs(t.statuses)}; sendMessage accepted by the fake: {r.telegram_sent}, bot messages "
            f"stored: {t.bot_messages}",
            f"- reasons of unsent turns: {pairs(t.reasons) or '—'}",
            *(f"  - unfinished: {line}" for line in t.stuck),
            f"- targets {verdict}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Piyasa crash safety: SIGKILL workers under load")
    parser.add_argument("--chats", type=int, default=60)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--interval", default="2,6", help="seconds between kills: min,max (uniform)")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds after the run before judging")
    parser.add_argument("--send-latency", type=float, default=0.3, help="seconds the fake Telegram takes per send")
    parser.add_argument("--worker-class", default="", help="rqworker --worker-class (e.g. rq.worker.SimpleWorker)")
    parser.add_argument("--quick", action="store_true", help="20 chats, 4 workers, 30 kills: for CI")
    args = parser.parse_args(argv)
    if args.quick:
        args.chats, args.workers, args.kills, args.interval = 20, 4, 30, "1,4"
    low, high = (float(x) for x in args.interval.split(","))
    use_worker_class(args.worker_class)
    use_servers(db_name=os.environ.get("BENCH_CRASH_DB_NAME", "piyasa_bench_crash"))
    command = "python -m bench.crash " + " ".join(argv if argv is not None else sys.argv[1:])

    def body() -> int:
        result = run(
            chats=args.chats,
            workers=args.workers,
            kills=args.kills,
            interval=(low, high),
            settle_s=args.settle,
            send_latency=args.send_latency,
        )
        print(f"crash: {json.dumps(asdict(result))}", flush=True)
        print(render(result, command=command.strip()))
        return 0 if result.met else 1

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())

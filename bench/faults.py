"""Dependency faults: Redis and PostgreSQL restarts, Telegram 429/5xx/timeouts, LLM 5xx/timeouts/429, under load.

    .venv/bin/python -m bench.faults                  # 30 chats, 5 workers, every scenario (≈ 15 min)
    .venv/bin/python -m bench.faults --quick          # 20 chats, 3 workers, short phases (≈ 4 min)
    .venv/bin/python -m bench.faults --only redis,postgres

The capacity benchmark's load (bench.harness) against a private redis-server (AOF on, like docker compose's)
and a private PostgreSQL 15 cluster (initdb as the postgres user, data under /tmp/crash_faults_*), both on free
ports, so restarting them never touches the machine's shared servers. The fakes script the external faults at
runtime (bench.fakes' control server). Scenarios, one after the other with the load running:

- redis / postgres: the server is stopped, stays down (half a phase, at most 10 s), and is started again. Figure:
  seconds from the server being back to the next message the fake Telegram accepted (target ≤ 30 s).
- tg429: every Bot API call answers 429 retry_after=5 for a while. Figure: requests of a bot that arrived before
  its retry_after ran out (more than 1 s after the 429, so not already in flight; target 0).
- tg5xx: every Bot API call answers 502 for a while: retried with backoff, no turn dropped.
- tgtimeout: sendMessage answers after longer than the engine's Telegram timeout (the message is delivered):
  those turns end `unconfirmed`, never resent (no duplicate).
- llm5xx / llmtimeout / llm429: every completion fails (503, a stall longer than LLM_TIMEOUT_S, 429): the
  circuit breaker opens, closes again once the fake recovers, and turns resume. Figures: breaker open/closed
  times, seconds from the fault's end to the next delivered message.

Like docker compose's `restart: unless-stopped`, an engine process that exits is started again (counted).
Finally the simulation is switched off and every turn must reach a terminal status (with a reason when not
`sent`) and no message may be accepted twice by the fake Telegram.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.engine import BOTS_PER_CHAT, _spawn, teardown
from bench.harness import (
    LOGS,
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

PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
DB_NAME = "piyasa_bench_faults"
RECOVERY_TARGET_S = 30.0
TELEGRAM_TIMEOUT_S = 3.0
LLM_TIMEOUT_S = 3.0
RESTARTS = ("redis", "postgres")
SCENARIOS = ("redis", "postgres", "tg429", "tg5xx", "tgtimeout", "llm5xx", "llmtimeout", "llm429")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, *, timeout: float = 30.0) -> None:
    """Until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:g} s")


class PrivateRedis:
    """A redis-server of our own on a free port, AOF on (as in docker compose), restartable."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        args += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        self.proc = _spawn(args, env=dict(os.environ), log=LOGS / "faults-redis.log")
        wait_port(self.port)

    def stop(self) -> None:
        # SIGTERM: Redis flushes the AOF and exits, like `docker compose restart redis`.
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb as the postgres user; it refuses root) on a free port."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.data = root / "pg"
        self.log = root / "pg.log"
        self.root = root

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _as_postgres(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


@dataclass
class Scenario:
    name: str
    fault_s: float = 0.0
    started_at: float = 0.0
    ended_at: float = 0.0  # the fault is over (server back / fake healthy again)
    recovered_after_s: float | None = None  # fault end → next message accepted by the fake Telegram
    breaker: dict[str, float | None] = field(default_factory=dict)
    early_requests: int = 0
    answers: dict[str, int] = field(default_factory=dict)

    @property
    def met(self) -> bool:
        """Deliveries resumed (within RECOVERY_TARGET_S after a restart); an LLM fault opened and closed the breaker."""
        if self.recovered_after_s is None:
            return False
        if self.name in RESTARTS:
            return self.recovered_after_s <= RECOVERY_TARGET_S
        if self.name.startswith("llm"):
            return self.breaker.get("closed_after_end_s") is not None
        return True


@dataclass
class FaultsResult:
    chats: int
    workers: int
    scenarios: list[Scenario] = field(default_factory=list)
    process_restarts: dict[str, int] = field(default_factory=dict)
    all_terminal_after_s: float | None = None
    duplicates: int = 0
    early_requests: int = 0
    turns: TurnReport = field(default_factory=TurnReport)

    @property
    def met(self) -> bool:
        return (
            all(s.met for s in self.scenarios)
            and self.duplicates == 0
            and self.early_requests == 0
            and not self.turns.not_terminal
            and self.turns.without_reason == 0
        )


class Supervisor(threading.Thread):
    """Restarts an exited cron or worker process, like docker compose's `restart: unless-stopped`."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.restarts: Counter[str] = Counter()
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(1.0):
            for proc in list(self.stack.workers):
                if proc.poll() is not None:
                    self.stack.workers.remove(proc)
                    self.stack.start_worker()
                    self.restarts["worker"] += 1
            if self.stack.cron is not None and self.stack.cron.poll() is not None:
                self.stack.start_cron()
                self.restarts["cron"] += 1


def breaker_state() -> str:
    """The LLM circuit breaker's state as the engine sees it (closed when Redis cannot be read)."""
    from engine.clients.llm import breaker_for

    try:
        return str(breaker_for("groq").state())
    except Exception:  # noqa: BLE001 - Redis may be the fault being injected
        return "unknown"


def watch(stack: Stack, scenario: Scenario, *, seconds: float, poll_s: float = 0.5) -> None:
    """Follow the breaker and wait for the first message delivered after the fault ended."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        state = breaker_state()
        now = time.time()
        if state == "open" and scenario.breaker.get("opened_after_s") is None:
            scenario.breaker["opened_after_s"] = now - scenario.started_at
        if state == "closed" and scenario.breaker.get("opened_after_s") is not None and now > scenario.ended_at:
            scenario.breaker.setdefault("closed_after_end_s", now - scenario.ended_at)
        if now > scenario.ended_at and scenario.recovered_after_s is None:
            first = _stats(stack, since=scenario.ended_at).get("first_sent_after")
            if first is not None:
                scenario.recovered_after_s = max(0.0, first - scenario.ended_at)
        if scenario.recovered_after_s is not None and "opened_after_s" not in scenario.breaker:
            return
        if scenario.recovered_after_s is not None and "closed_after_end_s" in scenario.breaker:
            return
        time.sleep(poll_s)


def _stats(stack: Stack, since: float = 0.0) -> dict[str, Any]:
    try:
        return stack.telegram_stats(since)
    except OSError:
        return {}


def restart_scenario(name: str, stop: Callable[[], None], start: Callable[[], None], *, down_s: float) -> Scenario:
    """Stop a server, keep it down, start it again; the fault ends when it accepts connections."""
    scenario = Scenario(name=name, fault_s=down_s, started_at=time.time())
    stop()
    time.sleep(down_s)
    start()
    scenario.ended_at = time.time()
    return scenario


def fake_scenario(stack: Stack, name: str, path: str, spec: dict[str, Any]) -> Scenario:
    """Script a fault on the fakes for spec["seconds"]; returns when it is over."""
    before = _stats(stack)
    scenario = Scenario(name=name, fault_s=float(spec["seconds"]), started_at=time.time())
    scenario.ended_at = scenario.started_at + scenario.fault_s  # the fakes end it themselves
    stack.control(path, spec)
    watch(stack, scenario, seconds=scenario.fault_s)  # records the breaker opening during the fault
    time.sleep(max(0.0, scenario.ended_at - time.time()))
    after = _stats(stack)
    scenario.early_requests = after.get("early_requests", 0) - before.get("early_requests", 0)
    scenario.answers = {
        key: value - before.get("answers", {}).get(key, 0)
        for key, value in after.get("answers", {}).items()
        if value - before.get("answers", {}).get(key, 0) and not key.endswith(":200")
    }
    return scenario


def run_scenario(name: str, stack: Stack, servers: tuple[PrivateRedis, PrivatePostgres], phase_s: float) -> Scenario:
    """One scenario by name."""
    redis, postgres = servers
    down = min(10.0, phase_s / 2)
    faults: dict[str, tuple[str, dict[str, Any]]] = {
        "tg429": ("/telegram/fault", {"kind": "rate_limit", "retry_after": 5}),
        "tg5xx": ("/telegram/fault", {"kind": "server_error", "status": 502}),
        "tgtimeout": ("/telegram/fault", {"kind": "delay", "method": "sendMessage", "delay": TELEGRAM_TIMEOUT_S + 2}),
        "llm5xx": ("/llm/fault", {"kind": "server_error", "status": 503}),
        "llmtimeout": ("/llm/fault", {"kind": "stall", "stall": LLM_TIMEOUT_S + 2}),
        "llm429": ("/llm/fault", {"kind": "rate_limit", "retry_after": 2}),
    }
    if name == "redis":
        return restart_scenario(name, redis.stop, redis.start, down_s=down)
    if name == "postgres":
        return restart_scenario(name, postgres.stop, postgres.start, down_s=down)
    path, spec = faults[name]
    return fake_scenario(stack, name, path, {**spec, "seconds": phase_s})


def run(*, chats: int, workers: int, only: list[str], phase_s: float, settle_s: float) -> FaultsResult:
    """Private servers, the load, every scenario in turn, then settle and judge."""
    root = Path(tempfile.mkdtemp(prefix="crash_faults_", dir="/tmp"))
    try:
        return _run(root, chats=chats, workers=workers, only=only, phase_s=phase_s, settle_s=settle_s)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(root: Path, *, chats: int, workers: int, only: list[str], phase_s: float, settle_s: float) -> FaultsResult:
    redis, postgres = PrivateRedis(root), PrivatePostgres(root)
    redis.start()
    postgres.init()
    postgres.start()
    try:
        use_servers(db_name=DB_NAME, pg_url=postgres.url, redis_url=redis.url)
        timeouts = {"TELEGRAM_TIMEOUT_S": str(TELEGRAM_TIMEOUT_S), "LLM_TIMEOUT_S": str(LLM_TIMEOUT_S)}
        stack = open_stack(bots=chats * BOTS_PER_CHAT, llm_latency=0.5, name="faults", extra_env=timeouts)
        result = FaultsResult(chats=chats, workers=workers)
        start_load(stack, chats=chats, workers=workers)
        supervisor = Supervisor(stack)
        supervisor.start()
        time.sleep(phase_s)  # steady state first
        for name in only:
            print(f"faults: {name} …", flush=True)
            scenario = run_scenario(name, stack, (redis, postgres), phase_s)
            watch(stack, scenario, seconds=max(phase_s, 45.0))
            result.scenarios.append(scenario)
            _close_django()  # this process's own connection did not survive a PostgreSQL restart
            print(f"faults: {json.dumps(asdict(scenario))}", flush=True)
        result.all_terminal_after_s = settle(limit_s=settle_s)
        supervisor.halt.set()
        stats = _stats(stack)
        stack.stop_engine()
        result.process_restarts = dict(supervisor.restarts)
        result.duplicates, result.early_requests = stats.get("duplicates", -1), stats.get("early_requests", -1)
        result.turns = turn_report()
        return result
    finally:
        _close_django()
        teardown(created_db=False)  # every process, the private redis-server included, before the cluster goes
        postgres.stop("immediate")


def _close_django() -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django may not be set up
        pass


def render(r: FaultsResult, *, command: str) -> str:
    """The figures as printed and pasted into docs/reliability.md."""
    t = r.turns
    lines = [
        f"Command: `{command}`; {now_utc()}; {os.cpu_count()} CPUs.",
        f"Load: {r.chats} chats × {BOTS_PER_CHAT} bots, {r.workers} workers, private redis-server (AOF) and "
        f"PostgreSQL 15; Telegram timeout {TELEGRAM_TIMEOUT_S:g} s, LLM timeout {LLM_TIMEOUT_S:g} s.",
        "",
        "| scenario | fault | next delivered message after the fault ended | breaker | early requests "
        "| error answers during the fault |",
        "|---|---|---|---|---|---|",
    ]
    for s in r.scenarios:
        recovered = "never" if s.recovered_after_s is None else f"{s.recovered_after_s:.1f} s"
        lines.append(
            f"| {s.name} | {s.fault_s:g} s | {recovered} | {_breaker(s)} | {s.early_requests} | "
            f"{pairs(s.answers) or '—'} |"
        )
    lines += [
        "",
        f"- duplicate sends: **{r.duplicates}** (target 0); requests before retry_after: **{r.early_requests}** "
        "(target 0)",
        f"- turns not terminal after the run: **{sum(t.not_terminal.values())}** (target 0); all terminal after "
        + (f"{r.all_terminal_after_s:.0f} s" if r.all_terminal_after_s is not None else "—")
        + f"; unsent turns without a reason: {t.without_reason}",
        f"- turns: {pairs(t.statuses)}; reasons of unsent turns: {pairs(t.reasons) or '—'}",
        f"- engine processes restarted by the supervisor: {pairs(r.process_restarts) or 'none'}",
        f"- targets {'met' if r.met else 'NOT met'} (deliveries ≤ {RECOVERY_TARGET_S:g} s after a restart, resumed "
        "after every fake fault, the breaker opened and closed for every LLM fault)",
    ]
    return "\n".join(lines)


def _breaker(s: Scenario) -> str:
    opened, closed = s.breaker.get("opened_after_s"), s.breaker.get("closed_after_end_s")
    if opened is None:
        return "stayed closed"
    return f"open after {opened:.0f} s, closed {closed:.0f} s after the end" if closed is not None else "open"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Piyasa dependency faults under load")
    parser.add_argument("--chats", type=int, default=30)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios, in order")
    parser.add_argument("--phase", type=float, default=30.0, help="seconds each fake fault lasts")
    parser.add_argument("--settle", type=float, default=240.0, help="seconds allowed for every turn to finish")
    parser.add_argument("--worker-class", default="", help="rqworker --worker-class (e.g. rq.worker.SimpleWorker)")
    parser.add_argument("--quick", action="store_true", help="20 chats, 3 workers, 20 s phases, 5 scenarios: for CI")
    args = parser.parse_args(argv)
    if args.quick:
        # Enough chats and time that the LLM fault sees more failures than the breaker's threshold even while
        # some chats still wait on turns held up by the Telegram faults before it.
        args.chats, args.workers, args.phase, args.settle = 20, 3, 20.0, 120.0
        if args.only == ",".join(SCENARIOS):
            args.only = "redis,postgres,tg429,tg5xx,llm5xx"
    only = [name for name in args.only.split(",") if name]
    use_worker_class(args.worker_class)
    if unknown := set(only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    command = "python -m bench.faults " + " ".join(argv if argv is not None else sys.argv[1:])

    def body() -> int:
        result = run(chats=args.chats, workers=args.workers, only=only, phase_s=args.phase, settle_s=args.settle)
        print(f"faults: {json.dumps(asdict(result))}", flush=True)
        print(render(result, command=command.strip()))
        return 0 if result.met else 1

    return run_guarded(body, drop_db=False)  # the private cluster is deleted with its database


if __name__ == "__main__":
    sys.exit(main())

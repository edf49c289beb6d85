"""`make run`: the whole system in one terminal — embedded Redis, web, worker and cron — stopped together.

Usage: python -m config.runstack [--port 8000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from config.embedded_redis import EmbeddedRedis, die_with_parent

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]


def _processes(port: int) -> dict[str, list[str]]:
    return {
        "web": [*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [*MANAGE, "rqworker", "high", "default", "low", "--with-scheduler", "-v", "0"],
        "cron": [*MANAGE, "rqcron", "config.cron"],
        "chat": [*MANAGE, "tail_chat"],
    }


def _start_redis(env: dict[str, str]) -> EmbeddedRedis | None:
    if env.get("REDIS_URL"):
        return None
    var_dir = Path(env.get("PIYASA_VAR_DIR", BASE_DIR / "var"))
    server = EmbeddedRedis(var_dir / "redis").start()
    env["REDIS_URL"] = server.url
    print(f"embedded Redis on {server.url}", flush=True)
    return server


def _reset_metrics(env: dict[str, str]) -> None:
    # Counters restart with the stack; files of processes from an earlier run would be summed forever.
    var_dir = Path(env.get("PIYASA_VAR_DIR", BASE_DIR / "var"))
    shutil.rmtree(env.get("METRICS_DIR") or var_dir / "metrics", ignore_errors=True)


def _stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM each child's whole process group (RQ's scheduler is a fork of the worker), wait, then SIGKILL."""
    for child in children.values():
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_group_alive(child.pid) for child in children.values()):
        for child in children.values():
            child.poll()
        time.sleep(0.1)
    for child in children.values():
        _signal_group(child.pid, signal.SIGKILL)
        child.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    env = dict(os.environ)
    redis_server = _start_redis(env)
    _reset_metrics(env)
    # Each child in its own session: Ctrl-C reaches only this runner, which stops them in order (and
    # Redis last); the kernel still ends them if the runner itself dies.
    children = {
        name: subprocess.Popen(cmd, env=env, start_new_session=True, preexec_fn=die_with_parent)
        for name, cmd in _processes(args.port).items()
    }
    signal.signal(signal.SIGTERM, _interrupt)
    print(
        f"\n  Piyasa is running: http://127.0.0.1:{args.port}/  (Ctrl-C stops everything)\n"
        "  Log in as admin with the password in var/admin_password (printed above on the first run).\n"
        "  The demo crowd's messages appear below as they are sent.\n",
        flush=True,
    )
    exit_code = 0
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        failed = [name for name, child in children.items() if child.poll() is not None]
        print(f"stopping: {', '.join(failed)} exited", file=sys.stderr, flush=True)
        exit_code = 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        _stop_all(children)
        if redis_server is not None:
            redis_server.stop()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.test import SimpleTestCase

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _descendants(pid: int) -> set[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    found = {int(child) for child in children}
    for child in list(found):
        found |= _descendants(child)
    return found


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


class RunstackTests(SimpleTestCase):
    def start_stack(self) -> tuple[subprocess.Popen[str], set[int]]:
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
        env["PIYASA_VAR_DIR"] = self.enterContext(tempfile.TemporaryDirectory())
        stack = subprocess.Popen(
            [sys.executable, "-m", "config.runstack", "--port", str(_free_port())],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline, started = time.monotonic() + 30, set()
        while time.monotonic() < deadline:
            started = _descendants(stack.pid)
            if len(started) >= 5:  # redis, web, worker, cron, chat tail
                break
            time.sleep(0.2)
        self.assertGreaterEqual(len(started), 5, "embedded Redis, web, worker, cron and the chat tail")
        self.assertTrue((Path(env["PIYASA_VAR_DIR"]) / "redis" / "redis.sock").exists())
        return stack, started

    def assert_all_gone(self, pids: set[int]) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.1)
        self.assertEqual([pid for pid in pids if _alive(pid)], [], "no process outlives make run")

    def test_it_starts_everything_and_ctrl_c_stops_everything(self) -> None:
        stack, started = self.start_stack()
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=30)
        self.assertEqual(stack.returncode, 0)
        self.assert_all_gone(started)

    def test_nothing_survives_the_runner_being_killed(self) -> None:
        stack, started = self.start_stack()
        stack.send_signal(signal.SIGKILL)
        stack.wait(timeout=10)
        self.assert_all_gone(started)

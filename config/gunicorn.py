"""gunicorn settings of the web process: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Sync workers, 2 × cores + 1 processes (WEB_CONCURRENCY): every request is short (the slow calls to Telegram
and the LLM happen in RQ workers, never in web), and a sync worker serves one request per connection, so an
idle client never holds a process (docs/decisions/003-gunicorn-sync-workers.md). The docker entrypoint and
the benchmarks use this file; every value can be overridden on the command line or by the environment
variables below.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# No max_requests recycling: every new worker process leaves its prometheus_client files in METRICS_DIR for
# good (a dead worker's counters must keep counting), and each one makes /metrics slower to merge.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None

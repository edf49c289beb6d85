"""gunicorn settings of the web process: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Threaded workers (`gthread`): a request mostly waits on PostgreSQL and Redis, so a few threads per process
overlap those waits, and several processes use every core. The docker entrypoint and the API benchmark use
this file; every value can be overridden on the command line or by the environment variables below.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
keepalive = 5
timeout = 30
graceful_timeout = 20
# Recycle a worker now and then: bounds slow memory growth without a restart of the service.
max_requests = 20_000
max_requests_jitter = 2_000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# No child_exit hook for prometheus_client: the app exports no per-process gauges (they are computed at scrape
# time, monitoring/collectors.py), and a recycled worker's counters must keep counting.

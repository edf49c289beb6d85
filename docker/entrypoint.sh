#!/bin/sh
# Container entrypoint: one image, one role per container.
#   web          migrate, then serve with gunicorn on :8000 (compose)
#   serve        gunicorn on :8000 without migrating (Kubernetes: the piyasa-migrate Job migrates)
#   worker       RQ worker on the high, default and low queues, with the scheduler for delayed jobs
#   cron         the one periodic-job process (config/cron.py); run exactly one
#   healthcheck ROLE   exit 0 if this container's ROLE process is healthy (used by docker-compose.yml)
#   anything else      passed to manage.py, e.g. `createsuperuser` or `shell`
set -eu

cd /app

require_services() {
    # The embedded Redis/SQLite defaults are for `make run`; a container must be pointed at real services.
    if [ -z "${REDIS_URL:-}${REDIS_URL_FILE:-}" ]; then
        echo "entrypoint: REDIS_URL is not set; containers do not start an embedded Redis" >&2
        exit 64
    fi
    if [ -z "${DATABASE_URL:-}${DATABASE_URL_FILE:-}" ]; then
        echo "entrypoint: DATABASE_URL (or DATABASE_URL_FILE) is not set" >&2
        exit 64
    fi
}

# REDIS_URL, or the file REDIS_URL_FILE names (a Kubernetes/compose secret), as config/settings.py reads it.
REDIS_URL_PY='
import os
def redis_url():
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    with open(os.environ["REDIS_URL_FILE"], encoding="utf-8") as handle:
        return handle.read().strip()
'

healthcheck() {
    case "${1:-web}" in
        web)
            exec python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"
            ;;
        worker)
            # Healthy while an RQ worker from this container (same hostname) is registered in Redis.
            exec python -c "$REDIS_URL_PY
import os, socket, sys
from redis import Redis
from rq import Worker
connection = Redis.from_url(redis_url(), socket_timeout=3)
sys.exit(0 if any(w.hostname == socket.gethostname() for w in Worker.all(connection=connection)) else 1)
"
            ;;
        cron)
            # The cron scheduler heartbeats at least every 60 s; its registry name starts with the hostname.
            exec python -c "$REDIS_URL_PY
import os, socket, sys, time
from redis import Redis
from rq.cron_scheduler_registry import get_registry_key
connection = Redis.from_url(redis_url(), socket_timeout=3)
fresh = connection.zrangebyscore(get_registry_key(), time.time() - 120, '+inf')
sys.exit(0 if any(name.decode().startswith(socket.gethostname() + ':') for name in fresh) else 1)
"
            ;;
        *)
            echo "entrypoint: unknown healthcheck role: $1" >&2
            exit 64
            ;;
    esac
}

serve() {
    # config/gunicorn.py: WEB_CONCURRENCY sync worker processes (default 2 × cores + 1), access log on stdout.
    # No control socket: nothing uses gunicornc, and its default place ($HOME/.gunicorn = /app) is read-only.
    exec gunicorn -c config/gunicorn.py --no-control-socket config.wsgi:application "$@"
}

role="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$role" in
    web)
        require_services
        # Scale web to several replicas only after this first one has migrated: concurrent migrate runs race.
        python manage.py migrate --noinput
        serve "$@"
        ;;
    serve)
        require_services
        serve "$@"
        ;;
    worker)
        require_services
        exec python manage.py rqworker high default low --with-scheduler "$@"
        ;;
    cron)
        require_services
        exec python manage.py rqcron config.cron "$@"
        ;;
    healthcheck)
        healthcheck "$@"
        ;;
    *)
        exec python manage.py "$role" "$@"
        ;;
esac

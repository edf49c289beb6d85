#!/usr/bin/env bash
# Builds docker/Dockerfile with podman and starts the image (a .ci/run step; docs/deployment.md):
# web migrates and answers /health/live and /health/ready, a worker and cron start and pass their
# healthchecks, every container runs as the non-root user with a read-only root filesystem (as the
# Kubernetes pods do), gunicorn logs no permission error, `manage.py backup` works with the image's pg_dump,
# and the image's size is reported.
# The base is the Debian-bootstrapped stand-in of docker/ci-base.sh, given as BASE_IMAGE, so the very
# Dockerfile that ships is built. Containers use the host's network and its PostgreSQL and Redis, with a
# database and a Redis database index of their own, removed at the end.
#
# Facts of this machine the script encodes: podman's default runtime crun fails every RUN here
# ("cgroups in hybrid mode not supported"), so runc is selected; root lacks CAP_SYS_RESOURCE, so ulimits
# are given explicitly; pip in the build trusts the host's CA bundle and uses the host's index through a
# mounted folder (a single-file mount would leave an empty file in the image); --format docker keeps
# HEALTHCHECK, which podman cannot run without systemd (--no-healthcheck).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PG_URL="${PIYASA_CI_PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_HOST_PORT="${PIYASA_CI_REDIS:-127.0.0.1:6379}"
IMAGE="localhost/piyasa:ci"
RUN_ID="$(date +%s)-$$"
DB="piyasa_image_${RUN_ID//-/_}"
WORK="$(mktemp -d)"
CONTAINERS=()

log() { printf 'ci-image: %s\n' "$*"; }

cleanup() {
    local name
    for name in "${CONTAINERS[@]}"; do podman rm -f -t 5 "$name" >/dev/null 2>&1 || true; done
    psql "$PG_URL/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    if [ -n "${REDIS_DB:-}" ]; then redis-cli -u "redis://$REDIS_HOST_PORT/$REDIS_DB" FLUSHDB >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# runc instead of crun, and explicit ulimits (see above).
cat >"$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A Redis database index nobody uses now (the host's Redis is shared with the test steps).
pick_redis_db() {
    local index
    for index in $(shuf -i 1-15); do
        if [ "$(redis-cli -u "redis://$REDIS_HOST_PORT/$index" DBSIZE)" = "0" ]; then
            echo "$index"
            return 0
        fi
    done
    echo "no empty Redis database index" >&2
    return 1
}

build() {
    local base started previous
    base="$(bash docker/ci-base.sh)"
    # pip in the build: the host's CA bundle and index, from a folder mounted for the build only.
    mkdir -p "$WORK/pip"
    cp /etc/ssl/certs/ca-certificates.crt "$WORK/pip/ca-certificates.crt"
    printf '[global]\nindex-url = %s\ncert = /etc/xdg/pip/ca-certificates.crt\n' \
        "$(pip3 config get global.index-url 2>/dev/null || echo https://pypi.org/simple)" >"$WORK/pip/pip.conf"
    log "building $IMAGE on $base"
    started=$(date +%s)
    previous="$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    podman build --quiet --format docker --network host --build-arg "BASE_IMAGE=$base" \
        --volume "$WORK/pip:/etc/xdg/pip:ro" -f docker/Dockerfile -t "$IMAGE" . >/dev/null
    log "built in $(($(date +%s) - started))s; size $(podman image inspect --format '{{.Size}}' "$IMAGE" |
        awk '{printf "%.0f MB", $1 / 1e6}') ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
    # The last run's image, untagged by this build: removed, so runs do not pile up images (its cached
    # dependency layers stay while the new image shares them).
    if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]; then
        podman rmi "$previous" >/dev/null 2>&1 || true
    fi
}

# run ROLE: a container of the image as Kubernetes runs it (read-only root, writable /tmp and /metrics), named
# piyasa-ci-ROLE-RUN_ID. Not in a $(...) subshell: CONTAINERS must reach the cleanup.
run() {
    local name="piyasa-ci-$1-$RUN_ID"
    CONTAINERS+=("$name")
    podman run -d --name "$name" --network host --no-healthcheck --read-only \
        --tmpfs /tmp:rw,mode=1777 --tmpfs /metrics:rw,mode=1777 \
        -e DATABASE_URL="$PG_URL/$DB" -e REDIS_URL="redis://$REDIS_HOST_PORT/$REDIS_DB" \
        -e SECRET_KEY="$SECRET_KEY" -e TOKEN_ENCRYPTION_KEYS="$TOKEN_KEY" \
        -e ALLOWED_HOSTS=127.0.0.1 -e GUNICORN_BIND="127.0.0.1:$PORT" -e WEB_CONCURRENCY=2 \
        -e METRICS_DIR=/metrics -e PIYASA_VAR_DIR=/tmp/piyasa -e LLM_PROVIDER=offline \
        "$IMAGE" "$1" >/dev/null
}

# wait_http PATH SECONDS CONTAINER: until the web container answers 200 on PATH.
wait_http() {
    local deadline=$(($(date +%s) + $2)) code
    while :; do
        code="$(curl -s -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$PORT$1" || true)"
        if [ "$code" = 200 ]; then
            log "GET $1 -> 200 $(head -c 200 "$WORK/body")"
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ] || [ "$(podman inspect --format '{{.State.Running}}' "$3")" != true ]; then
            log "GET $1 -> ${code:-no answer} $(head -c 300 "$WORK/body" 2>/dev/null)"
            podman logs --tail 40 "$3" >&2
            return 1
        fi
        sleep 1
    done
}

# wait_healthy ROLE CONTAINER SECONDS: until the entrypoint's healthcheck for ROLE passes inside it.
wait_healthy() {
    local deadline=$(($(date +%s) + $3))
    until podman exec "$2" /app/docker/entrypoint.sh healthcheck "$1" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "$1 not healthy after $3 s"
            podman logs --tail 40 "$2" >&2
            return 1
        fi
        sleep 2
    done
    log "$1 healthy"
}

check_user() {
    local uid
    uid="$(podman exec "$1" id -u)"
    [ "$uid" != 0 ] || { log "$1 runs as root"; return 1; }
    log "$1 runs as uid $uid ($(podman exec "$1" id -un))"
}

start_and_check() {
    local web="piyasa-ci-web-$RUN_ID" worker="piyasa-ci-worker-$RUN_ID" cron="piyasa-ci-cron-$RUN_ID" started
    psql "$PG_URL/postgres" -qAt -c "CREATE DATABASE \"$DB\""
    REDIS_DB="$(pick_redis_db)"
    PORT="$(free_port)"
    SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')"
    TOKEN_KEY="$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
    log "database $DB, Redis database $REDIS_DB, web on 127.0.0.1:$PORT"
    started=$(date +%s)
    run web
    wait_http /health/live 180 "$web"
    log "web migrated and live in $(($(date +%s) - started))s"
    run worker
    run cron
    wait_healthy worker "$worker" 90
    wait_healthy cron "$cron" 90
    wait_http /health/ready 90 "$web"
    for name in "$web" "$worker" "$cron"; do check_user "$name"; done
    if podman logs "$web" 2>&1 | grep -E 'Permission denied|Control server error|Traceback'; then
        log "web logged the errors above"
        return 1
    fi
    log "no permission error or traceback in web's log"
    # The image's own pg_dump against this server, as the backup CronJob runs it (manage.py backup).
    local backup
    backup="$(podman exec "$web" python manage.py backup --dir /tmp/backups)"
    log "$(podman exec "$web" pg_dump --version): $backup"
}

build
start_and_check
log "image built and started; containers, database and Redis database removed on exit"

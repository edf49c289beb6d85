"""Preflight: is everything the crowd needs reachable and configured? A typed report, one line per check."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import QuerySet
from django_rq import get_connection
from rq import Worker

from bots.models import Bot
from config.logging import redact
from config.queries import database_ping
from engine.clients import loops
from engine.clients.llm import LlmError, LlmRequest, client_from_settings
from engine.clients.telegram import BotIdentity, TelegramClient, TelegramClientError, TelegramSession
from engine.heartbeat import heartbeat_age_s
from engine.providers import ProviderSpec, provider_spec
from engine.queues import QueueName
from engine.services.webhooks import listening_bots

QUEUES = tuple(str(name) for name in QueueName)
# The cron tick records the heartbeat every 2 s, also while the simulation is stopped.
HEARTBEAT_MAX_AGE_S = 60.0
TELEGRAM_CONCURRENCY = 8
# getMe's `can_read_all_group_messages` is false while privacy mode is on: the bot then gets only commands,
# mentions and replies to its own messages in a group.
PRIVACY_WARNING = (
    "privacy mode is on: the bot will not see members' ordinary messages, only commands, mentions and replies "
    "to it. Fix: in @BotFather, /setprivacy → the bot → Disable, then remove the bot from the group and add it "
    "again; or make the bot a group admin"
)


class Status(StrEnum):
    """A check's verdict; only `fail` makes the preflight fail."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"


@dataclass(frozen=True)
class Check:
    """One check: what was checked, its verdict and a one-line detail (never a secret)."""

    name: str
    status: Status
    detail: str


@dataclass
class Report:
    """Every check of one preflight run."""

    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if check.status == Status.FAIL]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}


def preflight_run(*, llm_call: bool = False, bots: QuerySet[Bot] | None = None) -> Report:
    """Run every check; `llm_call` also makes one tiny completion through the configured LLM client; `bots` narrows
    the per-bot checks (e.g. to one chat's bots)."""
    report = Report()
    for name, check in _CHECKS:
        report.checks.append(_guarded(name, check))
    report.checks.append(_guarded("llm", lambda: check_llm(call=llm_call)))
    report.checks.extend(check_bots(bots))
    return report


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """Run a check; an unexpected exception is a failure of that check, not of the whole preflight."""
    try:
        return check()
    except Exception as error:  # noqa: BLE001 - any error means this check failed; the reason is reported
        return Check(name, Status.FAIL, clean_line(f"{type(error).__name__}: {error}"))


def check_database() -> Check:
    """The database answers SELECT 1."""
    database_ping()
    return Check("database", Status.OK, f"{connection.vendor}: SELECT 1 answered")


def check_migrations() -> Check:
    """No migration is left unapplied."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return Check("migrations", Status.OK, "all migrations applied")
    names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5]) + (" …" if len(plan) > 5 else "")
    return Check("migrations", Status.FAIL, f"{len(plan)} unapplied (run `manage.py migrate`): {names}")


def check_redis() -> Check:
    """Redis answers PING."""
    get_connection("default").ping()
    return Check("redis", Status.OK, "PING answered")


def check_heartbeat() -> Check:
    """The cron process ticked recently."""
    age = heartbeat_age_s()
    if age is None:
        return Check("cron heartbeat", Status.WARN, "no heartbeat yet: is `manage.py rqcron config.cron` running?")
    if age > HEARTBEAT_MAX_AGE_S:
        return Check("cron heartbeat", Status.WARN, f"stale: last tick {age:.0f} s ago")
    return Check("cron heartbeat", Status.OK, f"last tick {age:.1f} s ago")


def check_workers() -> Check:
    """At least one RQ worker listens on every queue."""
    workers = Worker.all(connection=get_connection("default"))
    listened = {name for worker in workers for name in worker.queue_names()}
    missing = [name for name in QUEUES if name not in listened]
    if not workers:
        return Check("workers", Status.WARN, "no RQ worker registered: turns will not be generated or sent")
    if missing:
        return Check("workers", Status.WARN, f"{len(workers)} worker(s), none on queue(s) {', '.join(missing)}")
    return Check("workers", Status.OK, f"{len(workers)} worker(s) on {', '.join(QUEUES)}")


_CHECKS: tuple[tuple[str, Callable[[], Check]], ...] = (
    ("database", check_database),
    ("migrations", check_migrations),
    ("redis", check_redis),
    ("cron heartbeat", check_heartbeat),
    ("workers", check_workers),
)


def check_llm(*, call: bool = False) -> Check:
    """The configured provider has what it needs; with `call`, one tiny real completion."""
    spec = provider_spec(settings.LLM_PROVIDER)
    for name in spec.required_settings:
        if not getattr(settings, name):
            return Check("llm", Status.FAIL, f"{spec.name}: {name} is not set")
    if not call:
        return Check("llm", Status.OK, _llm_config(spec))
    return _llm_call()


def _llm_config(spec: ProviderSpec) -> str:
    """What the provider is configured with, from its spec: its server, key and model."""
    endpoint = getattr(settings, spec.endpoint_setting) if spec.endpoint_setting else None
    if not (endpoint or spec.required_settings or spec.model_setting):
        return f"{spec.name} provider (no key needed)"
    parts = [str(endpoint)] if endpoint else []
    parts += ["key set"] if spec.required_settings else []
    parts += [f"model {getattr(settings, spec.model_setting)}"] if spec.model_setting else []
    return f"{spec.name}: {', '.join(parts)} (not called; --llm-call makes one request)"


def _llm_call() -> Check:
    request = LlmRequest(messages=[{"role": "user", "content": "Reply with one word: ok"}], max_tokens=5, seed=1)
    try:
        response = loops.run(client_from_settings().complete(request))
    except LlmError as error:
        return Check("llm", Status.FAIL, clean_line(f"{settings.LLM_PROVIDER}: {type(error).__name__}: {error}"))
    detail = f"{response.provider}: {response.model} answered in {response.latency_ms} ms"
    return Check("llm", Status.OK, f"{detail} ({response.tokens_in}+{response.tokens_out} tokens)")


# --- Telegram, per bot ---


@dataclass(frozen=True)
class _BotProbe:
    """What preflight knows about one enabled bot with a token (the token stays in this process)."""

    label: str
    username: str
    token: str
    listening: bool = False


def check_bots(bots: QuerySet[Bot] | None = None) -> list[Check]:
    """getMe and getWebhookInfo for every enabled bot with a token (of `bots`, else all); token-less bots are
    sandbox only; a listening bot with privacy mode on is a warning."""
    checks, probes = [], []
    listening = set(listening_bots().values_list("pk", flat=True))
    for bot in (Bot.objects.all() if bots is None else bots).filter(is_enabled=True).order_by("name", "id"):
        label = f"bot {bot.name} [{bot.masked_token or 'no token'}]"
        if bot.has_token:
            probes.append(_BotProbe(label, bot.username, bot.token, bot.pk in listening))
        else:
            checks.append(Check(label, Status.INFO, "sandbox only (no token)"))
    with ThreadPoolExecutor(max_workers=TELEGRAM_CONCURRENCY, thread_name_prefix="preflight") as pool:
        for pair in pool.map(_probe, probes):
            checks.extend(pair)
    return checks


def _probe(probe: _BotProbe) -> list[Check]:
    async def calls(session: TelegramSession) -> tuple[BotIdentity, dict[str, Any]]:
        return await session.get_me(), await session.get_webhook_info()

    client = TelegramClient(probe.token, timeout=settings.TELEGRAM_TIMEOUT_S)
    try:
        identity, webhook = client.run(calls)
    except TelegramClientError as error:
        detail = clean_line(str(error), probe.token)
        return [Check(f"{probe.label} getMe", Status.FAIL, detail)]
    return [_identity_check(probe, identity), _webhook_check(probe, webhook)]


def _identity_check(probe: _BotProbe, identity: BotIdentity) -> Check:
    name = f"{probe.label} getMe"
    if probe.username and identity.username.lower() != probe.username.lower():
        return Check(name, Status.WARN, f"token belongs to @{identity.username}, stored username is @{probe.username}")
    groups = "" if identity.can_join_groups else "; cannot join groups"
    if probe.listening and not identity.can_read_all_group_messages:
        return Check(name, Status.WARN, f"@{identity.username} (id {identity.id}){groups}; {PRIVACY_WARNING}")
    return Check(name, Status.OK, f"@{identity.username} (id {identity.id}){groups}")


def _webhook_check(probe: _BotProbe, info: dict[str, Any]) -> Check:
    name = f"{probe.label} webhook"
    url, pending, error = info.get("url") or "", info.get("pending_update_count", 0), info.get("last_error_message")
    where = f"url {url}" if url else "no webhook (polling)"
    if error:
        return Check(name, Status.WARN, clean_line(f"{where}, {pending} pending, last error: {error}", probe.token))
    return Check(name, Status.OK, clean_line(f"{where}, {pending} pending", probe.token))


def clean_line(text: str, token: str = "") -> str:
    """One line, with no token in it."""
    if token:
        text = text.replace(token, "[redacted-token]")
    return " ".join(redact(text).split())

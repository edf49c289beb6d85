"""Schemathesis against the API in-process: the WSGI app, one role at a time, every phase of `st run`.

Requests go through Django's WSGI handler in schemathesis' worker threads, so callers need committed data
(a TransactionTestCase). The target app counts requests and statuses, records every 5xx, and checks every
response body for the texts it must not leak (bot tokens). Used by config/tests/test_api_fuzz.py: `make test` runs
the quick budget; CI's "API fuzz" step sets PIYASA_API_FUZZ=full (docs/reliability.md, "Bad input").
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from django.contrib.auth.models import User
from django.core.wsgi import get_wsgi_application
from django.db import connection
from schemathesis.engine import events, from_schema

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.selectors import PREFIX_LENGTH, key_digest
from accounts.services import user_set_role

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Writes there may delete, disable, demote or revoke the fuzzing user itself; it is restored after each one.
SELF_AFFECTING = ("/api/users/", "/api/auth/")
# Checks left out, and why (docs/reliability.md, "Bad input"):
# - positive_data_acceptance: the server also enforces what OpenAPI cannot express (unique names, references
#   to rows that exist, IANA timezones, cross-field rules), so schema-valid input is rightly refused at times;
# - negative_data_rejection: DRF and Django's form fields parse leniently input that still has one meaning
#   (numbers sent as text and text as numbers, dates without a time or zone, booleans spelt yes/on/1, and an
#   unknown boolean filter value means "no filter"), where the schema's formats are strict;
# - ignored_auth: schemathesis 4.32.5 sends its no-auth probe with socket options the WSGI transport rejects
#   (EnvironBuilder gets max_redirects); authentication of every endpoint is the role matrix's job
#   (config/tests/test_api_roles.py).
EXCLUDED_CHECKS = ("positive_data_acceptance", "negative_data_rejection", "ignored_auth")
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Budget:
    """How much to generate: examples per operation in the fuzzing phase, and which other phases run."""

    examples: int
    coverage: bool
    stateful: bool
    min_requests: int  # per role: fewer means generation went wrong (e.g. operations skipped)

    def phases(self) -> dict[str, Any]:
        return {"coverage": {"enabled": self.coverage}, "stateful": {"enabled": self.stateful}}


# quick: a few random examples per operation, for every `make test`; full: every phase of `st run` (≈ 2 min).
BUDGETS = {
    "quick": Budget(examples=5, coverage=False, stateful=False, min_requests=250),
    "full": Budget(examples=35, coverage=True, stateful=True, min_requests=2000),
}


def budget_from_env() -> Budget:
    """The budget PIYASA_API_FUZZ names (quick by default)."""
    return BUDGETS[os.environ.get("PIYASA_API_FUZZ", "") or "quick"]


@dataclass
class Principal:
    """The user the run authenticates as; restored after every request that may have changed it."""

    role: Role
    key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def username(self) -> str:
        return f"fuzz-{self.role.value}"

    def ensure(self) -> None:
        """The user exists, is active, has the role and the token."""
        user, _ = User.objects.update_or_create(
            username=self.username, defaults={"is_active": True, "is_superuser": False, "is_staff": False}
        )
        user_set_role(user=user, role=self.role)
        ApiToken.objects.update_or_create(
            key_hash=key_digest(self.key), defaults={"user": user, "name": "fuzz", "prefix": self.key[:PREFIX_LENGTH]}
        )


@dataclass
class FuzzReport:
    """What one run did and found."""

    role: Role
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    engine_errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def summary(self) -> str:
        """One line for logs and docs."""
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (
            f"{self.role.value}: {self.requests} requests in {self.elapsed_s:.0f} s, "
            f"{len(self.server_errors)} server errors, {len(self.failures)} check failures ({codes})"
        )


class FuzzTarget:
    """The WSGI app as schemathesis sees it: counts, records 5xx and leaked secrets, restores the principal."""

    def __init__(self, principal: Principal, report: FuzzReport, must_not_leak: Iterable[str]) -> None:
        self.app = get_wsgi_application()
        self.principal = principal
        self.report = report
        self.must_not_leak = tuple(text.encode() for text in must_not_leak)
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        status: list[int] = []

        def capture(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(int(line.split()[0]))
            return start_response(line, headers, exc_info)

        try:
            response = self.app(environ, capture)
            body = b"".join(response)
            getattr(response, "close", lambda: None)()
            self._record(environ, status[0], body)
            return [body]
        finally:
            self._after(environ)

    def _record(self, environ: Environ, status: int, body: bytes) -> None:
        request = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}"
        with self.lock:
            self.report.requests += 1
            self.report.statuses[status] += 1
            if status >= 500:
                self.report.server_errors.append(f"{request} -> {status}: {body[:300]!r}")
            if any(text in body for text in self.must_not_leak):
                self.report.leaks.append(request)

    def _after(self, environ: Environ) -> None:
        try:
            if environ["REQUEST_METHOD"] not in SAFE_METHODS and environ["PATH_INFO"].startswith(SELF_AFFECTING):
                self.principal.ensure()
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()  # schemathesis' worker threads end; their connections must not outlive them


def fuzz_api(*, role: Role, budget: Budget, must_not_leak: Iterable[str] = (), seed: int = 7) -> FuzzReport:
    """Run every schemathesis phase against the API as role; returns what it found."""
    principal, report = Principal(role), FuzzReport(role)
    principal.ensure()
    target = FuzzTarget(principal, report, must_not_leak)
    config = schemathesis.Config.from_dict(
        {
            "seed": seed,
            "workers": 1,
            "headers": {"Authorization": f"Bearer {principal.key}"},
            "generation": {"max-examples": budget.examples, "database": "none"},
            "phases": budget.phases(),
            "cache": {"enabled": False},
            "checks": {name: {"enabled": False} for name in EXCLUDED_CHECKS},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/schema/", target, config=config)
    started = time.monotonic()
    for event in from_schema(schema).execute():
        _collect(event, report)
    report.elapsed_s = time.monotonic() - started
    return report


def _collect(event: events.EngineEvent, report: FuzzReport) -> None:
    if isinstance(event, events.ScenarioFinished):
        for checks in event.recorder.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    message = f"{failure.title}: {failure.message}"[:600]
                    report.failures.setdefault((event.recorder.label, check.name), message)
    elif isinstance(event, events.NonFatalError):
        report.engine_errors.append(f"{event.label}: {event.value!r}"[:600])
    elif isinstance(event, events.FatalError):
        raise event.exception

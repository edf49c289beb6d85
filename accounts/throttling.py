"""Login throttling shared by the API, dashboard and admin logins: failed attempts counted per client.

A client is its address as DRF's `get_ident` sees it: REMOTE_ADDR, or with `NUM_PROXIES` trusted proxies
in front the address the nearest of them put into X-Forwarded-For. Only failures count (Django's
`user_login_failed` signal, sent by `authenticate` for every login form), so people who type their password
right never lock themselves or their neighbours behind the same proxy out.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

LOGIN_SCOPE = "login"


class LoginThrottle(SimpleRateThrottle):
    """Refuses a client with too many failed logins in the window (LOGIN_THROTTLE_RATE); checking records nothing."""

    scope = LOGIN_SCOPE
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        # Read at use, not at import (SimpleRateThrottle binds the rates once), so settings overrides apply.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(LOGIN_SCOPE)
        return None if rate is None else str(rate)

    def get_cache_key(self, request: Request | HttpRequest, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}  # type: ignore[arg-type]

    def allow_request(self, request: Request | HttpRequest, view: Any) -> bool:
        if self.rate is None:
            return True
        self._load(request)
        return len(self.history) < self.num_requests or self.throttle_failure()

    def failure_record(self, request: HttpRequest) -> None:
        """Count one failed login of the request's client."""
        if self.rate is None:
            return
        self._load(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)

    def _load(self, request: Request | HttpRequest) -> None:
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [stamp for stamp in self.cache.get(self.key, []) if stamp > self.now - self.duration]


def login_throttle_wait(request: HttpRequest) -> int | None:
    """None if the client may try to log in, else the seconds to wait (same scope and rate as the API's)."""
    throttle = LoginThrottle()
    # DRF's throttle reads only the request's META, so a Django request works too.
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=LOGIN_SCOPE)):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def login_failure_record(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """user_login_failed receiver: count the failure against the client (no request: not a web login)."""
    if request is not None:
        LoginThrottle().failure_record(request)

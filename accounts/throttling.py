"""Login throttling shared by the API login and the dashboard's login form (one counter per client)."""

from __future__ import annotations

import math
from types import SimpleNamespace

from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle

LOGIN_SCOPE = "login"


def login_throttle_wait(request: HttpRequest) -> int | None:
    """Record a login attempt; None if allowed, else the seconds to wait (same scope and rate as the API's)."""
    throttle = ScopedRateThrottle()
    # DRF's throttle reads only the request's META/user and the view's scope, so a Django request works too.
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=LOGIN_SCOPE)):  # type: ignore[arg-type]
        return None
    return max(1, math.ceil(throttle.wait() or 1))

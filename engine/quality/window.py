"""A window's bounds as people type them: an ISO 8601 time, or a duration back from now (30m, 2h, 1d)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

DURATION = re.compile(r"^(?P<amount>\d{1,5})(?P<unit>[smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def moment_parse(raw: str, *, now: datetime) -> datetime:
    """The moment a bound names; ValueError says what is accepted. A time without a zone is UTC."""
    raw = raw.strip()
    duration = DURATION.match(raw)
    if duration:
        return now - timedelta(**{UNITS[duration["unit"]]: int(duration["amount"])})
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(
            f"{raw!r} is neither an ISO 8601 time (2026-03-02T09:30) nor a duration back from now (30m, 2h, 1d)"
        )
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=timezone.get_current_timezone())

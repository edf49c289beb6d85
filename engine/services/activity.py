"""Time-of-day logic in a chat's timezone: active hours, prime hours, activity level and quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

NIGHT = (time(0, 0), time(7, 0))
PRIME_BOOST = 1.5
NIGHT_DAMPING = 0.3


def _parse(range_text: str) -> tuple[time, time]:
    start, end = range_text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def in_range(moment: time, start: time, end: time) -> bool:
    """Whether a wall-clock time is inside [start, end); ranges may wrap midnight (22:00-02:00)."""
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def in_any_range(moment: time, ranges: list[str]) -> bool:
    """Whether a wall-clock time is in any HH:MM-HH:MM range."""
    return any(in_range(moment, *_parse(text)) for text in ranges)


def local_time(now: datetime, timezone_name: str) -> time:
    """The wall-clock time in a timezone."""
    return now.astimezone(ZoneInfo(timezone_name)).time()


def is_active(now: datetime, timezone_name: str, active_hours: list[str]) -> bool:
    """A bot with no active hours is always active; otherwise only inside its ranges (chat's timezone)."""
    return not active_hours or in_any_range(local_time(now, timezone_name), active_hours)


def activity_level(now: datetime, timezone_name: str, *, prime_hours: list[str], prime_boost: bool) -> float:
    """Multiplier of a chat's cadence: busier in market hours, quiet at night."""
    moment = local_time(now, timezone_name)
    if in_range(moment, *NIGHT):
        return NIGHT_DAMPING
    if prime_boost and in_any_range(moment, prime_hours):
        return PRIME_BOOST
    return 1.0


@dataclass(frozen=True)
class QuietHours:
    """How many of a chat's bots may speak now, and why the others do not."""

    active: int
    total: int
    reason: str

    def __str__(self) -> str:
        return f"{self.active} of {self.total} bots active now: {self.reason}"


def quiet_hours(now: datetime, timezone_name: str, bots_hours: list[list[str]]) -> QuietHours | None:
    """Why a chat is slow (some bots outside their active hours), or None when every bot may speak."""
    active = sum(1 for hours in bots_hours if is_active(now, timezone_name, hours))
    if active == len(bots_hours):
        return None
    moment = local_time(now, timezone_name)
    if in_range(moment, *NIGHT):
        return QuietHours(active, len(bots_hours), f"night in {timezone_name}")
    return QuietHours(active, len(bots_hours), f"outside their active hours at {moment:%H:%M} in {timezone_name}")

"""Engine writes: runtime settings and atomic turn status transitions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.models import Setting, Turn
from engine.runtime_settings import parse_setting, spec_for


def setting_set(*, key: str, value: Any) -> Any:
    """Validate and store a runtime setting; returns the stored (normalised) value."""
    parsed = parse_setting(key, value)
    Setting.objects.update_or_create(key=key, defaults={"value": parsed})
    return parsed


def settings_update(*, values: dict[str, Any]) -> dict[str, Any]:
    """Validate every value first, then store them all in one transaction (all or nothing)."""
    parsed = {key: parse_setting(key, value) for key, value in values.items()}
    with transaction.atomic():
        for key, value in parsed.items():
            Setting.objects.update_or_create(key=key, defaults={"value": value})
    return parsed


def setting_reset(*, key: str) -> None:
    """Forget a stored value so the default applies again."""
    spec_for(key)
    Setting.objects.filter(key=key).delete()


def turn_transition(*, turn_id: int, from_status: str, to_status: str, **fields: Any) -> bool:
    """Move a turn from one status to another if, and only if, it is still in from_status.

    A conditional UPDATE that must change exactly one row: two workers racing for the same
    turn cannot both win, so no turn is generated or sent twice.
    """
    if to_status not in Turn.TRANSITIONS.get(from_status, frozenset()):
        raise ValueError(f"a turn cannot go from {from_status} to {to_status}")
    now = timezone.now()
    stamp = Turn.TIMESTAMP_FIELD.get(to_status) or ("finished_at" if to_status in Turn.TERMINAL else "")
    if stamp:
        fields.setdefault(stamp, now)
    changed = Turn.objects.filter(pk=turn_id, status=from_status).update(status=to_status, **fields)
    return changed == 1

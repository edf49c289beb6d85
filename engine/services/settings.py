"""Runtime settings writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from engine.models import Setting
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

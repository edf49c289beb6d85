"""Engine reads: runtime settings with their defaults."""

from __future__ import annotations

from typing import Any

from engine.models import Setting
from engine.runtime_settings import RuntimeConfig, spec_for


def setting_get(key: str) -> Any:
    """The stored value of key (JSON), or its default."""
    spec = spec_for(key)
    stored = Setting.objects.filter(key=key).values_list("value", flat=True).first()
    return spec.default if stored is None else stored


def settings_all() -> RuntimeConfig:
    """Every runtime setting, stored values over defaults, in one query."""
    return RuntimeConfig.from_stored(dict(Setting.objects.values_list("key", "value")))

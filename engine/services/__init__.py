"""Engine services (writes), one module per pipeline step; the common ones are re-exported here."""

from engine.services.settings import setting_reset, setting_set, settings_update
from engine.services.turns import turn_transition

__all__ = ["setting_reset", "setting_set", "settings_update", "turn_transition"]

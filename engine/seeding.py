"""The engine's randomness: one seedable source, so a seeded run (ENGINE_SEED, `simulate_run --seed`) repeats itself.

Each decision gets its own generator from the seed and what it is about (a tick's time, a turn's id, a member
message's id), so the order in which workers or concurrent calls reach them does not change the result.
"""

from __future__ import annotations

import random

from django.conf import settings

_seed: int | None = None
_set = False


def seed() -> int | None:
    """The run's seed: set by `use`, else settings.ENGINE_SEED (None: unseeded, the production default)."""
    return _seed if _set else settings.ENGINE_SEED


def use(value: int | None) -> None:
    """Seed this process's decisions from `value` (None: back to settings.ENGINE_SEED)."""
    global _seed, _set
    _seed, _set = value, value is not None


def rng(*about: object, unseeded: int | None = None) -> random.Random:
    """A generator for one decision: from the seed and `about` when seeded, else `unseeded` (None: fresh entropy)."""
    current = seed()
    if current is None:
        return random.Random(unseeded)
    return random.Random(":".join(str(part) for part in (current, *about)))

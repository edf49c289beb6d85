"""Authentication backend: Django's ModelBackend with each user's permission set cached in Redis.

Every API request checks permissions; without the cache that is two joined queries per request. The cached
sets carry a generation number that any change to users, groups or permissions bumps (accounts.apps wires
the signals), so a revoked role takes effect on the next request, not after a timeout.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

GENERATION_KEY = "piyasa:perms:generation"
CACHE_TTL_S = 600


def _cache_key(user_id: int, generation: int) -> str:
    return f"piyasa:perms:{generation}:{user_id}"


def permissions_generation_bump(**_: Any) -> None:
    """Invalidate every cached permission set (a signal receiver: users, groups or permissions changed)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet, or evicted: start from a value no earlier generation had
        cache.set(GENERATION_KEY, _fresh_generation(), timeout=None)


def _fresh_generation() -> int:
    # Random, never 0..n again after an eviction: sets cached under an old generation can never be read.
    return secrets.randbits(62)


class CachedPermissionsBackend(ModelBackend):
    """ModelBackend whose `get_all_permissions` is served from the cache until permissions change."""

    def get_all_permissions(self, user_obj: Any, obj: object | None = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            generation = cache.get_or_set(GENERATION_KEY, _fresh_generation, timeout=None)
            key = _cache_key(user_obj.pk, int(generation or 0))
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj, obj)
                cache.set(key, perms, timeout=CACHE_TTL_S)
            user_obj._perm_cache = perms
        perms_set: set[str] = user_obj._perm_cache
        return perms_set

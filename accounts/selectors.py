"""Account reads: finding the token behind an API key."""

from __future__ import annotations

import hashlib
import hmac

from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiToken

PREFIX_LENGTH = 8


def key_digest(key: str) -> str:
    """SHA-256 of an API key (hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_for_key(key: str) -> ApiToken | None:
    """The live token of an active user matching key, or None; one SHA-256, compared in constant time."""
    digest = key_digest(key)
    candidates = (
        ApiToken.objects.select_related("user")
        .filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
            prefix=key[:PREFIX_LENGTH],
            user__is_active=True,
        )
        .order_by()
    )
    return next((token for token in candidates if hmac.compare_digest(token.key_hash, digest)), None)

"""Bot tokens at rest: MultiFernet with the keys of TOKEN_ENCRYPTION_KEYS (first key encrypts)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenDecryptionError(Exception):
    """A stored token cannot be decrypted with any configured key."""


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.TOKEN_ENCRYPTION_KEYS))


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt_token(token: str) -> str:
    """Ciphertext for a plaintext token ('' stays '')."""
    return _fernet().encrypt(token.encode()).decode() if token else ""


def decrypt_token(ciphertext: str) -> str:
    """Plaintext for stored ciphertext."""
    if not ciphertext:
        return ""
    return _decrypt(ciphertext, tuple(settings.TOKEN_ENCRYPTION_KEYS))


@lru_cache(maxsize=4096)
def _decrypt(ciphertext: str, keys: tuple[str, ...]) -> str:
    # Every typing action and send reads its bot's token: decrypt each ciphertext once per process and
    # key set (a ciphertext's plaintext never changes; a key removed from the set is a new cache entry).
    try:
        return _fernet_for(keys).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("bot token cannot be decrypted with TOKEN_ENCRYPTION_KEYS") from None


def rotate_ciphertext(ciphertext: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return _fernet().rotate(ciphertext.encode()).decode() if ciphertext else ""


def token_fingerprint(token: str) -> str | None:
    """A stable, non-reversible id of a token, to keep tokens unique without decrypting them."""
    return hashlib.sha256(token.encode()).hexdigest() if token else None


def mask_token(token: str) -> str:
    """Show a token as `1234…abcd`: the bot id's first digits and the last four characters."""
    if not token:
        return ""
    return f"{token[:4]}…{token[-4:]}" if len(token) > 12 else "…"

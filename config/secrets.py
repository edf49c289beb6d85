"""Secrets of the embedded default: generated once into var/, never committed."""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def _read_or_create(path: Path, make: str) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make)
    return path.read_text().strip()


def local_secret_key(var_dir: Path) -> str:
    """Django SECRET_KEY for the embedded default."""
    return _read_or_create(var_dir / "secret_key", secrets.token_urlsafe(50))


def local_token_keys(var_dir: Path) -> list[str]:
    """Fernet keys for bot tokens at rest, for the embedded default."""
    return [_read_or_create(var_dir / "token_key", Fernet.generate_key().decode())]

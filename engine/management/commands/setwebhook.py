"""Register (or delete) the Telegram webhook of every listening bot."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.services import webhooks


class Command(BaseCommand):
    help = (
        "setWebhook for every enabled bot with a token that is an enabled member of an enabled Telegram chat:"
        " <base>/telegram/webhook/<opaque id>/ with the bot's secret token. --delete removes the webhooks"
        " (needed before `telegram_poll`). Tokens are never printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", help="Public base URL (default: WEBHOOK_BASE_URL).")
        parser.add_argument("--delete", action="store_true", help="Delete the webhooks instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["delete"]:
            reports = webhooks.webhooks_delete()
        else:
            base_url = options["base_url"] or settings.WEBHOOK_BASE_URL
            if not base_url:
                raise CommandError("No base URL: pass --base-url or set WEBHOOK_BASE_URL.")
            reports = webhooks.webhooks_register(base_url=base_url)
        if not reports:
            self.stdout.write("No listening bots (enabled, with a token, in an enabled Telegram chat).")
        for line in webhooks.report_lines(reports):
            self.stdout.write(line)
        failed = [report.bot for report in reports if report.failed]
        if failed:
            raise CommandError(f"Failed for {', '.join(failed)}.")

"""Check that the database, Redis, cron, workers, the LLM and every bot's Telegram token are ready."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.services.preflight import Report, Status, preflight_run


class Command(BaseCommand):
    help = (
        "Check DB (and migrations), Redis, cron heartbeat, RQ workers, the LLM provider and, for every enabled bot"
        " with a token, getMe and getWebhookInfo. Exits non-zero when any check fails. Tokens are masked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--llm-call", action="store_true", help="Also make one tiny completion through the configured LLM."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the checks, print the report and fail when any check failed."""
        report = preflight_run(llm_call=options["llm_call"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for line in self._lines(report):
                self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"preflight failed: {len(report.failed)} check(s) failed")

    def _lines(self, report: Report) -> Iterator[str]:
        yield from table(report, style=self._styled)
        counts = {status: sum(1 for c in report.checks if c.status == status) for status in Status}
        yield ", ".join(f"{count} {status}" for status, count in counts.items() if count)

    def _styled(self, status: Status, text: str) -> str:
        styles = {Status.OK: self.style.SUCCESS, Status.WARN: self.style.WARNING, Status.FAIL: self.style.ERROR}
        return styles[status](text) if status in styles else text


def table(report: Report, *, style: Callable[[Status, str], str] | None = None) -> Iterator[str]:
    """The report as aligned columns: check, status, detail."""
    width = max((len(check.name) for check in report.checks), default=5)
    yield f"{'CHECK':<{width}}  STATUS  DETAIL"
    for check in report.checks:
        status = f"{check.status.upper():<6}"
        yield f"{check.name:<{width}}  {style(check.status, status) if style else status}  {check.detail}"

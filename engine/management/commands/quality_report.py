"""Print a chat's conversation-quality figures over a window, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from chats.models import Chat
from engine.quality.selectors import QualityReport, quality_report
from engine.quality.window import moment_parse


class Command(BaseCommand):
    help = (
        "The conversation-quality figures of one chat (docs/quality.md defines them) over [--since, --until);"
        " the last hour by default. Bounds are ISO 8601 times or durations back from now (30m, 2h, 1d)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("chat_id", help="Chat id (the database id, as in the admin).")
        parser.add_argument("--since", help="Start of the window (default: an hour before --until).")
        parser.add_argument("--until", help="End of the window (default: now).")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Measure the window and print it."""
        chat = _chat(options["chat_id"])
        now = timezone.now()
        try:
            since = moment_parse(options["since"], now=now) if options["since"] else None
            until = moment_parse(options["until"], now=now) if options["until"] else None
            report = quality_report(chat_ids=[chat.pk], since=since, until=until)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if options["json"] else table(chat, report)
        )


def _chat(raw: str) -> Chat:
    if not raw.isdigit():
        raise CommandError(f"CHAT must be a chat id (a number), not {raw!r}")
    chat = Chat.objects.filter(pk=int(raw)).first()
    if chat is None:
        raise CommandError(f"no chat with id {raw}")
    return chat


def table(chat: Chat, report: QualityReport) -> str:
    """The report as aligned text rows: title, value, band, target, detail."""
    lines = [
        f"{chat.title} (chat {chat.pk}): {report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} UTC,"
        f" {report.bot_messages} bot and {report.member_messages} member messages",
    ]
    for figure in report.figures:
        lines.append(
            f"{figure.spec.title:<32} {figure.display:>8}  {figure.band.value:<5}  {figure.target:<7}  {figure.detail}"
        )
    return "\n".join(lines)

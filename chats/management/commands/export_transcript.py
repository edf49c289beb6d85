"""Export a chat's transcript as Markdown or JSON, to stdout or a file, streamed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chats.models import Chat
from chats.transcripts import FORMATS, transcript_render


class Command(BaseCommand):
    help = (
        "Write a chat's transcript (chronological; bots by name, members by display name; replies marked ↩;"
        " times in the chat's timezone). --since/--until take ISO dates or times (without an offset they are"
        " read in the chat's timezone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("chat_id", type=int, help="Chat id (the database id, as in the admin).")
        parser.add_argument("--format", choices=FORMATS, default="md", dest="fmt")
        parser.add_argument("--since", help="Only messages at or after this ISO time.")
        parser.add_argument("--until", help="Only messages before this ISO time.")
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Stream the transcript to stdout or the output file."""
        chat = Chat.objects.filter(pk=options["chat_id"]).first()
        if chat is None:
            raise CommandError(f"chat {options['chat_id']} does not exist")
        since, until = (parse_moment(options[name], chat.timezone, name) for name in ("since", "until"))
        chunks = transcript_render(chat=chat, fmt=options["fmt"], since=since, until=until)
        output: Path | None = options["output"]
        if output is None:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        with output.open("w", encoding="utf-8") as handle:
            handle.writelines(chunks)
        self.stderr.write(f"Wrote {output}")


def parse_moment(value: str | None, zone: str, name: str) -> datetime | None:
    """An ISO date or datetime; naive values are in the chat's timezone."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name}: {value!r} is not an ISO date or time (e.g. 2025-01-31T09:30)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone))

"""Write the whole crowd (bots, what they know, chats, runtime settings) as one JSON document; never a token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from engine.portability.exporting import crowd_export


class Command(BaseCommand):
    help = (
        "Export every bot (persona, emotion, speed, active hours, stances, holdings, memories), every chat with its"
        " memberships and the runtime settings as one versioned JSON document (format piyasa-crowd). Tokens are"
        " never exported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="Write to this file instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the document, or write it to --output and say how much it holds."""
        document = crowd_export()
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        counts = f"{len(document['bots'])} bot(s), {len(document['chats'])} chat(s)"
        self.stdout.write(self.style.SUCCESS(f"Wrote {counts} and the runtime settings to {output}."))

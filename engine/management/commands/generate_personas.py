"""Draft personas for a brief with the configured LLM; print them as JSON, or save them with --save."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.drafts import draft_save
from engine.services.operator_calls import OperatorCallError
from engine.services.personas import MAX_COUNT, PersonaDraftsInvalid, personas_draft


class Command(BaseCommand):
    help = (
        "Draft complete personas (persona, emotion, speed, stances, holdings, memories) for a brief, e.g."
        ' "a crypto-heavy group: a retired banker, a student, a day trader". Prints the drafts as JSON for review'
        " (edit them and import, or use the dashboard); --save creates them as bots at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brief", help="Who the personas are (a list after a colon gives one role each).")
        parser.add_argument("--count", type=int, default=5, help=f"How many (1-{MAX_COUNT}; default 5).")
        parser.add_argument("--language", choices=["tr", "en"], default="tr")
        parser.add_argument("--save", action="store_true", help="Create the drafted bots (no token, no chats).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Draft, then print or save; a refused call or invalid output fails naming the problems."""
        if not 1 <= options["count"] <= MAX_COUNT:
            raise CommandError(f"--count must be between 1 and {MAX_COUNT}.")
        try:
            drafts = personas_draft(brief=options["brief"], count=options["count"], language=options["language"])
        except PersonaDraftsInvalid as error:
            raise CommandError("\n".join([str(error).split(":", 1)[0] + ":", *error.errors])) from None
        except OperatorCallError as error:
            raise CommandError(str(error)) from None
        if not options["save"]:
            self.stdout.write(json.dumps(drafts.drafts, ensure_ascii=False, indent=2))
            return
        for document in drafts.drafts:
            try:
                bot = draft_save(document=document)
            except ValidationError as error:
                self.stderr.write(f"{document['name']}: not saved: {'; '.join(error.messages)}")
            else:
                self.stdout.write(f"saved bot {bot.pk}: {bot.name}")

"""Draft a persona from a SillyTavern character card (V1/V2 JSON or PNG); --save creates the bot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.cards import CardError, card_draft
from bots.importing import error_lines
from bots.services import bot_create


class Command(BaseCommand):
    help = (
        "Read a SillyTavern character card (V1 or V2 JSON, or a PNG with the card in its 'chara' chunk) and print the"
        " persona draft it gives (name, username, persona, emotion). Review it, then run again with --save."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The card: .json or .png.")
        parser.add_argument("--save", action="store_true", help="Create a bot (without a token) from the draft.")
        parser.add_argument("--username", help="Use this username instead of the suggested one.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the draft as JSON; with --save, create the bot and say so."""
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            draft = card_draft(path.read_bytes())
        except CardError as error:
            raise CommandError(f"{path}: {error}") from None
        fields = draft.bot_fields() | ({"username": options["username"]} if options["username"] else {})
        self.stdout.write(json.dumps(draft.as_dict() | fields, ensure_ascii=False, indent=2))
        if not options["save"]:
            self.stdout.write("Draft only: nothing saved (run again with --save to create the bot).")
            return
        try:
            bot = bot_create(**fields)
        except ValidationError as error:
            raise CommandError(f"{path}: " + "; ".join(error_lines(error))) from None
        self.stdout.write(self.style.SUCCESS(f"Created bot {bot.name} (@{bot.username}, id {bot.pk}) without a token."))

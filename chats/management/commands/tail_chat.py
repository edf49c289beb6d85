"""Print a chat's messages to the terminal as they arrive (used by `make run`)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chats.models import Message


class Command(BaseCommand):
    help = "Follow the messages of every chat (or one, with --chat) on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chat", type=int, help="Chat id to follow (default: all chats).")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        messages = Message.objects.select_related("chat", "bot", "reply_to").order_by("id")
        if options["chat"]:
            messages = messages.filter(chat_id=options["chat"])
        last_id = (messages.last().pk if messages.exists() else 0) or 0  # type: ignore[union-attr]
        while True:
            for message in messages.filter(pk__gt=last_id)[:100]:
                self.stdout.write(self._line(message))
                last_id = message.pk
            self.stdout.flush()
            time.sleep(options["interval"])

    def _line(self, message: Message) -> str:
        reply = f" ↩ {message.reply_to.speaker_label}" if message.reply_to is not None else ""
        return f"[{message.chat.title}] {message.created_at:%H:%M:%S} {message.speaker_label}{reply}: {message.text}"

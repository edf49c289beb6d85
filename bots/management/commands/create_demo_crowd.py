"""Create the six Turkish demo bots and their sandbox chat (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bots.demo import DemoResult, demo_crowd_create


class Command(BaseCommand):
    help = "Create the demo crowd: six Turkish personas in a sandbox chat. Safe to re-run; never overwrites edits."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create whatever part of the demo crowd is missing and print what was done."""
        result = demo_crowd_create()
        self.stdout.write(self.style.SUCCESS(summary(result)) if result.changed else summary(result))


def summary(result: DemoResult) -> str:
    """One line per thing created, or a note that the demo crowd already exists."""
    chat = f"'{result.chat.title}' (id {result.chat.pk})"
    if not result.changed:
        return f"Demo crowd already exists: {len(result.bots)} bots in sandbox chat {chat}; nothing changed."
    return "\n".join(
        [
            f"Bots created: {result.bots_created} of {len(result.bots)}"
            f" ({result.stances_created} stances, {result.holdings_created} holdings,"
            f" {result.memories_created} memories).",
            f"Sandbox chat {chat}: {'created' if result.chat_created else 'already existed'};"
            f" {result.memberships_created} memberships added.",
        ]
    )

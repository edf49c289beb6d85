"""Interview a bot privately: print its in-character answer (logged, never posted to any chat)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from bots.models import Bot
from engine.services.interview import interview_ask
from engine.services.operator_calls import OperatorCallError


def bot_named(name: str) -> Bot:
    """The bot with this id, @username or name (CommandError when none or several match)."""
    query = Q(username__iexact=name.removeprefix("@")) | Q(name__iexact=name)
    if name.isdigit():
        query |= Q(pk=int(name))
    found = list(Bot.objects.filter(query)[:2])
    if len(found) != 1:
        raise CommandError(f"{'No' if not found else 'More than one'} bot matches {name!r} (id, username or name).")
    return found[0]


class Command(BaseCommand):
    help = (
        "Ask a bot a question in private: it answers in character from its persona, stances, holdings, memories and"
        " recent messages with the configured LLM (counted in the LLM budget). The answer is kept in the interview"
        " log and never posted to any chat."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bot", help="The bot's id, username or name.")
        parser.add_argument("question", help='e.g. "Why are you bearish on BTC?"')

    def handle(self, *args: Any, **options: Any) -> None:
        """Ask, print the answer, and fail with the reason when the call is refused."""
        bot = bot_named(options["bot"])
        try:
            interview = interview_ask(bot=bot, question=options["question"])
        except OperatorCallError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{bot.name}: {interview.answer}")
        self.stderr.write(
            f"interview {interview.pk} · {interview.provider} {interview.model} · "
            f"{interview.tokens_in}+{interview.tokens_out} tokens"
        )

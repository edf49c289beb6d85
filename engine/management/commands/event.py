"""Inject a market event: the crowd of its chats reacts (now, or at the time given)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from chats.models import Chat
from engine.models import MarketEvent
from engine.services.events import event_create, parse_intensity


def parse_at(value: str, *, now: datetime) -> datetime:
    """HH:MM today in the server's time zone (TIME_ZONE), or an ISO date and time; never in the past."""
    try:
        if len(value) <= 5:
            at = timezone.make_aware(datetime.combine(now.date(), time.fromisoformat(value)), now.tzinfo)
        else:
            parsed = datetime.fromisoformat(value)
            at = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, now.tzinfo)
    except ValueError:
        raise CommandError(f"--at {value!r}: give HH:MM (today) or YYYY-MM-DDTHH:MM.") from None
    if at < now.replace(second=0, microsecond=0):
        raise CommandError(f"--at {value}: that time has passed ({now:%Y-%m-%d %H:%M %Z}); give a date too.")
    return at


def chat_named(name: str) -> Chat:
    """The chat with this id or title (CommandError when none or several match)."""
    query = Q(title__iexact=name) | (Q(pk=int(name)) if name.isdigit() else Q(pk__in=[]))
    found = list(Chat.objects.filter(query)[:2])
    if len(found) != 1:
        raise CommandError(f"{'There is no chat' if not found else 'More than one chat is'} {name!r} (id or title).")
    return found[0]


class Command(BaseCommand):
    help = (
        'Inject a market event ("TCMB politika faizini 500 baz puan artırdı"): the bots of its chats react over the'
        " next minutes, each from its own stance. Fires now, or at --at (once, whatever the number of cron processes)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help="What happened.")
        parser.add_argument("--symbols", default="", help="Affected symbols, comma-separated (THYAO,BTCUSDT).")
        parser.add_argument("--topics", default="", help="Affected chat topics, comma-separated (Makro,FX).")
        parser.add_argument("--direction", required=True, choices=MarketEvent.Direction.values)
        parser.add_argument("--intensity", default="medium", help="0..1, or low, medium, high (default medium).")
        parser.add_argument("--at", help=f"HH:MM today ({timezone.get_current_timezone_name()}) or an ISO time.")
        parser.add_argument("--chat", action="append", default=[], help="A chat id or title (repeat; default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Validate everything, store the event, say when it fires."""
        chats = [chat_named(name) for name in options["chat"]]
        fire_at = parse_at(options["at"], now=timezone.localtime()) if options["at"] else None
        try:
            event = event_create(
                text=options["text"], direction=options["direction"], intensity=parse_intensity(options["intensity"]),
                symbols=_listed(options["symbols"]), topics=_listed(options["topics"]), fire_at=fire_at, chats=chats,
            )  # fmt: skip
        except ValidationError as error:
            raise CommandError(f"The event was not stored: {'; '.join(error.messages)}") from None
        where = ", ".join(chat.title for chat in event.chats.all()) or "every enabled chat"
        when = (
            f"fired at {event.fired_at:%H:%M:%S}" if event.fired_at else f"scheduled for {event.fire_at:%Y-%m-%d %H:%M}"
        )
        self.stdout.write(f"Event {event.pk} {event.status}: {when}, in {where}.")


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]

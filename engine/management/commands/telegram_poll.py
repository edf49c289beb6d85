"""Long-poll Telegram's getUpdates for every listening bot (instead of webhooks)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.services import polling, webhooks

DEFAULT_TIMEOUT_S = 25


class Command(BaseCommand):
    help = (
        "One getUpdates poller per listening bot (threads in this process), offsets stored in the database."
        " Ctrl-C / SIGTERM stop it once the current long poll returns. Exits non-zero when a poller stops on"
        " an error (409 Conflict: a webhook is set or another poller runs for the token)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Fetch and ingest one batch per bot, then exit.")
        parser.add_argument(
            "--timeout", type=int, help=f"Long-poll seconds (default {DEFAULT_TIMEOUT_S}; 0 with --once)."
        )
        parser.add_argument("--bot", help="Poll only this bot (id or @username): one process per bot.")

    def handle(self, *args: Any, **options: Any) -> None:
        bots = webhooks.listening_bots()
        if options["bot"]:
            wanted = options["bot"].lstrip("@")
            bots = bots.filter(pk=int(wanted)) if wanted.isdigit() else bots.filter(username=wanted)
        bot_ids = list(bots.values_list("pk", flat=True))
        if not bot_ids:
            raise CommandError("No listening bots (enabled, with a token, in an enabled Telegram chat).")
        timeout = options["timeout"]
        if timeout is None:
            timeout = 0 if options["once"] else DEFAULT_TIMEOUT_S
        stop = threading.Event()
        with stop_on_signals(stop):
            results = polling.run_pollers(bot_ids=bot_ids, timeout=timeout, once=options["once"], stop=stop)
        for result in results:
            self.stdout.write(f"{result.bot}: {result.updates} update(s)")
        errors = [result.error for result in results if result.error]
        if errors:
            raise CommandError("\n".join(errors))


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (pollers finish their current long poll); the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be installed from the main thread (e.g. call_command in a thread)
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

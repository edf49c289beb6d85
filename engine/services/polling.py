"""Long polling: one getUpdates poller per bot token, its offset persisted in the database.

The offset (last update_id + 1) is stored only after the whole batch is ingested. A crash mid-batch
makes the next poll fetch that batch again, which is harmless: ingestion stores a message once per
chat and message id and creates at most one priority reply per message. So a restart loses nothing,
and replays at most the one batch that was in flight.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat
from engine.clients.telegram import (
    TelegramClient,
    TelegramClientError,
    TelegramConflictError,
    TelegramPermanentError,
    TelegramRetryAfter,
)
from engine.models import TelegramInbox
from engine.services.ingestion import ingest_update
from engine.services.webhooks import ALLOWED_UPDATES, bot_label, inbox_for, update_from_payload

logger = logging.getLogger(__name__)
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class PollBatch:
    """One getUpdates batch: how many updates came, what ingestion did with each, and the stored offset."""

    outcomes: list[str]
    offset: int


@dataclass
class PollerResult:
    """How one bot's poller ended: the updates it ingested, and the error that stopped it, if any."""

    bot: str
    updates: int = 0
    error: str = ""
    outcomes: list[str] = field(default_factory=list)


def poll_once(*, bot: Bot, timeout: int) -> PollBatch:
    """Fetch the updates after the stored offset (long-polling up to `timeout` s), ingest each, store the offset."""
    inbox = inbox_for(bot)
    client = TelegramClient(bot.token, timeout=settings.TELEGRAM_TIMEOUT_S)
    payloads = client.get_updates(
        offset=inbox.update_offset or None, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)
    )
    outcomes, offset = [], inbox.update_offset
    for payload in payloads:
        outcomes.append(ingest_payload(payload, receiver=bot))
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            offset = max(offset, update_id + 1)
    if offset != inbox.update_offset:
        TelegramInbox.objects.filter(pk=inbox.pk).update(update_offset=offset, updated_at=timezone.now())
    return PollBatch(outcomes, offset)


def ingest_payload(payload: Any, *, receiver: Bot | None = None) -> str:
    """Ingest one raw update; an unparseable one is logged and skipped (its offset still advances)."""
    update = update_from_payload(payload)
    if update is None:
        logger.warning("polling: skipped a malformed update")
        return "skipped: malformed update"
    return ingest_update(update=update, transport=Chat.Transport.TELEGRAM, receiver=receiver).outcome


def conflict_message(bot: Bot, error: TelegramConflictError) -> str:
    """What to do about Telegram's 409 for this bot, in words."""
    label = bot_label(bot)
    if "webhook" in error.reason.lower():
        return f"a webhook is set for {label}: run `manage.py setwebhook --delete` to poll instead (409 Conflict)"
    return f"another poller is running for {label}: only one getUpdates client per token may run (409 Conflict)"


def run_poller(*, bot_id: int, timeout: int, once: bool, stop: threading.Event) -> PollerResult:
    """Poll one bot until `stop` is set (or once): transient errors back off, conflicts and refusals end it."""
    bot = Bot.objects.get(pk=bot_id)
    result, failures = PollerResult(bot_label(bot)), 0
    while not stop.is_set():
        try:
            batch = poll_once(bot=bot, timeout=timeout)
        except TelegramConflictError as error:
            result.error = conflict_message(bot, error)
            logger.error("polling stopped: %s", result.error)
            return result
        except TelegramPermanentError as error:
            result.error = f"Telegram refused polling for {result.bot}: {error}"
            logger.error("polling stopped: %s", result.error)
            return result
        except (TelegramClientError, DatabaseError) as error:
            if once:
                result.error = f"{result.bot}: {error}"
                return result
            failures += 1
            logger.warning("polling %s: %s; retrying after a backoff", result.bot, error)
            stop.wait(_backoff(error, failures))
            close_old_connections()
            continue
        failures = 0
        if batch.outcomes:
            logger.info("polling %s: %d update(s), offset %d", result.bot, len(batch.outcomes), batch.offset)
        result.updates += len(batch.outcomes)
        result.outcomes.extend(batch.outcomes)
        if once:
            break
    return result


def _backoff(error: Exception, failures: int) -> float:
    if isinstance(error, TelegramRetryAfter):
        return error.retry_after
    return min(MAX_BACKOFF_S, 2.0 ** min(failures, 10)) * random.uniform(0.5, 1.0)


def run_pollers(*, bot_ids: list[int], timeout: int, once: bool, stop: threading.Event) -> list[PollerResult]:
    """One thread per bot token; returns when every poller has ended (all done, all failed, or `stop` set)."""
    results: dict[int, PollerResult] = {}

    def work(bot_id: int) -> None:
        try:
            results[bot_id] = run_poller(bot_id=bot_id, timeout=timeout, once=once, stop=stop)
        except Exception as error:  # a poller must report, not vanish silently with its thread
            logger.exception("poller for bot %s crashed", bot_id)
            results[bot_id] = PollerResult(f"bot #{bot_id}", error=f"crashed: {error!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(bot_id,), name=f"poll-{bot_id}") for bot_id in bot_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():  # join with a timeout so the main thread still handles signals
            thread.join(timeout=0.5)
    return [results[bot_id] for bot_id in bot_ids]

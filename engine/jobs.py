"""RQ jobs: thin wrappers that take ids, call one service and decide retries.

The services enqueue these jobs by reference (`dispatch.enqueue(jobs.send_typing, …)`), so each job imports its
service when it runs: importing them here would make every service import itself through this module.
"""

from __future__ import annotations

from typing import Any

from engine import heartbeat as heartbeat_service
from engine import liveness
from engine.selectors import news_feeds, settings_all
from engine.services.turns import Outcome


def preload() -> None:
    """Import every job's service now: a worker does it when it starts, so a job's first moments after a restart
    (before it records its claim on its turns, engine.liveness) are not spent importing them."""
    from engine.services import (  # noqa: F401
        capabilities,
        delivery,
        dispatch,
        events,
        generation,
        news,
        planning,
        recovery,
        webhooks,
    )


def tick() -> dict[str, Any]:
    """The periodic tick: record the heartbeat, then plan the turns of every due chat."""
    from engine.services import planning

    heartbeat_service.heartbeat_record()
    config = settings_all()
    if not config.simulation_active:
        return {"simulation_active": False}
    with planning.tick_lock() as acquired:
        if not acquired:
            return {"skipped": "the previous tick is still planning"}
        result = planning.plan_tick(config=config)
    return {"planned": result.planned, "deferred": result.deferred}


def fire_events() -> dict[str, int]:
    """Fire the scheduled market events whose time has come (each once, whichever process claims it)."""
    from engine.services import events

    return {"fired": events.events_fire_due()}


def generate_turn(turn_id: int) -> Outcome:
    """Generate one turn's text and schedule its delivery."""
    from engine.services import generation

    # A worker dying before the claim, or a job crashing after it, is then recovered at once (engine.liveness).
    with liveness.working_on(turn_id):
        return generation.generate_turn(turn_id=turn_id)


def generate_turns(turn_ids: list[int]) -> dict[int, Outcome]:
    """Generate a tick's turns concurrently (their LLM calls overlap) and schedule their delivery."""
    from engine.services import generation

    with liveness.working_on(*turn_ids):
        return generation.generate_turns(turn_ids=turn_ids)


def generate_priority(turn_id: int) -> dict[int, Outcome]:
    """Generate a member's priority reply, with other pending ones concurrently (up to batch_size)."""
    from engine.services import generation

    with liveness.working_on(turn_id):
        return generation.generate_priority_batch(turn_id=turn_id)


def send_typing(turn_id: int) -> bool:
    """Show the typing indicator for a turn about to be sent."""
    from engine.services import delivery

    return delivery.send_typing(turn_id=turn_id)


def send_turn(turn_id: int) -> Outcome:
    """Send one ready turn (deferred when a limit is reached) and record the message."""
    from engine.services import delivery

    with liveness.working_on(turn_id):
        return delivery.send_turn(turn_id=turn_id)


def send_due(slot: int) -> dict[int, Outcome]:
    """Send the turns due by now (a slot's, and any others due), their Bot API calls overlapping."""
    from engine.services import delivery, dispatch

    turn_ids = dispatch.take_sends(slot)
    with liveness.working_on(*turn_ids):
        return delivery.send_turns(turn_ids=turn_ids)


def recover_turns() -> dict[str, int]:
    """Finish or re-enqueue turns whose job was lost (worker crash, Redis restart)."""
    from engine.services import recovery

    return recovery.recover_turns()


def evolve_stances() -> dict[str, Any]:
    """Move stances by the arguments of the chat messages recorded since the last batch."""
    from engine.services import stance_evolution

    config = settings_all()
    if not config.stance_evolution_enabled:
        return {"stance_evolution_enabled": False}
    changes = stance_evolution.stances_evolve(config=config)
    return {"changes": len(changes), "flips": sum(change.flipped for change in changes)}


def fetch_news() -> dict[str, Any]:
    """Fetch the news feeds (global and chats' own) into the headline cache and drop old headlines."""
    from engine.services import news

    urls = news_feeds(settings_all())
    if not urls:
        return {"news_trigger_enabled": False}
    result = news.news_fetch(urls=urls)
    pruned = news.news_prune()
    return {"fetched": result.fetched, "stored": result.stored, "failed": len(result.failed), "pruned": pruned}


def ensure_webhooks() -> dict[str, Any]:
    """Register the webhook of every listening bot whose URL or token changed (only when WEBHOOK_BASE_URL is set)."""
    from django.conf import settings

    from engine.services import webhooks

    if not settings.WEBHOOK_BASE_URL:
        return {"webhook_base_url": False}
    reports = webhooks.webhooks_register(base_url=settings.WEBHOOK_BASE_URL, only_if_changed=True)
    return {action: sum(report.action == action for report in reports) for action in ("set", "unchanged", "failed")}


def refresh_capabilities() -> dict[str, int]:
    """Ask Telegram (getChat) what every enabled group lets its members do, and store it."""
    from engine.services import capabilities

    return capabilities.chats_capabilities_refresh()


def refresh_chat_capabilities(chat_id: int) -> str:
    """Ask Telegram (getChat) what one group lets its members do, as it is enabled."""
    from engine.services import capabilities

    return capabilities.chat_capabilities_refresh(chat_id=chat_id)

"""Engine reads: runtime settings with their defaults; chats' quiet hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chats.models import Chat, Membership
from engine.models import Setting
from engine.runtime_settings import RuntimeConfig, spec_for
from engine.services.activity import QuietHours, quiet_hours


def setting_get(key: str) -> Any:
    """The stored value of key (JSON), or its default."""
    spec = spec_for(key)
    stored = Setting.objects.filter(key=key).values_list("value", flat=True).first()
    return spec.default if stored is None else stored


def settings_all() -> RuntimeConfig:
    """Every runtime setting, stored values over defaults, in one query."""
    return RuntimeConfig.from_stored(dict(Setting.objects.values_list("key", "value")))


def news_feeds(config: RuntimeConfig) -> list[str]:
    """The feeds to fetch: the global ones when headlines are on, and those of each enabled chat that uses
    headlines with feeds of its own; one query."""
    feeds = [str(url) for url in config.news_feed_urls] if config.news_trigger_enabled else []
    for overrides in (
        Chat.objects.filter(is_enabled=True).exclude(settings_overrides={}).values_list("settings_overrides", flat=True)
    ):
        own = config.for_chat(overrides)
        if own.news_trigger_enabled:
            feeds += [str(url) for url in own.news_feed_urls]
    return list(dict.fromkeys(feeds))


def chats_quiet_hours(chat_ids: Iterable[int] | None = None, *, now: datetime) -> dict[int, QuietHours]:
    """The chats (all enabled ones when None) where some bot is outside its active hours now, and why; one query.

    Eligible as the planner counts them: enabled memberships of enabled bots, active hours in the chat's timezone.
    """
    rows = Membership.objects.filter(is_enabled=True, paused_at__isnull=True, bot__is_enabled=True)
    rows = rows.filter(chat__is_enabled=True) if chat_ids is None else rows.filter(chat_id__in=set(chat_ids))
    chats: dict[int, tuple[str, list[list[str]]]] = {}
    for chat_id, timezone_name, hours in rows.values_list("chat_id", "chat__timezone", "bot__active_hours"):
        chats.setdefault(chat_id, (timezone_name, []))[1].append(hours or [])
    found = {chat_id: quiet_hours(now, tz, bots_hours) for chat_id, (tz, bots_hours) in chats.items()}
    return {chat_id: quiet for chat_id, quiet in found.items() if quiet is not None}

"""Reads of the quality figures: one chat's report over a window, and the crowd-wide headline figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from engine.quality.loading import MAX_LINES, transcript_load
from engine.quality.report import HEADLINE, Figure, figures
from engine.quality.talk import spoken

DEFAULT_WINDOW = timedelta(hours=1)
GAUGE_WINDOW = timedelta(minutes=30)  # the rolling window of the Prometheus gauges


@dataclass(frozen=True)
class QualityReport:
    """Every figure of one window, with how many messages it was measured on."""

    chat_ids: list[int] | None
    since: datetime
    until: datetime
    bot_messages: int
    member_messages: int
    figures: list[Figure]

    def as_dict(self) -> dict[str, Any]:
        return {
            "chat": self.chat_ids[0] if self.chat_ids and len(self.chat_ids) == 1 else None,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "bot_messages": self.bot_messages,
            "member_messages": self.member_messages,
            "figures": [figure.as_dict() for figure in self.figures],
        }

    def figure(self, key: str) -> Figure:
        return next(figure for figure in self.figures if figure.spec.key == key)


def quality_report(
    *,
    chat_ids: list[int] | None,
    since: datetime | None = None,
    until: datetime | None = None,
    max_lines: int = MAX_LINES,
) -> QualityReport:
    """The figures of the chats (None: every chat) over [since, until); the last hour by default."""
    until = until or timezone.now()
    try:
        since = since or until - DEFAULT_WINDOW
    except OverflowError:
        raise ValueError(f"until ({until.isoformat()}) is too early for a window before it") from None
    if since >= until:
        raise ValueError(f"the window is empty: since ({since.isoformat()}) is not before until ({until.isoformat()})")
    transcript = transcript_load(chat_ids=chat_ids, since=since, until=until, max_lines=max_lines)
    return QualityReport(
        chat_ids=chat_ids,
        since=since,
        until=until,
        bot_messages=len(spoken(transcript)),  # reactions are not messages to measure
        member_messages=len(transcript.member_lines),
        figures=figures(transcript),
    )


def headline_figures(*, window: timedelta = GAUGE_WINDOW, max_lines: int = MAX_LINES) -> dict[str, float | None]:
    """The headline figures over every chat's last `window` (sequences per chat, counts pooled)."""
    report = quality_report(chat_ids=None, since=timezone.now() - window, max_lines=max_lines)
    return {key: report.figure(key).value for key in HEADLINE}

"""Logging helpers: a filter that keeps bot tokens out of every log line."""

from __future__ import annotations

import logging
import re

# A Telegram bot token is "<bot id>:<35 url-safe characters>".
TOKEN_PATTERN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")


def redact(text: str) -> str:
    """Replace anything shaped like a bot token with a marker."""
    return TOKEN_PATTERN.sub("[redacted-token]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message (and exception text) with tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True

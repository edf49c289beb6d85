"""Keeping bot tokens out of every log line and error report: a logging filter and an exception reporter."""

from __future__ import annotations

import logging
import re

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter

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


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error report (the DEBUG 500 page, the admins' email) with tokens redacted.

    Frame variables, the exception message and request data may all hold a token (a Bot API URL, a form
    field); Django hides only settings and variables named as sensitive, so the whole text is redacted.
    """

    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_html()))  # Django escaped it; only tokens change

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))  # the same type Django returns

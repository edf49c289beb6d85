"""Capturing what the configured log handlers really write (with their filters), for secrecy tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Loggers the settings quieten on purpose (they would print Bot API URLs): opened up while capturing, so the
# redaction filter, not the level, is what keeps tokens out.
QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "rq")


@contextmanager
def console_output() -> Iterator[io.StringIO]:
    """Everything the root logger's console handler writes, at DEBUG on every logger."""
    root = logging.getLogger()
    console = next(handler for handler in root.handlers if type(handler) is logging.StreamHandler)
    loggers = [root, *(logging.getLogger(name) for name in QUIET_LOGGERS)]
    levels = [logger.level for logger in loggers]
    stream = io.StringIO()
    previous = console.setStream(stream)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        console.setStream(previous)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

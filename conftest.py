"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_rq import get_connection
from redis import Redis


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    """The test Redis (a private embedded server, or CI's dedicated database), flushed around the test."""
    connection = get_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()

"""Test case bases shared by every app: Django's TestCase family, with the test Redis emptied around each test."""

from __future__ import annotations

import django_rq
from django.test import SimpleTestCase, TestCase, TransactionTestCase
from redis import Redis


class _FlushesRedis:
    """The test Redis (a private embedded server, or CI's own database) is empty when a test starts and ends."""

    redis: Redis

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.redis = django_rq.get_connection("default")
        self.redis.flushdb()
        self.addCleanup(self.redis.flushdb)  # type: ignore[attr-defined]


class RedisSimpleTestCase(_FlushesRedis, SimpleTestCase):
    """A test without the database that uses Redis."""


class RedisTestCase(_FlushesRedis, TestCase):
    """A database test (rolled back at its end) that uses Redis."""


class RedisTransactionTestCase(_FlushesRedis, TransactionTestCase):
    """A test whose database writes commit (other threads or processes read them) and that uses Redis."""

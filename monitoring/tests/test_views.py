from __future__ import annotations

import socket
from unittest import mock

import redis
from django.test import TestCase


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HealthTests(TestCase):
    def test_liveness_answers_without_login(self) -> None:
        response = self.client.get("/health/live")
        self.assertEqual((response.status_code, response.json()["status"]), (200, "ok"))

    def test_readiness_checks_database_and_redis(self) -> None:
        response = self.client.get("/health/ready")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["checks"], {"database": "ok", "redis": "ok"})

    def test_readiness_fails_when_redis_is_down(self) -> None:
        unreachable = redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.5)
        with mock.patch("monitoring.views.get_connection", return_value=unreachable):
            response = self.client.get("/health/ready")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["redis"], "error: ConnectionError")

"""RQ jobs: thin wrappers that take ids, call one service and decide retries."""

from __future__ import annotations

from engine import heartbeat as heartbeat_service


def heartbeat() -> float:
    """Record that the cron process and a worker are alive (read by readiness and metrics)."""
    return heartbeat_service.heartbeat_record()

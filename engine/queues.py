"""The RQ queues the engine's jobs run on (settings.RQ_QUEUES defines one per name)."""

from __future__ import annotations

from enum import StrEnum


class QueueName(StrEnum):
    """Where a job waits: workers take `high` first, then `default`, then `low`."""

    HIGH = "high"  # member replies, sends, typing, the tick: someone is waiting for them
    DEFAULT = "default"  # generation of the crowd's own turns
    LOW = "low"  # news, housekeeping, the recovery sweep


# Seconds a job of each queue may run before RQ kills it.
TIMEOUTS_S = {QueueName.HIGH: 60, QueueName.DEFAULT: 120, QueueName.LOW: 300}

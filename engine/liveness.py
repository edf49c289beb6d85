"""Which worker processes are alive, and which worker is working on each turn.

Every worker refreshes a short-lived key in Redis from a background thread, and records the turn of each
pipeline job it starts and each turn it claims (generating, sending). When a worker dies (SIGKILL, OOM, a lost
container) its key expires within ALIVE_TTL_S, and the recovery sweep finishes or re-enqueues its turns at once,
instead of waiting for the time-outs that a slow but live worker needs (minutes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError

from engine.redis import redis_connection

logger = logging.getLogger(__name__)
ALIVE_PREFIX = "piyasa:worker:alive:"
CLAIM_PREFIX = "piyasa:turn:claim:"
ALIVE_TTL_S = 20  # four missed refreshes before a live worker could look dead
REFRESH_S = 5.0
CLAIM_TTL_S = 30 * 60  # longer than any job: the sweep's time-outs take over after that
DONE_PREFIX = "done:"  # the worker's job for the turn is over (whatever state it left the turn in)
_MARK_DONE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') end
return 0
"""

_worker_name: str | None = None


def liveness_start(name: str) -> threading.Thread:
    """Mark this process as the live worker `name` and keep the mark fresh from a daemon thread."""
    global _worker_name
    _worker_name = name
    _refresh(name)
    thread = threading.Thread(target=_keep_alive, args=(name,), name="piyasa-liveness", daemon=True)
    thread.start()
    return thread


def _keep_alive(name: str) -> None:
    while not threading.Event().wait(REFRESH_S):
        _refresh(name)


def _refresh(name: str) -> None:
    try:
        redis_connection().set(ALIVE_PREFIX + name, 1, ex=ALIVE_TTL_S)
    except RedisError as error:  # Redis down: the worker's jobs fail anyway; keep trying
        logger.warning("liveness refresh failed: %s", error)


def claimant() -> str | None:
    """The name this process's claims are recorded under: its worker's, or None outside a worker."""
    return _worker_name


def claim_record(*turn_ids: int) -> None:
    """Record that this worker works on the turns (nothing outside a worker: the time-outs cover those)."""
    if _worker_name is None:
        return
    with redis_connection().pipeline(transaction=False) as pipe:
        for turn_id in turn_ids:
            pipe.set(CLAIM_PREFIX + str(turn_id), _worker_name, ex=CLAIM_TTL_S)
        pipe.execute()


@contextmanager
def working_on(*turn_ids: int) -> Iterator[None]:
    """Record the turns for the length of a pipeline job; when the job ends, mark their records done.

    A job that crashed after claiming a turn (e.g. the database went away) leaves it `generating` or
    `sending` with a record marked done: the sweep recovers it at once, although the worker lives on.
    """
    claim_record(*turn_ids)
    try:
        yield
    finally:
        _mark_done(turn_ids)


def _mark_done(turn_ids: tuple[int, ...]) -> None:
    if _worker_name is None:
        return
    try:
        with redis_connection().pipeline(transaction=False) as pipe:
            for turn_id in turn_ids:
                pipe.eval(_MARK_DONE, 1, CLAIM_PREFIX + str(turn_id), _worker_name, DONE_PREFIX + _worker_name)
            pipe.execute()
    except RedisError as error:  # Redis down: the sweep's time-outs cover these turns
        logger.warning("could not mark turns %s done: %s", list(turn_ids), error)


def orphaned_claims(turn_ids: list[int]) -> dict[int, str]:
    """Among these turns, those no live job works on: turn id → "dead" (worker gone) or "done" (job over)."""
    if not turn_ids:
        return {}
    redis = redis_connection()
    claimants = redis.mget([CLAIM_PREFIX + str(turn_id) for turn_id in turn_ids])
    claimed = {turn_id: _text(name) for turn_id, name in zip(turn_ids, claimants, strict=True) if name is not None}
    names = sorted({name for name in claimed.values() if not name.startswith(DONE_PREFIX)})
    alive = {name for name, mark in zip(names, redis.mget([ALIVE_PREFIX + n for n in names]), strict=True) if mark}
    states = {turn_id: "done" for turn_id, name in claimed.items() if name.startswith(DONE_PREFIX)}
    return states | {turn_id: "dead" for turn_id, name in claimed.items() if name in names and name not in alive}


def claims_forget(turn_ids: list[int]) -> None:
    """Drop the records of turns the recovery sweep has dealt with, so they are judged once."""
    if turn_ids:
        redis_connection().delete(*[CLAIM_PREFIX + str(turn_id) for turn_id in turn_ids])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

from __future__ import annotations

import itertools

import pytest
from redis import Redis

from engine.services.limits import (
    Window,
    backoff_set,
    backoff_until,
    hourly_cap,
    hourly_count_add,
    hourly_counts,
    reserve,
    telegram_windows,
)


def test_it_admits_up_to_the_limit_then_says_how_long_to_wait(redis_conn: Redis) -> None:
    window = [Window("t", 3, 60.0)]
    assert [reserve(window, now=100.0 + i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert reserve(window, now=110.0) == pytest.approx(50.0)
    assert reserve(window, now=160.5) == 0.0


def test_a_refusal_records_nothing(redis_conn: Redis) -> None:
    minute, second = Window("m", 20, 60.0), Window("s", 1, 1.0)
    assert reserve([minute, second], now=10.0) == 0.0
    assert reserve([minute, second], now=10.2) == pytest.approx(0.8)
    assert redis_conn.zcard("piyasa:limit:m") == 1


def test_a_chat_never_gets_more_than_20_messages_a_minute(redis_conn: Redis) -> None:
    windows = telegram_windows(chat_id=1, bot_id=1)
    sent, now = [], 0.0
    while now < 180.0:
        wait = reserve(windows, now=now)
        if wait == 0:
            sent.append(now)
            now += 0.01
        else:
            now += wait
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(sent))
    for start in sent:
        assert len([t for t in sent if start <= t < start + 60.0]) <= 20
    assert len(sent) == 60


def test_the_hourly_cap_is_random_in_range_and_stable(redis_conn: Redis) -> None:
    caps = {hourly_cap(bot_id=b, hour="2026112409", low=6, high=12) for b in range(50)}
    assert caps <= set(range(6, 13))
    assert len(caps) > 1
    assert hourly_cap(bot_id=7, hour="h", low=6, high=12) == hourly_cap(bot_id=7, hour="h", low=6, high=12)


def test_hourly_counts(redis_conn: Redis) -> None:
    hourly_count_add(1, "h")
    hourly_count_add(1, "h")
    assert hourly_counts([1, 2], "h") == {1: 2, 2: 0}


def test_backoff(redis_conn: Redis) -> None:
    assert backoff_until("tg:bot:1") == 0.0
    backoff_set("tg:bot:1", 5)
    assert backoff_until("tg:bot:1") > 0

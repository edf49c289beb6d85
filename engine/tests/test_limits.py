from __future__ import annotations

import itertools
import time

import pytest

from config.testing.cases import RedisSimpleTestCase
from engine.services.limits import (
    Reservation,
    Tally,
    Window,
    backoff_set,
    backoff_until,
    hourly_cap,
    hourly_counts,
    hourly_counts_add,
    reserve,
    reserve_each,
    tally_add,
    telegram_windows,
    windows_full,
)


class WindowTests(RedisSimpleTestCase):
    """Sliding windows: admitting up to a limit, waits, and events reserved together."""

    def test_it_admits_up_to_the_limit_then_says_how_long_to_wait(self) -> None:
        window = [Window("t", 3, 60.0)]
        assert [reserve(window, now=100.0 + i) for i in range(3)] == [0.0, 0.0, 0.0]
        assert reserve(window, now=110.0) == pytest.approx(50.0)
        assert reserve(window, now=160.5) == 0.0

    def test_a_refusal_records_nothing(self) -> None:
        minute, second = Window("m", 20, 60.0), Window("s", 1, 1.0)
        assert reserve([minute, second], now=10.0) == 0.0
        assert reserve([minute, second], now=10.2) == pytest.approx(0.8)
        assert self.redis.zcard("piyasa:limit:m") == 1

    def test_it_says_which_windows_are_full_without_recording(self) -> None:
        member, chat = Window("member", 1, 600.0), Window("chat", 5, 60.0)
        assert reserve([member, chat], now=100.0) == 0.0
        assert windows_full([member, chat], now=200.0) == [True, False]
        assert windows_full([member, chat], now=700.5) == [False, False]  # the member's event has left its window
        assert self.redis.zcard("piyasa:limit:chat") == 1

    def test_several_events_are_reserved_together_or_not_at_all(self) -> None:
        window, tokens = [Window("batch", 5, 60.0)], [Tally("tok", 30, 100, 600, 7.0)]
        assert reserve(window, tallies=tokens, now=100.0, events=3) == 0.0
        assert self.redis.zcard("piyasa:limit:batch") == 3
        # Two more fit, three do not: the wait is until the entry that makes room for the third leaves.
        assert reserve(window, now=101.0, events=3) == pytest.approx(59.0)
        assert self.redis.zcard("piyasa:limit:batch") == 3
        assert reserve(window, tallies=[Tally("tok", 80, 100, 600, 7.0)], now=101.0, events=2) == pytest.approx(7.0)
        assert reserve(window, now=101.0, events=6) == pytest.approx(60.0)  # more than the window ever holds
        assert (self.redis.zcard("piyasa:limit:batch"), self.redis.get("piyasa:limit:tok")) == (3, b"30")
        assert reserve(window, now=101.0, events=2) == 0.0
        assert reserve(window, now=102.0) == pytest.approx(58.0)

    def test_a_chat_never_gets_more_than_20_messages_a_minute(self) -> None:
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


class HourlyCapTests(RedisSimpleTestCase):
    """Each bot's random hourly cap and the counts against it."""

    def test_the_hourly_cap_is_random_in_range_and_stable(self) -> None:
        caps = {hourly_cap(bot_id=b, hour="2026112409", low=6, high=12) for b in range(50)}
        assert caps <= set(range(6, 13))
        assert len(caps) > 1
        assert hourly_cap(bot_id=7, hour="h", low=6, high=12) == hourly_cap(bot_id=7, hour="h", low=6, high=12)

    def test_hourly_counts(self) -> None:
        hourly_counts_add([1, 3], "h")
        hourly_counts_add([1], "h")
        hourly_counts_add([], "h")
        assert hourly_counts([1, 2, 3], "h") == {1: 2, 2: 0, 3: 1}
        assert 0 < self.redis.ttl("piyasa:limit:bothour:3:h") <= 7200


class TallyTests(RedisSimpleTestCase):
    """Tallies (tokens): a cap per period, charged together with the windows or not at all."""

    def test_a_tally_admits_up_to_its_cap_then_says_its_wait(self) -> None:
        def tokens(amount: int) -> list[Tally]:
            return [Tally("tokens", amount, cap=100, keep_s=90, wait_s=42.0)]

        assert reserve([], tallies=tokens(60), now=1.0) == 0.0
        assert reserve([], tallies=tokens(40), now=2.0) == 0.0
        assert reserve([], tallies=tokens(1), now=3.0) == 42.0
        assert self.redis.get("piyasa:limit:tokens") == b"100"
        assert 0 < self.redis.ttl("piyasa:limit:tokens") <= 90
        tally_add({"tokens": -30})  # the estimate was 30 tokens high
        assert reserve([], tallies=tokens(30), now=4.0) == 0.0

    def test_one_oversized_event_goes_when_the_tally_is_empty(self) -> None:
        oversized = [Tally("tokens", 500, cap=100, keep_s=90, wait_s=42.0)]
        assert reserve([], tallies=oversized, now=1.0) == 0.0
        assert reserve([], tallies=oversized, now=2.0) == 42.0

    def test_a_full_tally_or_window_records_in_neither(self) -> None:
        window = [Window("rpm", 1, 60.0)]
        tally = [Tally("tokens", 10, cap=100, keep_s=90, wait_s=5.0)]
        self.redis.set("piyasa:limit:tokens", 95)
        assert reserve(window, tallies=tally, now=1.0) == 5.0  # the tally is full: the window is not charged
        assert self.redis.zcard("piyasa:limit:rpm") == 0
        self.redis.set("piyasa:limit:tokens", 0)
        assert reserve(window, now=2.0) == 0.0
        assert reserve(window, tallies=tally, now=3.0) == 59.0  # the window is full: the tally is not charged
        assert self.redis.get("piyasa:limit:tokens") == b"0"


class BackoffTests(RedisSimpleTestCase):
    """Backoffs (e.g. a bot's 429 from Telegram) hold every reservation made with them."""

    def test_backoff(self) -> None:
        assert backoff_until("tg:bot:1") == 0.0
        backoff_set("tg:bot:1", 5)
        assert backoff_until("tg:bot:1") > 0

    def test_a_backoff_holds_every_reservation_made_with_it(self) -> None:
        window = [Window("tg:chat:1:sec", 1, 1.0)]
        backoff_set("tg:bot:1", 5)
        assert 4.0 < reserve(window, backoff="tg:bot:1") <= 5.0
        assert self.redis.zcard("piyasa:limit:tg:chat:1:sec") == 0  # nothing recorded while held
        assert reserve(window, backoff="tg:bot:2") == 0.0


class ReserveEachTests(RedisSimpleTestCase):
    """Several reservations decided in one go."""

    def test_several_reservations_are_decided_together_each_after_the_ones_before(self) -> None:
        backoff_set("tg:bot:9", 5)
        chat_one, chat_two = telegram_windows(chat_id=1, bot_id=1), telegram_windows(chat_id=2, bot_id=2)
        reservations = [
            Reservation(chat_one, backoff="tg:bot:1"),
            Reservation(chat_one, backoff="tg:bot:1"),  # the chat's second this second: it waits for the first
            Reservation(chat_two, backoff="tg:bot:9"),  # its bot is held
            Reservation([Window("off", 0, 60.0)]),  # a limit of 0 never admits
            Reservation(),  # nothing to reserve
            Reservation(chat_two, backoff="tg:bot:2"),
        ]

        waits = reserve_each(reservations, now=time.time())

        assert waits[:2] == [0.0, pytest.approx(1.0)]
        assert 4.0 < waits[2] <= 5.0
        assert waits[3:] == [60.0, 0.0, 0.0]
        assert self.redis.zcard("piyasa:limit:tg:chat:1:min") == self.redis.zcard("piyasa:limit:tg:chat:2:min") == 1

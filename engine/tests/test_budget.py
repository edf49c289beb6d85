"""The LLM budget governor: requests and tokens per minute and per day, 429s and the provider's headers."""

from __future__ import annotations

import pytest
from redis import Redis

from engine.clients.llm.base import RateLimitInfo
from engine.services import budget

LIMITS = {"rpm": 3, "tpm": 1_000, "daily_tokens": 100_000}


@pytest.fixture(autouse=True)
def _redis(redis_conn: Redis) -> None:
    """Every test starts with an empty budget."""


def test_it_admits_the_requests_per_minute_then_makes_the_next_wait() -> None:
    assert [budget.reserve(LIMITS, 10) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 59.0 < budget.reserve(LIMITS, 10) <= 60.0


def test_tokens_per_minute_make_a_request_wait_for_the_next_minute() -> None:
    assert budget.reserve(LIMITS, 900) == 0.0
    wait = budget.reserve(LIMITS, 200)
    assert 1.0 <= wait <= 60.0
    # The refused request took nothing: a smaller one still fits, in the same minute's requests.
    assert budget.reserve(LIMITS, 100) == 0.0


def test_the_daily_tokens_hold_requests_until_the_day_ends() -> None:
    daily = LIMITS | {"rpm": 100, "tpm": 10**9, "daily_tokens": 500}
    assert budget.reserve(daily, 400) == 0.0
    assert budget.reserve(daily, 200) > 60.0


def test_the_real_token_count_corrects_the_estimate() -> None:
    assert budget.reserve(LIMITS, 900) == 0.0
    budget.correct_tokens(300 - 900)  # 600 tokens were never used
    assert budget.reserve(LIMITS, 600) == 0.0


def test_a_429_makes_everyone_wait_without_taking_anything() -> None:
    budget.rate_limited(30)
    assert 29.0 < budget.reserve(LIMITS, 10) <= 30.0
    assert 29.0 < budget.blocked_for() <= 30.0


@pytest.mark.parametrize(
    "headers",
    [
        RateLimitInfo(remaining_requests=0, reset_requests_s=20.0),
        RateLimitInfo(remaining_tokens=budget.LOW_TOKENS - 1, reset_tokens_s=20.0),
    ],
)
def test_exhausted_rate_limit_headers_hold_requests_until_their_reset(headers: RateLimitInfo) -> None:
    budget.obey_headers(headers)
    assert 19.0 < budget.reserve(LIMITS, 10) <= 20.0


def test_headers_with_room_left_hold_nothing() -> None:
    budget.obey_headers(RateLimitInfo(remaining_requests=5, remaining_tokens=5_000))
    assert budget.reserve(LIMITS, 10) == 0.0


def test_a_batch_is_reserved_together_only_when_all_of_it_fits() -> None:
    assert budget.reserve_together(LIMITS, [100, 200])
    assert not budget.reserve_together(LIMITS, [100, 100])  # a third and fourth request: over 3 a minute
    assert not budget.reserve_together(LIMITS, [])
    assert budget.reserve(LIMITS, 10) == 0.0  # the refused batch took nothing
    assert budget.reserve(LIMITS, 10) > 0

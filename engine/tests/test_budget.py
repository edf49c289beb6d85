"""The LLM budget governor: requests and tokens per minute and per day, 429s and the provider's headers."""

from __future__ import annotations

from config.testing.cases import RedisSimpleTestCase
from engine.clients.llm.base import RateLimitInfo
from engine.runtime_settings import LlmBudget
from engine.services import budget

LIMITS = LlmBudget(rpm=3, tpm=1_000, daily_tokens=100_000)


class BudgetLimitTests(RedisSimpleTestCase):
    """Requests and tokens per minute and per day; every test starts with an empty budget."""

    def test_it_admits_the_requests_per_minute_then_makes_the_next_wait(self) -> None:
        assert [budget.reserve(LIMITS, 10) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert 59.0 < budget.reserve(LIMITS, 10) <= 60.0

    def test_tokens_per_minute_make_a_request_wait_for_the_next_minute(self) -> None:
        assert budget.reserve(LIMITS, 900) == 0.0
        wait = budget.reserve(LIMITS, 200)
        assert 1.0 <= wait <= 60.0
        # The refused request took nothing: a smaller one still fits, in the same minute's requests.
        assert budget.reserve(LIMITS, 100) == 0.0

    def test_the_daily_tokens_hold_requests_until_the_day_ends(self) -> None:
        daily = LlmBudget(rpm=100, tpm=100_000_000, daily_tokens=500)
        assert budget.reserve(daily, 400) == 0.0
        assert budget.reserve(daily, 200) > 60.0

    def test_the_real_token_count_corrects_the_estimate(self) -> None:
        assert budget.reserve(LIMITS, 900) == 0.0
        budget.correct_tokens(300 - 900)  # 600 tokens were never used
        assert budget.reserve(LIMITS, 600) == 0.0

    def test_a_batch_is_reserved_together_only_when_all_of_it_fits(self) -> None:
        assert budget.reserve_together(LIMITS, [100, 200])
        assert not budget.reserve_together(LIMITS, [100, 100])  # a third and fourth request: over 3 a minute
        assert not budget.reserve_together(LIMITS, [])
        assert budget.reserve(LIMITS, 10) == 0.0  # the refused batch took nothing
        assert budget.reserve(LIMITS, 10) > 0


class BudgetShareTests(RedisSimpleTestCase):
    """A request that can never fit is refused; each chat takes at most its share of a minute's tokens."""

    def test_a_request_larger_than_the_minutes_allowance_is_refused_and_takes_nothing(self) -> None:
        cases = [(1_001, None, 1.0), (501, 7, 0.5), (100_001, None, 1.0)]
        for estimate, chat_id, share in cases:
            with self.subTest(estimate=estimate, share=share):
                with self.assertRaises(budget.RequestTooLarge):
                    budget.reserve(LIMITS, estimate, chat_id=chat_id, share=share)
                assert not self.redis.keys("piyasa:limit:llm:*")
        assert budget.reserve(LIMITS, 1_000) == 0.0  # the whole minute still fits, into an empty one

    def test_a_chat_over_its_share_waits_while_another_chat_still_fits(self) -> None:
        assert budget.reserve(LIMITS, 400, chat_id=1, share=0.5) == 0.0
        assert 1.0 <= budget.reserve(LIMITS, 200, chat_id=1, share=0.5) <= 60.0
        assert budget.reserve(LIMITS, 200, chat_id=2, share=0.5) == 0.0

    def test_a_batch_is_not_reserved_together_past_the_minute_or_a_chats_share(self) -> None:
        limits = LlmBudget(rpm=100, tpm=1_000, daily_tokens=100_000)
        assert not budget.reserve_together(limits, [600, 600])  # over the minute even when it is empty
        assert not budget.reserve_together(limits, [300, 300], chat_ids=[1, 1], share=0.5)
        assert budget.reserve_together(limits, [300, 300], chat_ids=[1, 2], share=0.5)
        assert budget.reserve_together(limits, [100, 100], chat_ids=[1, 2], share=0.5)
        assert not budget.reserve_together(limits, [150], chat_ids=[1], share=0.5)  # chat 1 holds 400 of 500


class ProviderSignalTests(RedisSimpleTestCase):
    """A 429 and the provider's rate-limit headers hold everyone's requests."""

    def test_a_429_makes_everyone_wait_without_taking_anything(self) -> None:
        budget.rate_limited(30)
        assert 29.0 < budget.reserve(LIMITS, 10) <= 30.0
        assert 29.0 < budget.blocked_for() <= 30.0

    def test_exhausted_rate_limit_headers_hold_requests_until_their_reset(self) -> None:
        for headers in (
            RateLimitInfo(remaining_requests=0, reset_requests_s=20.0),
            RateLimitInfo(remaining_tokens=budget.LOW_TOKENS - 1, reset_tokens_s=20.0),
        ):
            with self.subTest(headers=headers):
                self.redis.flushdb()  # each case starts with an empty budget, as its own test did
                budget.obey_headers(headers)
                assert 19.0 < budget.reserve(LIMITS, 10) <= 20.0

    def test_headers_with_room_left_hold_nothing(self) -> None:
        budget.obey_headers(RateLimitInfo(remaining_requests=5, remaining_tokens=5_000))
        assert budget.reserve(LIMITS, 10) == 0.0

"""The LLM boundary over real HTTP to the fake Groq/OpenAI server, the circuit breaker, prices and headers."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from unittest.mock import patch

import httpx
import pytest
from django.test import SimpleTestCase, override_settings
from redis import ConnectionPool, Redis

from config.testing.cases import RedisSimpleTestCase
from config.testing.fake_llm import FakeLlmServer, format_reset
from engine.clients.llm import (
    BreakerState,
    CircuitBreaker,
    GroqProvider,
    LlmCircuitOpen,
    LlmClient,
    LlmPermanentError,
    LlmRateLimited,
    LlmRequest,
    LlmTransientError,
    OfflineProvider,
    OpenAICompatProvider,
    client_from_settings,
    cost_usd,
    parse_duration,
    parse_rate_limits,
    parse_retry_after,
    provider_from_settings,
)
from engine.clients.llm.base import estimate_prompt_tokens
from engine.clients.llm.breaker import CLEAN_TRUSTED_S
from engine.clients.loops import run

PROMPT = "Sen deneyimli bir borsacısın. AKBNK hakkında kısa bir yorum yaz."
REQUEST = LlmRequest(
    messages=[{"role": "system", "content": "Persona"}, {"role": "user", "content": PROMPT}],
    model="llama-3.3-70b-versatile",
    temperature=0.9,
    max_tokens=120,
    seed=7,
)


def groq_provider(fake: FakeLlmServer, timeout_s: float = 5.0) -> GroqProvider:
    return GroqProvider(
        api_key="gsk_test_secret", model="llama-3.1-8b-instant", base_url=fake.groq_base_url, timeout_s=timeout_s
    )


def completion_requests(fake: FakeLlmServer) -> int:
    return sum(1 for request in fake.requests if request.path.endswith("/chat/completions"))


class FakeLlmTestCase(SimpleTestCase):
    """Tests against the fake Groq/OpenAI server at self.fake, started once for the class and reset for each test."""

    fake: FakeLlmServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.fake = cls.enterClassContext(FakeLlmServer(limit_requests=1000, limit_tokens=50_000))

    def setUp(self) -> None:
        super().setUp()
        self.reset_fake()
        self.addCleanup(self.fake.reset)

    def reset_fake(self) -> None:
        """No recorded requests, scripted replies or faults; the default reply without latency."""
        self.fake.reset()
        self.fake.reply = "AKBNK tarafında hacim artıyor."
        self.fake.latency_s = 0.0


class GroqProviderTests(FakeLlmTestCase):
    def test_it_returns_text_tokens_latency_and_rate_limits(self) -> None:
        self.fake.latency_s = 0.05
        response = run(groq_provider(self.fake).complete(REQUEST))
        assert response.text == "AKBNK tarafında hacim artıyor."
        assert (response.provider, response.model) == ("groq", "llama-3.3-70b-versatile")
        assert response.tokens_in == (len("Persona" + PROMPT) + 3) // 4
        assert response.tokens_out == (len(response.text) + 3) // 4
        assert response.latency_ms >= 50
        limits = response.rate_limits
        assert limits is not None
        assert (limits.limit_requests, limits.remaining_requests, limits.limit_tokens) == (1000, 999, 50_000)
        assert limits.remaining_tokens == 50_000 - response.tokens_in - response.tokens_out
        assert limits.reset_requests_s is not None
        assert 0 < limits.reset_requests_s <= 60

    def test_the_request_carries_model_sampling_and_messages(self) -> None:
        run(groq_provider(self.fake).complete(REQUEST))
        [request] = self.fake.requests
        assert request.path == "/openai/v1/chat/completions"
        assert request.body["model"] == "llama-3.3-70b-versatile"
        assert (request.body["temperature"], request.body["max_tokens"], request.body["seed"]) == (0.9, 120, 7)
        assert request.body["messages"] == [dict(message) for message in REQUEST.messages]
        assert request.headers["authorization"] == "<redacted>"

    def test_an_empty_model_means_the_provider_default(self) -> None:
        run(groq_provider(self.fake).complete(LlmRequest(messages=[{"role": "user", "content": "hi"}])))
        assert self.fake.requests[0].body["model"] == "llama-3.1-8b-instant"
        assert "seed" not in self.fake.requests[0].body

    def test_429_raises_rate_limited_with_retry_after_and_is_not_retried(self) -> None:
        self.fake.rate_limit(times=3, retry_after=7)
        with self.assertRaises(LlmRateLimited) as caught:
            run(groq_provider(self.fake).complete(REQUEST))
        assert caught.exception.retry_after == 7.0
        assert caught.exception.retryable
        assert completion_requests(self.fake) == 1

    def test_5xx_is_transient_and_not_retried(self) -> None:
        for status in (500, 502, 503):
            with self.subTest(status=status):
                self.reset_fake()
                self.fake.server_error(times=3, status=status)
                with self.assertRaises(LlmTransientError):
                    run(groq_provider(self.fake).complete(REQUEST))
                assert completion_requests(self.fake) == 1

    def test_a_timeout_is_transient_and_returns_within_the_timeout(self) -> None:
        self.fake.stall(3.0)
        started = time.monotonic()
        with self.assertRaisesRegex(LlmTransientError, "timed out"):
            run(groq_provider(self.fake, timeout_s=0.3).complete(REQUEST))
        assert time.monotonic() - started < 1.5
        assert completion_requests(self.fake) == 1

    def test_client_errors_are_permanent(self) -> None:
        for status in (400, 401, 403, 404):
            with self.subTest(status=status):
                self.reset_fake()
                self.fake.fail(status)
                with self.assertRaises(LlmPermanentError) as caught:
                    run(groq_provider(self.fake).complete(REQUEST))
                assert not caught.exception.retryable

    def test_401_bad_key_is_permanent(self) -> None:
        self.fake.unauthorized()
        with self.assertRaisesRegex(LlmPermanentError, "401"):
            run(groq_provider(self.fake).complete(REQUEST))

    def test_a_refused_connection_is_transient(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        provider = GroqProvider(api_key="k", model="m", base_url=f"http://127.0.0.1:{port}", timeout_s=2)
        with self.assertRaisesRegex(LlmTransientError, "connection"):
            run(provider.complete(REQUEST))

    def test_a_200_that_is_no_completion_is_transient(self) -> None:
        for body, error in (
            (b"<html>502 Bad Gateway</html>", "unusable response"),
            (b'{"error": null}', "no choices"),
            (b'{"choices": []}', "no choices"),
            (b'{"choices": [{"message": {"content": ["AKBNK"]}}]}', "not text"),
        ):
            with self.subTest(body=body):
                self.reset_fake()
                self.fake.garble(body)
                with self.assertRaisesRegex(LlmTransientError, error):
                    run(groq_provider(self.fake).complete(REQUEST))
                assert completion_requests(self.fake) == 1

    def test_no_content_is_an_empty_text_and_missing_usage_is_estimated(self) -> None:
        self.fake.garble(b'{"choices": [{"message": {"role": "assistant", "content": null}}]}')
        response = run(groq_provider(self.fake).complete(REQUEST))
        assert (response.text, response.model, response.tokens_out) == ("", REQUEST.model, 0)
        assert response.tokens_in == estimate_prompt_tokens(REQUEST.messages)

    def test_the_fake_counts_down_rate_limits_per_request(self) -> None:
        provider = groq_provider(self.fake)
        first, second = run(provider.complete(REQUEST)), run(provider.complete(REQUEST))
        assert first.rate_limits is not None
        assert second.rate_limits is not None
        assert first.rate_limits.remaining_requests is not None
        assert second.rate_limits.remaining_requests == first.rate_limits.remaining_requests - 1


class OpenAICompatProviderTests(FakeLlmTestCase):
    def test_it_calls_the_v1_path_and_returns_the_completion(self) -> None:
        provider = OpenAICompatProvider(base_url=self.fake.openai_base_url, model="llama3.1", timeout_s=5)
        response = run(provider.complete(LlmRequest(messages=REQUEST.messages, temperature=0.7)))
        [request] = self.fake.requests
        assert request.path == "/v1/chat/completions"
        assert (request.body["model"], request.body["temperature"]) == ("llama3.1", 0.7)
        assert (response.text, response.provider, response.model) == (self.fake.reply, "openai_compat", "llama3.1")
        assert response.tokens_out > 0

    def test_429_and_5xx_map_to_our_errors_without_retries(self) -> None:
        provider = OpenAICompatProvider(base_url=self.fake.openai_base_url, model="llama3.1", timeout_s=5)
        self.fake.rate_limit(retry_after=2.5)
        self.fake.server_error()
        with self.assertRaises(LlmRateLimited) as caught:
            run(provider.complete(REQUEST))
        assert caught.exception.retry_after == 2.5
        with self.assertRaises(LlmTransientError):
            run(provider.complete(REQUEST))
        assert completion_requests(self.fake) == 2

    def test_a_200_that_is_not_json_is_transient(self) -> None:
        provider = OpenAICompatProvider(base_url=self.fake.openai_base_url, model="llama3.1", timeout_s=5)
        self.fake.garble(b"upstream crashed")
        with self.assertRaisesRegex(LlmTransientError, "unusable response"):
            run(provider.complete(REQUEST))


class FakeServerTests(FakeLlmTestCase):
    def test_queued_and_callable_replies_come_in_order(self) -> None:
        self.fake.queue_replies("first", lambda body: f"echo {body['model']}")
        provider = groq_provider(self.fake)
        texts = [run(provider.complete(REQUEST)).text for _ in range(3)]
        assert texts == ["first", "echo llama-3.3-70b-versatile", self.fake.reply]

    def test_latency_does_not_block_concurrent_requests(self) -> None:
        self.fake.latency_s = 0.4
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        started = time.monotonic()
        with httpx.Client(base_url=self.fake.openai_base_url) as http, ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(lambda _: http.post("/chat/completions", json=body).status_code, range(20)))
        assert statuses == [200] * 20
        assert time.monotonic() - started < 1.5

    def test_enforced_limits_answer_429_with_retry_after(self) -> None:
        with FakeLlmServer(limit_requests=1, enforce_limits=True) as fake:
            provider = groq_provider(fake)
            run(provider.complete(REQUEST))
            with self.assertRaises(LlmRateLimited) as caught:
                run(provider.complete(REQUEST))
        assert 0 < caught.exception.retry_after <= 60

    def test_reset_format_matches_groq(self) -> None:
        assert [format_reset(s) for s in (179.56, 7.66, 0.12)] == ["2m59.56s", "7.66s", "120ms"]


class HeaderParsingTests(SimpleTestCase):
    def test_parse_duration(self) -> None:
        cases: list[tuple[str, float | None]] = [
            ("2m59.56s", 179.56),
            ("7.66s", 7.66),
            ("120ms", 0.12),
            ("1h2m3s", 3723.0),
            ("12", 12.0),
            ("soon", None),
        ]
        for value, seconds in cases:
            with self.subTest(value=value):
                result = parse_duration(value)
                assert result == seconds if seconds is None else result == pytest.approx(seconds)

    def test_rate_limit_headers_parse_into_info(self) -> None:
        headers = httpx.Headers(
            {
                "X-RateLimit-Limit-Requests": "14400",
                "x-ratelimit-remaining-requests": "14370",
                "x-ratelimit-limit-tokens": "6000",
                "x-ratelimit-remaining-tokens": "5997",
                "x-ratelimit-reset-requests": "2m59.56s",
                "x-ratelimit-reset-tokens": "7.66s",
            }
        )
        info = parse_rate_limits(headers)
        assert info is not None
        assert (info.limit_requests, info.remaining_requests, info.limit_tokens, info.remaining_tokens) == (
            14400,
            14370,
            6000,
            5997,
        )
        assert (info.reset_requests_s, info.reset_tokens_s) == (pytest.approx(179.56), pytest.approx(7.66))

    def test_no_rate_limit_headers_means_none(self) -> None:
        assert parse_rate_limits(httpx.Headers({"content-type": "application/json"})) is None

    def test_retry_after_forms(self) -> None:
        assert parse_retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
        assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
        dated = parse_retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
        assert dated == 0.0
        assert parse_retry_after(httpx.Headers({})) is None


class CostTests(SimpleTestCase):
    def test_prices_per_million_tokens(self) -> None:
        assert cost_usd("llama-3.3-70b-versatile", 1_000_000, 1_000_000) == Decimal("1.38")
        assert cost_usd("llama-3.1-8b-instant", 2000, 500) == Decimal("0.00014")
        assert cost_usd("llama-3.3-70b-versatile", 1234, 56) == Decimal("0.00077230")

    def test_unknown_models_are_free(self) -> None:
        assert cost_usd("llama3.1", 10_000, 10_000) == Decimal(0)
        assert cost_usd("offline", 10, 10) == Decimal(0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_breaker(redis: Redis, clock: FakeClock, name: str = "groq") -> CircuitBreaker:
    return CircuitBreaker(redis, name, failure_threshold=3, cooldown_s=10.0, trial_timeout_s=30.0, clock=clock)


def second_connection(redis: Redis) -> Redis:
    """A separate connection pool to the same server, as another worker process would have."""
    pool = redis.connection_pool
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **pool.connection_kwargs))


class BreakerTestCase(RedisSimpleTestCase):
    """Tests of breakers on the test Redis (self.redis), their time read from a fake clock at self.clock."""

    clock: FakeClock

    def setUp(self) -> None:
        super().setUp()
        self.clock = FakeClock()


class CircuitBreakerTests(BreakerTestCase):
    def test_it_opens_after_n_consecutive_failures(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        for _ in range(2):
            breaker.record_failure()
        assert breaker.state() == BreakerState.CLOSED
        breaker.record_failure()
        assert breaker.state() == BreakerState.OPEN
        with self.assertRaises(LlmCircuitOpen) as caught:
            breaker.before_call()
        assert caught.exception.retry_after == pytest.approx(10.0)

    def test_a_success_resets_the_consecutive_count(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
        breaker.record_failure()
        breaker.record_failure()
        assert breaker.state() == BreakerState.CLOSED

    def test_only_a_breaker_holding_state_needs_a_success_recorded(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        assert breaker.before_call() is False  # clean: a success has nothing to clear
        breaker.record_failure()
        assert breaker.before_call() is True

    def test_a_clean_breaker_is_trusted_for_a_moment_without_asking_redis(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        assert breaker.before_call() is False
        other_worker = make_breaker(self.redis, self.clock)
        for _ in range(3):
            other_worker.record_failure()  # opens it, in Redis
        assert breaker.before_call() is False  # still trusted: Redis, open now, was not asked
        self.clock.now += CLEAN_TRUSTED_S
        with self.assertRaises(LlmCircuitOpen):
            breaker.before_call()  # the other worker's opening reaches it once the moment is over

    def test_a_failure_recorded_here_ends_the_trust_at_once(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        breaker.before_call()
        for _ in range(3):
            breaker.record_failure()
        with self.assertRaises(LlmCircuitOpen):
            breaker.before_call()

    def test_half_open_after_the_cooldown_allows_one_trial(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        for _ in range(3):
            breaker.record_failure()
        self.clock.now += 10.0
        assert breaker.state() == BreakerState.HALF_OPEN
        breaker.before_call()
        with self.assertRaises(LlmCircuitOpen):
            breaker.before_call()  # a second caller while the trial runs

    def test_a_successful_trial_closes_it(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        for _ in range(3):
            breaker.record_failure()
        self.clock.now += 11
        breaker.before_call()
        breaker.record_success()
        assert breaker.state() == BreakerState.CLOSED
        breaker.before_call()
        breaker.before_call()

    def test_a_failed_trial_reopens_it(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        for _ in range(3):
            breaker.record_failure()
        self.clock.now += 11
        breaker.before_call()
        breaker.record_failure()
        assert breaker.state() == BreakerState.OPEN
        self.clock.now += 9.9
        assert breaker.state() == BreakerState.OPEN
        self.clock.now += 0.2
        assert breaker.state() == BreakerState.HALF_OPEN

    def test_a_long_retry_after_keeps_it_open_longer(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        for _ in range(3):
            breaker.record_failure(retry_after=45.0)
        self.clock.now += 30
        assert breaker.state() == BreakerState.OPEN

    def test_a_stuck_trial_lets_another_trial_through_after_its_lease(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        for _ in range(3):
            breaker.record_failure()
        self.clock.now += 10
        breaker.before_call()  # this worker dies without recording anything
        self.clock.now += 30
        breaker.before_call()

    def test_state_is_shared_between_workers(self) -> None:
        worker_a, worker_b = (
            make_breaker(self.redis, self.clock),
            make_breaker(second_connection(self.redis), self.clock),
        )
        worker_a.record_failure()
        worker_b.record_failure()
        worker_a.record_failure()
        assert worker_b.state() == BreakerState.OPEN
        with self.assertRaises(LlmCircuitOpen):
            worker_b.before_call()
        self.clock.now += 10
        worker_b.before_call()
        with self.assertRaises(LlmCircuitOpen):
            worker_a.before_call()  # only one trial across workers
        worker_b.record_success()
        assert worker_a.state() == BreakerState.CLOSED

    def test_breakers_of_different_providers_are_independent(self) -> None:
        groq, local = (
            make_breaker(self.redis, self.clock, "groq"),
            make_breaker(self.redis, self.clock, "openai_compat"),
        )
        for _ in range(3):
            groq.record_failure()
        assert (groq.state(), local.state()) == (BreakerState.OPEN, BreakerState.CLOSED)

    def test_it_recovers_in_real_time(self) -> None:
        breaker = CircuitBreaker(self.redis, "groq", failure_threshold=1, cooldown_s=0.2)
        breaker.record_failure()
        assert breaker.state() == BreakerState.OPEN
        time.sleep(0.25)
        assert breaker.state() == BreakerState.HALF_OPEN


class LlmClientTests(FakeLlmTestCase, BreakerTestCase):
    def test_it_opens_on_failures_and_rejects_without_a_request(self) -> None:
        client = LlmClient(groq_provider(self.fake), make_breaker(self.redis, self.clock))
        self.fake.server_error(times=3)
        for _ in range(3):
            with self.assertRaises(LlmTransientError):
                run(client.complete(REQUEST))
        with self.assertRaises(LlmCircuitOpen):
            run(client.complete(REQUEST))
        assert completion_requests(self.fake) == 3

    def test_a_success_after_a_failure_clears_the_count_and_a_clean_call_writes_nothing(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        client = LlmClient(groq_provider(self.fake), breaker)
        self.fake.server_error(times=1)
        with self.assertRaises(LlmTransientError):
            run(client.complete(REQUEST))
        run(client.complete(REQUEST))
        assert not self.redis.exists("piyasa:llm:breaker:groq")
        with patch.object(breaker, "record_success") as recorded:
            run(client.complete(REQUEST))
        recorded.assert_not_called()

    def test_it_recovers_through_half_open(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        client = LlmClient(groq_provider(self.fake), breaker)
        self.fake.rate_limit(times=3, retry_after=1)
        for _ in range(3):
            with self.assertRaises(LlmRateLimited):
                run(client.complete(REQUEST))
        self.clock.now += 10
        assert run(client.complete(REQUEST)).text == self.fake.reply
        assert breaker.state() == BreakerState.CLOSED

    def test_permanent_errors_do_not_open_the_circuit(self) -> None:
        breaker = make_breaker(self.redis, self.clock)
        client = LlmClient(groq_provider(self.fake), breaker)
        self.fake.unauthorized(times=5)
        for _ in range(5):
            with self.assertRaises(LlmPermanentError):
                run(client.complete(REQUEST))
        assert breaker.state() == BreakerState.CLOSED


class FromSettingsTests(FakeLlmTestCase):
    @override_settings(LLM_PROVIDER="offline")
    def test_offline_has_no_breaker(self) -> None:
        client = client_from_settings()
        assert isinstance(client.provider, OfflineProvider)
        assert client.breaker is None

    @override_settings(LLM_PROVIDER="groq", GROQ_API_KEY="gsk_x", GROQ_BASE_URL="http://127.0.0.1:9", LLM_TIMEOUT_S=4)
    def test_groq_is_guarded_by_its_breaker(self) -> None:
        client = client_from_settings()
        assert isinstance(client.provider, GroqProvider)
        assert client.breaker is not None
        assert client.breaker.name == "groq"

    @override_settings(LLM_PROVIDER="openai_compat", OPENAI_COMPAT_BASE_URL="http://127.0.0.1:9/v1")
    def test_openai_compat(self) -> None:
        assert isinstance(provider_from_settings(), OpenAICompatProvider)

    def test_groq_settings_reach_the_server(self) -> None:
        with override_settings(
            GROQ_API_KEY="gsk_x", GROQ_BASE_URL=self.fake.groq_base_url, GROQ_MODEL="llama-3.1-8b-instant"
        ):
            run(GroqProvider.from_settings().complete(LlmRequest(messages=REQUEST.messages)))
        assert self.fake.requests[0].body["model"] == "llama-3.1-8b-instant"

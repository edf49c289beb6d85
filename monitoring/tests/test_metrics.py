"""The metric definitions and helpers, and the instrumentation: real turns move the counters on /metrics."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.test import SimpleTestCase
from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Histogram

from chats.models import Chat
from config.testing.cases import RedisSimpleTestCase, RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for
from engine import jobs
from engine.clients.llm import (
    CircuitBreaker,
    LlmCircuitOpen,
    LlmClient,
    LlmPermanentError,
    LlmRateLimited,
    LlmRequest,
    LlmResponse,
    OfflineProvider,
)
from engine.clients.loops import run
from engine.models import Turn
from engine.redis import redis_connection
from engine.runtime_settings import LlmBudget
from engine.services import budget, delivery, limits, planning, recovery, settings_update
from engine.tests.pipeline import drain, telegram_crowd
from monitoring import metrics
from monitoring.tests.scrape import scrape, value

REQUEST = LlmRequest(messages=[{"role": "user", "content": "THYAO?"}], max_tokens=50)


def sample(name: str, **labels: str) -> float:
    """This process's value of a series (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class DefinitionTests(SimpleTestCase):
    def test_every_metric_is_prefixed_and_in_base_units(self) -> None:
        defined = [m for m in vars(metrics).values() if isinstance(m, Counter | Histogram | metrics.GaugeSpec)]
        self.assertGreaterEqual(len(defined), 20)
        for metric in defined:
            name = metric.name if isinstance(metric, metrics.GaugeSpec) else metric._name
            with self.subTest(metric=name):
                self.assertTrue(name.startswith("piyasa_"))
                self.assertFalse(name.endswith("_total"), "prometheus_client adds _total to counters")
                self.assertFalse(any(unit in name for unit in ("_ms", "_milliseconds", "_minutes", "_cents")))
                if isinstance(metric, Histogram):
                    self.assertTrue(name.endswith("_seconds"))

    def test_known_label_sets_exist_at_zero_from_the_start(self) -> None:
        metrics.initialise_labels("groq", "llama-test")
        self.assertEqual(REGISTRY.get_sample_value("piyasa_turns_total", {"kind": "reaction", "outcome": "failed"}), 0)
        labels = {"method": "getWebhookInfo", "outcome": "rate_limited"}
        self.assertEqual(REGISTRY.get_sample_value("piyasa_telegram_requests_total", labels), 0)
        labels = {"provider": "groq", "model": "llama-test", "outcome": "circuit_open"}
        self.assertEqual(REGISTRY.get_sample_value("piyasa_llm_requests_total", labels), 0)
        # Other tests in this process observe generate lateness, so only the series' existence is checked here.
        self.assertIsNotNone(REGISTRY.get_sample_value("piyasa_schedule_lateness_seconds_count", {"job": "generate"}))


class HelperTests(SimpleTestCase):
    def test_label_values_outside_the_known_sets_become_other(self) -> None:
        before = sample("piyasa_turns_total", kind="other", outcome="other")
        metrics.record_turn_outcome("chat -100123", "exploded")
        self.assertEqual(sample("piyasa_turns_total", kind="other", outcome="other"), before + 1)
        before = sample("piyasa_telegram_requests_total", method="other", outcome="ok")
        metrics.record_telegram_request("sendPhoto", "ok")
        self.assertEqual(sample("piyasa_telegram_requests_total", method="other", outcome="ok"), before + 1)

    def test_model_labels_are_capped_per_process(self) -> None:
        with mock.patch.object(metrics, "_models_seen", set()):
            for index in range(metrics.MAX_MODEL_LABELS):
                metrics.record_llm_request("groq", f"model-{index}", outcome="ok")
            before = sample("piyasa_llm_requests_total", provider="groq", model="other", outcome="ok")
            metrics.record_llm_request("groq", "one-too-many", outcome="ok")
            metrics.record_llm_request("groq", "model-0", outcome="ok")
        self.assertEqual(sample("piyasa_llm_requests_total", provider="groq", model="other", outcome="ok"), before + 1)

    def test_early_jobs_count_as_on_time(self) -> None:
        before = sample("piyasa_schedule_lateness_seconds_bucket", job="send", le="0.05")
        metrics.observe_lateness("send", -3.0)
        self.assertEqual(sample("piyasa_schedule_lateness_seconds_bucket", job="send", le="0.05"), before + 1)

    def test_planner_deferrals_are_counted_by_reason(self) -> None:
        before = sample("piyasa_planner_deferrals_total", reason="global_cap")
        planning.TickResult().defer("global_cap")
        self.assertEqual(sample("piyasa_planner_deferrals_total", reason="global_cap"), before + 1)


class _Provider:
    name = "groq"
    default_model = "llama-default"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    async def complete(self, request: LlmRequest) -> LlmResponse:
        if self.error is not None:
            raise self.error
        return LlmResponse("AKBNK güçlü.", "llama-served", "groq", tokens_in=120, tokens_out=30, latency_ms=5)


class LlmInstrumentationTests(SimpleTestCase):
    def llm(self, error: Exception | None = None, breaker: CircuitBreaker | None = None) -> LlmClient:
        return LlmClient(_Provider(error), breaker)

    def test_a_completion_counts_request_duration_tokens_and_cost(self) -> None:
        labels = {"provider": "groq", "model": "llama-served"}  # the model the response names
        names = ("cost_usd_total", "request_duration_seconds_count")
        before = [sample(f"piyasa_llm_{name}", **labels) for name in names]
        requests = sample("piyasa_llm_requests_total", outcome="ok", **labels)
        prompt = sample("piyasa_llm_tokens_total", kind="prompt", **labels)
        with mock.patch("engine.clients.llm.base.PRICES_PER_MILLION", {"llama-served": (Decimal(1_000_000), 0)}):
            run(self.llm().complete(REQUEST))
        self.assertEqual(
            [sample(f"piyasa_llm_{name}", **labels) for name in names],
            [before[0] + 120, before[1] + 1],
        )
        self.assertEqual(sample("piyasa_llm_requests_total", outcome="ok", **labels), requests + 1)
        self.assertEqual(sample("piyasa_llm_tokens_total", kind="prompt", **labels), prompt + 120)

    def test_failures_are_counted_by_outcome_under_the_requested_model(self) -> None:
        labels = {"provider": "groq", "model": "llama-default"}
        for error, outcome in (
            (LlmRateLimited("429", retry_after=1), "rate_limited"),
            (LlmPermanentError("401"), "error"),
        ):
            before = sample("piyasa_llm_requests_total", outcome=outcome, **labels)
            with self.assertRaises(type(error)):
                run(self.llm(error).complete(REQUEST))
            self.assertEqual(sample("piyasa_llm_requests_total", outcome=outcome, **labels), before + 1)

    def test_an_open_circuit_is_counted_without_a_duration(self) -> None:
        breaker = mock.Mock(spec=CircuitBreaker)
        breaker.before_call.side_effect = LlmCircuitOpen("open", retry_after=5.0)
        labels = {"provider": "groq", "model": "llama-default"}
        before = sample("piyasa_llm_request_duration_seconds_count", **labels)
        open_before = sample("piyasa_llm_requests_total", outcome="circuit_open", **labels)
        with self.assertRaises(LlmCircuitOpen):
            run(self.llm(breaker=breaker).complete(REQUEST))
        self.assertEqual(sample("piyasa_llm_requests_total", outcome="circuit_open", **labels), open_before + 1)
        self.assertEqual(sample("piyasa_llm_request_duration_seconds_count", **labels), before)

    def test_the_offline_provider_is_labelled_offline(self) -> None:
        before = sample("piyasa_llm_requests_total", provider="offline", model="offline", outcome="ok")
        run(LlmClient(OfflineProvider()).complete(REQUEST))
        self.assertEqual(
            sample("piyasa_llm_requests_total", provider="offline", model="offline", outcome="ok"), before + 1
        )


# --- The instrumentation test: real turns through the fake Telegram Bot API ---


def _simulate(chat: Chat, *, until_sent: int, seconds: float = 30.0) -> None:
    settings_update(
        values={"simulation_active": True, "scale_factor": 10.0, "max_msgs_per_min": 600, "typing_enabled": True}
    )
    deadline = time.monotonic() + seconds
    while Turn.objects.filter(chat=chat, status=Turn.Status.SENT).count() < until_sent:
        assert time.monotonic() < deadline, "no turn was sent in time"
        jobs.tick()
        drain(0.3)
    settings_update(values={"simulation_active": False})


class TurnInstrumentationTests(RedisTransactionTestCase):
    """Turns through the fake Bot API at self.fake, with the offline LLM; their writes commit as in the engine."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")

    def test_a_turn_run_end_to_end_moves_the_counters_on_metrics(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        before = scrape()
        _simulate(chat, until_sent=2)
        after = scrape()

        def moved(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        sent = Turn.objects.filter(status=Turn.Status.SENT).count()
        assert moved("piyasa_turns_total", outcome="sent") == sent >= 2
        assert moved("piyasa_turn_latency_seconds_count") == sent
        assert moved("piyasa_schedule_lateness_seconds_count", job="send") >= sent
        assert moved("piyasa_telegram_requests_total", method="sendMessage", outcome="ok") == len(
            self.fake.requests("sendMessage")
        )
        assert moved("piyasa_telegram_requests_total", method="sendChatAction", outcome="ok") >= 1
        assert moved("piyasa_llm_requests_total", provider="offline", outcome="ok") >= 1
        assert moved("piyasa_llm_tokens_total", kind="completion") > 0
        assert moved("piyasa_telegram_requests_total", outcome="error") == 0

    def test_failed_and_rate_limited_sends_are_counted(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        now = timezone.now()
        first = Turn.objects.create(chat=chat, bot=bots[0], status=Turn.Status.READY, text="AKBNK?", due_at=now)
        second = Turn.objects.create(chat=chat, bot=bots[1], status=Turn.Status.READY, text="THYAO?", due_at=now)
        rate_limited = sample("piyasa_telegram_requests_total", method="sendMessage", outcome="rate_limited")
        failed = sample("piyasa_turns_total", kind="proactive", outcome="failed")
        errors = sample("piyasa_telegram_requests_total", method="sendMessage", outcome="error")
        self.fake.rate_limit("sendMessage", retry_after=1)
        assert delivery.send_turn(turn_id=first.pk) == "rate_limited"
        redis_connection().delete(f"{limits.PREFIX}tg:chat:{chat.pk}:sec")  # a second send in the chat within 1 s
        self.fake.bot_kicked("sendMessage")
        assert delivery.send_turn(turn_id=second.pk) == "failed"
        assert (
            sample("piyasa_telegram_requests_total", method="sendMessage", outcome="rate_limited") == rate_limited + 1
        )
        assert sample("piyasa_telegram_requests_total", method="sendMessage", outcome="error") == errors + 1
        assert sample("piyasa_turns_total", kind="proactive", outcome="failed") == failed + 1

    def test_the_recovery_sweep_counts_expired_and_unconfirmed_turns(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        old = timezone.now() - recovery.EXPIRY - timedelta(minutes=1)
        expired = Turn.objects.create(chat=chat, bot=bots[0], kind=Turn.Kind.REPLY, due_at=old)
        lost = Turn.objects.create(chat=chat, bot=bots[1], status=Turn.Status.SENDING, text="x", due_at=old)
        Turn.objects.filter(pk__in=[expired.pk, lost.pk]).update(created_at=old, sending_at=old)
        skipped = sample("piyasa_turns_total", kind="reply", outcome="skipped")
        unconfirmed = sample("piyasa_turns_total", kind="proactive", outcome="unconfirmed")
        assert recovery.recover_turns()["expired"] == 1
        assert sample("piyasa_turns_total", kind="reply", outcome="skipped") == skipped + 1
        assert sample("piyasa_turns_total", kind="proactive", outcome="unconfirmed") == unconfirmed + 1


class BudgetInstrumentationTests(RedisSimpleTestCase):
    def test_the_budget_governor_counts_the_calls_it_makes_wait(self) -> None:
        before = sample("piyasa_llm_budget_deferrals_total")
        limits = LlmBudget(rpm=1, tpm=10_000, daily_tokens=100_000)
        assert budget.reserve(limits, 100) == 0
        assert budget.reserve(limits, 100) > 0
        assert sample("piyasa_llm_budget_deferrals_total") == before + 1

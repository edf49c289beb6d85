from __future__ import annotations

import datetime as dt
import socket
import time
from unittest import mock
from zoneinfo import ZoneInfo

import django_rq
import redis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from accounts.services import api_user_create
from bots.services import bot_create
from chats.models import Message
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTestCase
from engine.clients.llm import breaker_for
from engine.heartbeat import HEARTBEAT_KEY, heartbeat_record
from engine.services import limits, settings_update
from monitoring import collectors, metrics
from monitoring.selectors import SUMMARY_CACHE_KEY
from monitoring.tests.scrape import scrape, value


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unreachable_redis() -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.5)


class HealthTests(RedisTestCase):
    def test_liveness_answers_without_login(self) -> None:
        response = self.client.get("/health/live")
        self.assertEqual((response.status_code, response.json()["status"]), (200, "ok"))

    def test_readiness_checks_database_redis_and_a_fresh_heartbeat(self) -> None:
        heartbeat_record()
        response = self.client.get("/health/ready")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["checks"], {"database": "ok", "redis": "ok", "heartbeat": "ok"})

    def test_readiness_fails_without_a_heartbeat(self) -> None:
        response = self.client.get("/health/ready")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["heartbeat"], "error: no heartbeat")

    def test_readiness_fails_when_the_heartbeat_is_stale(self) -> None:
        self.redis.set(HEARTBEAT_KEY, time.time() - 90)
        response = self.client.get("/health/ready")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["heartbeat"], "error: stale (90 s old)")

    def test_readiness_fails_when_redis_is_down(self) -> None:
        heartbeat_record()
        with mock.patch("monitoring.health.get_connection", return_value=_unreachable_redis()):
            response = self.client.get("/health/ready")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["redis"], "error: ConnectionError")


class MetricsEndpointTests(RedisTestCase):
    def test_it_serves_django_prometheus_http_and_database_metrics(self) -> None:
        self.client.get("/health/live")
        samples = scrape(self.client)
        self.assertGreaterEqual(
            value(samples, "django_http_requests_total_by_view_transport_method_total", view="health-live"), 1
        )
        self.assertGreaterEqual(value(samples, "django_http_responses_total_by_status_total", status="200"), 1)
        self.assertGreaterEqual(
            value(samples, "django_http_requests_latency_seconds_by_view_method_count", view="health-live"), 1
        )
        self.assertGreaterEqual(value(samples, "django_db_execute_total"), 1)

    def test_it_answers_prometheus_without_login(self) -> None:
        response = self.client.get("/metrics")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/plain"))

    def test_scrape_time_gauges_read_the_database_and_redis(self) -> None:
        settings_update(values={"simulation_active": True})
        heartbeat_record()
        chat = chat_create(title="Borsa", cadence=1)
        membership_add(chat=chat, bot=bot_create(name="Ali", username="ali_bot", token="1:a"))
        bot_create(name="Veli", username="veli_bot", token="2:b")  # no membership: not active
        asleep = (timezone.now() + dt.timedelta(hours=3)).astimezone(ZoneInfo(chat.timezone)).strftime("%H:00")
        hours = [f"{asleep}-{asleep[:2]}:30"]
        night_owl = bot_create(name="Gece", username="gece_bot", token="3:c", active_hours=hours)
        membership_add(chat=chat, bot=night_owl)  # outside its active hours now: not active
        with self.captureOnCommitCallbacks(execute=True):  # django-rq enqueues after the commit
            django_rq.get_queue("low").enqueue("engine.jobs.fetch_news")
        limits.backoff_set("tg:bot:1", 30)
        samples = scrape(self.client)
        self.assertEqual(value(samples, "piyasa_simulation_active"), 1)
        self.assertEqual(value(samples, "piyasa_active_bots"), 1)
        self.assertAlmostEqual(value(samples, "piyasa_engine_last_tick_timestamp_seconds"), time.time(), delta=5)
        self.assertEqual(value(samples, "piyasa_queue_jobs", queue="low"), 1)
        self.assertEqual(value(samples, "piyasa_queue_jobs", queue="high"), 0)
        self.assertAlmostEqual(value(samples, "piyasa_telegram_backoff_seconds"), 30, delta=2)
        self.assertEqual(value(samples, "piyasa_collector_errors"), 0)

    def test_breaker_state_is_exported_per_dependency(self) -> None:
        breaker = breaker_for("groq")
        for _ in range(breaker.failure_threshold):
            breaker.record_failure()
        samples = scrape(self.client)
        self.assertEqual(value(samples, "piyasa_circuit_breaker_state", dependency="groq"), 2)
        self.assertEqual(value(samples, "piyasa_circuit_breaker_state", dependency="openai_compat"), 0)

    def test_llm_budget_wait_comes_from_the_shared_backoff(self) -> None:
        limits.backoff_set("llm", 20)
        self.assertAlmostEqual(value(scrape(self.client), "piyasa_llm_budget_wait_seconds"), 20, delta=2)

    def test_an_unreachable_redis_is_counted_quickly_and_the_rest_still_served(self) -> None:
        self.client.get("/health/live")
        started = time.monotonic()
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
            samples = scrape(self.client)
        self.assertLess(time.monotonic() - started, 10.0)  # with redis-py's retries: ~4 s per call, 5 sources
        self.assertEqual(value(samples, "piyasa_collector_errors"), len(collectors.REDIS_SOURCES))
        self.assertNotIn(("piyasa_workers", frozenset()), samples)
        self.assertIn(("piyasa_simulation_active", frozenset()), samples)
        self.assertGreaterEqual(value(samples, "django_http_responses_total_by_status_total"), 1)

    def test_a_failing_source_is_counted_and_skipped(self) -> None:
        with mock.patch.object(collectors.Worker, "count", side_effect=redis.ResponseError("WRONGTYPE")):
            samples = scrape(self.client)
        self.assertEqual(value(samples, "piyasa_collector_errors"), 1)
        self.assertNotIn(("piyasa_queue_jobs", frozenset({("queue", "high")})), samples)
        self.assertIn(("piyasa_telegram_backoff_seconds", frozenset()), samples)

    def test_headline_quality_figures_are_gauges_over_the_last_half_hour(self) -> None:
        chat = chat_create(title="Borsa")
        bot = bot_create(name="Kemal", username="kemal_bot")
        membership_add(chat=chat, bot=bot)
        asked = Message.objects.create(chat=chat, sender_name="Ali", text="@kemal_bot THYAO nereye?")
        Message.objects.create(chat=chat, bot=bot, sender_name="Kemal", text="THYAO yatay.", reply_to=asked)
        Message.objects.create(chat=chat, bot=bot, sender_name="Kemal", text="THYAO yatay kalır.")
        old = Message.objects.create(chat=chat, bot=bot, sender_name="Kemal", text="Eski mesaj.")
        Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
        samples = scrape(self.client)
        self.assertEqual(value(samples, "piyasa_conversation_quality", figure="same_speaker_in_a_row"), 0.5)
        self.assertEqual(value(samples, "piyasa_conversation_quality", figure="addressed_first"), 1.0)
        self.assertEqual(value(samples, "piyasa_conversation_quality", figure="doubled_replies"), 0.0)
        # A figure with nothing to measure has no sample rather than a made-up value.
        self.assertNotIn(("piyasa_conversation_quality", frozenset({("figure", "trigram_reuse")})), samples)
        self.assertEqual(value(samples, "piyasa_collector_errors"), 0)


class SummaryTests(RedisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user_model = get_user_model()

    def login(self, role: Role) -> None:
        user, _ = api_user_create(username=f"{role.value}-user", role=role)
        self.client.force_login(user)

    def test_it_requires_a_user_with_a_role(self) -> None:
        self.assertIn(self.client.get("/api/metrics/summary").status_code, (401, 403))
        self.client.force_login(self.user_model.objects.create_user("member", password="x", is_staff=True))
        self.assertEqual(self.client.get("/api/metrics/summary").status_code, 403)

    def test_viewers_get_the_dashboard_figures(self) -> None:
        self.login(Role.VIEWER)
        heartbeat_record()
        before = self.client.get("/api/metrics/summary").json()
        metrics.record_turn_outcome("reply", "sent")
        metrics.record_telegram_request("sendMessage", "rate_limited")
        after = self.client.get("/api/metrics/summary").json()
        self.assertEqual(after["turns"]["sent"], before["turns"]["sent"] + 1)
        self.assertEqual(
            after["telegram"]["requests"]["rate_limited"], before["telegram"]["requests"]["rate_limited"] + 1
        )
        self.assertEqual(after["llm"]["circuit_breakers"], {"groq": "closed", "openai_compat": "closed"})
        self.assertEqual(set(after["queues"]), {"high", "default", "low"})
        self.assertLess(after["engine"]["heartbeat_age_s"], 5)
        self.assertEqual(after["collector_errors"], 0)

    def test_it_reports_the_health_of_every_part(self) -> None:
        self.login(Role.VIEWER)
        heartbeat_record()
        health = self.client.get("/api/metrics/summary").json()["health"]
        self.assertEqual(set(health), {"database", "redis", "workers", "cron", "llm", "telegram"})
        self.assertEqual((health["database"], health["redis"], health["cron"]), ("ok", "ok", "ok"))
        self.assertEqual(health["workers"], "error: no worker running")  # none in this test
        self.assertEqual(health["llm"], "ok (offline)")

    @override_settings(LLM_PROVIDER="groq")
    def test_an_open_llm_circuit_is_an_error(self) -> None:
        self.login(Role.VIEWER)
        breaker = breaker_for("groq")
        for _ in range(10):
            breaker.record_failure()
        self.assertEqual(self.client.get("/api/metrics/summary").json()["health"]["llm"], "error: groq circuit open")

    def test_a_telegram_backoff_is_a_warning(self) -> None:
        self.login(Role.VIEWER)
        limits.backoff_set("tg:bot:7", 30)
        telegram = self.client.get("/api/metrics/summary").json()["health"]["telegram"]
        self.assertRegex(telegram, r"^warning: a bot is backing off for (29|30) s \(429\)$")

    @override_settings(METRICS_SUMMARY_CACHE_S=30)
    def test_viewers_share_one_summary_for_a_few_seconds(self) -> None:
        self.login(Role.VIEWER)
        first = self.client.get("/api/metrics/summary").json()
        metrics.record_turn_outcome("reply", "sent")
        self.assertEqual(self.client.get("/api/metrics/summary").json(), first)
        cache.delete(SUMMARY_CACHE_KEY)
        self.assertEqual(self.client.get("/api/metrics/summary").json()["turns"]["sent"], first["turns"]["sent"] + 1)

from __future__ import annotations

import json
from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django_rq import get_connection, get_queue
from rq import Worker

from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTestCase
from config.testing.fake_llm import FakeLlmServer
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for, make_token
from engine.heartbeat import HEARTBEAT_KEY, heartbeat_record
from engine.services import preflight
from engine.services.preflight import Check, Report, Status, preflight_run


def by_name(report: Report) -> dict[str, Check]:
    return {check.name: check for check in report.checks}


def run(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("preflight", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


class FakeTelegramTestCase(RedisTestCase):
    """A fake Bot API server for each test, with the offline LLM provider."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")


class PreflightRunTests(FakeTelegramTestCase):
    """The whole report, run against a fake Bot API server."""

    def test_a_healthy_system_passes_with_warnings_for_missing_cron_and_workers(self) -> None:
        report = preflight_run()
        checks = by_name(report)
        assert report.ok
        assert [checks[name].status for name in ("database", "migrations", "redis")] == ["ok", "ok", "ok"]
        assert checks["migrations"].detail == "all migrations applied"
        assert checks["cron heartbeat"].status == Status.WARN
        assert checks["workers"].status == Status.WARN
        assert checks["llm"] == Check("llm", Status.OK, "offline provider (no key needed)")

    def test_fresh_heartbeat_and_a_registered_worker_are_ok(self) -> None:
        heartbeat_record()
        worker = Worker([get_queue(name) for name in preflight.QUEUES], connection=get_connection("default"))
        worker.register_birth()
        try:
            checks = by_name(preflight_run())
        finally:
            worker.register_death()
        assert checks["cron heartbeat"].status == Status.OK
        assert checks["workers"] == Check("workers", Status.OK, "1 worker(s) on high, default, low")

    def test_a_stale_heartbeat_warns(self) -> None:
        get_connection("high").set(HEARTBEAT_KEY, 1.0)
        check = by_name(preflight_run())["cron heartbeat"]
        assert check.status == Status.WARN
        assert check.detail.startswith("stale: last tick")

    def test_each_bot_is_checked_with_get_me_and_webhook_info(self) -> None:
        fake = self.fake
        good = fake.add_bot(username="good_bot")
        renamed = fake.add_bot(username="actual_bot")
        fake.add_bot(username="hooked_bot")
        unknown = make_token(9_999_999)
        bot_create(name="Good", username="good_bot", token=good.token)
        bot_create(name="Renamed", username="stored_bot", token=renamed.token)
        bot_create(name="Unknown", username="unknown_bot", token=unknown)
        bot_create(name="Sandbox", username="sandbox_bot")
        bot_create(name="Off", username="off_bot", token=make_token(8_888_888), is_enabled=False)

        report = preflight_run()
        checks = {check.name.split(" [")[0] + " " + check.name.split("] ")[-1]: check for check in report.checks}
        assert checks["bot Good getMe"] == Check(checks["bot Good getMe"].name, Status.OK, f"@good_bot (id {good.id})")
        assert checks["bot Good webhook"].detail == "no webhook (polling), 0 pending"
        assert checks["bot Renamed getMe"].status == Status.WARN
        assert "@actual_bot" in checks["bot Renamed getMe"].detail
        assert checks["bot Unknown getMe"].status == Status.FAIL
        assert "Unauthorized" in checks["bot Unknown getMe"].detail
        assert checks["bot Sandbox bot Sandbox [no token]"].detail == "sandbox only (no token)"
        assert not any("Off" in check.name for check in report.checks)
        assert not report.ok
        assert [check.name.split(" [")[0] for check in report.failed] == ["bot Unknown"]


class CheckTests(RedisTestCase):
    """Single checks and their failures."""

    def test_unapplied_migrations_fail(self) -> None:
        migration = mock.Mock(app_label="engine", name="0099_future")
        migration.name = "0099_future"
        with mock.patch("engine.services.preflight.MigrationExecutor") as executor:
            executor.return_value.migration_plan.return_value = [(migration, False)]
            check = preflight.check_migrations()
        assert check.status == Status.FAIL
        assert "1 unapplied" in check.detail
        assert "engine.0099_future" in check.detail

    def test_an_unreachable_redis_fails_that_check_only(self) -> None:
        with mock.patch("engine.services.preflight.get_connection") as connection:
            connection.return_value.ping.side_effect = ConnectionError("connection refused")
            check = preflight._guarded("redis", preflight.check_redis)
        assert check == Check("redis", Status.FAIL, "ConnectionError: connection refused")

    @override_settings(LLM_PROVIDER="groq", GROQ_API_KEY="")
    def test_groq_without_a_key_fails(self) -> None:
        assert preflight.check_llm() == Check("llm", Status.FAIL, "groq: GROQ_API_KEY is not set")

    def test_llm_call_makes_one_completion_through_the_configured_client(self) -> None:
        with (
            FakeLlmServer(reply="ok") as server,
            override_settings(
                LLM_PROVIDER="openai_compat", OPENAI_COMPAT_BASE_URL=server.openai_base_url, OPENAI_COMPAT_MODEL="tiny"
            ),
        ):
            assert "not called" in preflight.check_llm().detail
            assert server.requests == []
            check = preflight.check_llm(call=True)
            assert check.status == Status.OK, check
            assert len(server.requests) == 1
            server.unauthorized()
            failed = preflight.check_llm(call=True)
        assert failed.status == Status.FAIL
        assert failed.detail.startswith("openai_compat: LlmPermanentError")

    def test_a_webhook_error_warns(self) -> None:
        probe = preflight._BotProbe("bot A [1234…abcd]", "a_bot", "1234:secret")
        info = {"url": "https://x.example/tg/1", "pending_update_count": 3, "last_error_message": "Connection refused"}
        check = preflight._webhook_check(probe, info)
        assert check.status == Status.WARN
        assert check.detail == "url https://x.example/tg/1, 3 pending, last error: Connection refused"


class PreflightCommandTests(FakeTelegramTestCase):
    """`manage.py preflight`: its table, its JSON and its exit status."""

    def test_the_command_prints_an_aligned_report_without_tokens_and_exits_non_zero(self) -> None:
        fake = self.fake
        good = fake.add_bot(username="good_bot")
        unknown = make_token(9_999_999)
        bot_create(name="Good", username="good_bot", token=good.token)
        bot_create(name="Unknown", username="unknown_bot", token=unknown)

        out, error = run()
        assert error is not None
        assert str(error) == "preflight failed: 1 check(s) failed"
        for token in (good.token, unknown):
            assert token not in out
            assert token.split(":")[1] not in out
        lines = out.splitlines()
        assert lines[0].startswith("CHECK")
        assert "STATUS  DETAIL" in lines[0]
        status_column = lines[0].index("STATUS")
        assert all(line[status_column:].split()[0] in {"OK", "WARN", "FAIL", "INFO"} for line in lines[1:-1])
        assert "bot Unknown [9999…" in out
        assert fake.requests("getMe", token=unknown)

    def test_the_command_passes_and_prints_json(self) -> None:
        fake = self.fake
        bot_create(name="Good", username="good_bot", token=fake.add_bot(username="good_bot").token)
        out, error = run("--json")
        assert error is None
        data = json.loads(out)
        assert data["ok"] is True
        assert {"name": "llm", "status": "ok", "detail": "offline provider (no key needed)"} in data["checks"]
        assert {check["status"] for check in data["checks"]} <= {"ok", "warn", "info"}


class PrivacyModeTests(FakeTelegramTestCase):
    """getMe's `can_read_all_group_messages`: a listening bot with privacy mode on is warned about, with the fix."""

    def listening_bot(self, username: str, *, can_read: bool) -> str:
        fake_bot = self.fake.add_bot(username=username, can_read_all_group_messages=can_read)
        bot = bot_create(name=username, username=username, token=fake_bot.token)
        chat = chat_create(title="Grup", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100123, is_enabled=True)
        membership_add(chat=chat, bot=bot)
        return f"bot {username} [{bot.masked_token}] getMe"

    def test_a_listening_bot_with_privacy_mode_on_is_a_warning_saying_how_to_fix_it(self) -> None:
        name = self.listening_bot("private_bot", can_read=False)
        check = by_name(preflight_run())[name]
        assert check.status == Status.WARN
        assert "will not see members' ordinary messages" in check.detail
        assert "/setprivacy → the bot → Disable" in check.detail
        assert "group admin" in check.detail

    def test_a_listening_bot_that_reads_all_messages_is_ok(self) -> None:
        name = self.listening_bot("open_bot", can_read=True)
        assert by_name(preflight_run())[name].status == Status.OK

    def test_a_bot_in_no_enabled_group_is_not_warned_about_privacy_mode(self) -> None:
        token = self.fake.add_bot(username="idle_bot").token
        bot = bot_create(name="idle_bot", username="idle_bot", token=token)
        assert by_name(preflight_run())[f"bot idle_bot [{bot.masked_token}] getMe"].status == Status.OK

    def test_the_command_prints_the_privacy_warning(self) -> None:
        self.listening_bot("private_bot", can_read=False)
        output, error = run()
        assert error is None
        assert "/setprivacy" in output

"""A group's capabilities (getChat) through PTB against the fake Bot API: stored on enable and every few minutes,
and the bots' memberships paused or resumed by the group's rights."""

from __future__ import annotations

import importlib
import sys

import django_rq
from rq import cron as rq_cron

from chats.models import Chat, Membership
from chats.services import chat_discover, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for
from engine import jobs
from engine.services.capabilities import NO_RIGHT_TO_SEND, chat_capabilities_refresh, chat_enable
from engine.tests.pipeline import drain, telegram_crowd

GROUP = -1001234567890


class CapabilitiesTestCase(RedisTransactionTestCase):
    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0)
        self.chat, self.bots = telegram_crowd(self.fake, size=2, chat_id=GROUP)

    def paused(self) -> dict[str, str]:
        rows = Membership.objects.filter(chat=self.chat, paused_at__isnull=False).values_list(
            "bot__name", "paused_reason"
        )
        return dict(rows)


class RefreshTests(CapabilitiesTestCase):
    def test_it_stores_what_get_chat_says(self) -> None:
        self.fake.set_chat(GROUP, is_forum=True, slow_mode_delay=30, available_reactions=["👍", "🔥"])
        assert chat_capabilities_refresh(chat_id=self.chat.pk) == "refreshed"
        self.chat.refresh_from_db()
        assert (self.chat.is_forum, self.chat.slow_mode_delay, self.chat.available_reactions) == (
            True,
            30,
            ["👍", "🔥"],
        )
        assert self.chat.permissions["can_send_messages"] is True
        assert self.chat.capabilities_checked_at is not None
        assert len(self.fake.requests("getChat")) == 1

    def test_every_emoji_allowed_is_kept_apart_from_reactions_off(self) -> None:
        chat_capabilities_refresh(chat_id=self.chat.pk)
        self.chat.refresh_from_db()
        assert self.chat.available_reactions is None
        self.fake.set_chat(GROUP, available_reactions=[])
        chat_capabilities_refresh(chat_id=self.chat.pk)
        self.chat.refresh_from_db()
        assert self.chat.available_reactions == []

    def test_a_refused_get_chat_changes_nothing(self) -> None:
        self.fake.chat_not_found("getChat")
        assert chat_capabilities_refresh(chat_id=self.chat.pk).startswith("failed:")
        self.chat.refresh_from_db()
        assert self.chat.capabilities_checked_at is None

    def test_the_periodic_job_asks_for_every_enabled_telegram_chat_only(self) -> None:
        chat_discover(telegram_chat_id=-1009, title="Yeni", telegram_type="supergroup", is_forum=False)
        assert jobs.refresh_capabilities() == {"refreshed": 1, "failed": 0}
        assert [request.chat_id for request in self.fake.requests("getChat")] == [GROUP]

    def test_the_periodic_job_is_registered_every_fifteen_minutes_on_the_low_queue(self) -> None:
        saved = rq_cron._job_data_registry[:]
        rq_cron._job_data_registry.clear()
        sys.modules.pop("config.cron", None)
        try:
            importlib.import_module("config.cron")
            entries = [entry for entry in rq_cron._job_data_registry if entry["func"] is jobs.refresh_capabilities]
        finally:
            rq_cron._job_data_registry[:] = saved
        assert [(e["queue_name"], e["interval"], e["ttl"]) for e in entries] == [("low", 900, 900)]

    def test_enabling_a_discovered_group_asks_telegram_for_its_capabilities(self) -> None:
        chat, _ = chat_discover(telegram_chat_id=-1007, title="Yeni", telegram_type="supergroup", is_forum=False)
        membership_add(chat=chat, bot=self.bots[0])
        self.fake.set_chat(-1007, slow_mode_delay=10)
        chat_enable(chat=chat)
        assert [job.func_name for job in django_rq.get_queue("low").jobs] == ["engine.jobs.refresh_chat_capabilities"]
        drain(5)
        chat.refresh_from_db()
        assert (chat.is_enabled, chat.is_discovered, chat.slow_mode_delay) == (True, False, 10)


class PermissionTests(CapabilitiesTestCase):
    def test_a_bot_that_is_no_admin_pauses_where_members_may_not_send(self) -> None:
        self.fake.set_member_status(GROUP, self.fake.bot(self.bots[1].token).user(), "administrator")
        self.fake.set_chat(GROUP, permissions={"can_send_messages": False})
        chat_capabilities_refresh(chat_id=self.chat.pk)
        assert self.paused() == {self.bots[0].name: NO_RIGHT_TO_SEND}

    def test_it_resumes_when_members_may_send_again(self) -> None:
        self.fake.set_chat(GROUP, permissions={"can_send_messages": False})
        chat_capabilities_refresh(chat_id=self.chat.pk)
        assert len(self.paused()) == 2
        self.fake.set_chat(GROUP, permissions={"can_send_messages": True})
        chat_capabilities_refresh(chat_id=self.chat.pk)
        assert self.paused() == {}

    def test_a_bot_muted_or_kicked_meanwhile_is_paused_with_its_own_reason(self) -> None:
        self.fake.set_bot_status(GROUP, self.bots[0].token, "restricted", can_send_messages=False)
        self.fake.set_bot_status(GROUP, self.bots[1].token, "kicked")
        chat_capabilities_refresh(chat_id=self.chat.pk)  # the muted bot asks: the kicked one cannot
        reasons = self.paused()
        assert reasons[self.bots[0].name].startswith("muted")
        assert "kicked" in reasons[self.bots[1].name]

    def test_a_paused_bot_is_not_the_one_that_asks(self) -> None:
        self.fake.set_bot_status(GROUP, self.bots[0].token, "kicked")
        chat_capabilities_refresh(chat_id=self.chat.pk)
        self.fake.clear_requests()
        assert chat_capabilities_refresh(chat_id=self.chat.pk) == "refreshed"
        assert {request.token for request in self.fake.requests("getChat")} == {self.bots[1].token}

    def test_the_group_with_everything_allowed_pauses_no_one(self) -> None:
        chat_capabilities_refresh(chat_id=self.chat.pk)
        assert self.paused() == {}
        assert Chat.objects.get(pk=self.chat.pk).members_may_send

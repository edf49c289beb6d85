"""A group upgraded to a supergroup keeps its crowd: the chat moves to the new id, nothing is disabled or lost."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.test import TestCase

from chats.models import Chat, Membership, Message
from chats.services import chat_create, chat_migrate
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import (
    CHAT_UPGRADED,
    FakeTelegram,
    fake_telegram_for,
    make_chat,
    make_message,
    make_update,
    make_user,
)
from engine.clients.telegram import TelegramChatMigrated, TelegramClient
from engine.clients.telegram_types import parse_update
from engine.models import Turn
from engine.services import delivery
from engine.services.ingestion import ingest_update
from engine.services.polling import poll_once
from engine.tests.pipeline import drain, telegram_crowd
from engine.tests.test_delivery import ready_turn
from monitoring import metrics

GROUP_ID = -4518810793  # a basic group, as Telegram numbers them
SUPERGROUP_ID = -1002471352452


def _migrations(source: str) -> float:
    return metrics.CHAT_MIGRATIONS.labels(source)._value.get()


class UpgradedGroupTestCase(RedisTransactionTestCase):
    """A crowd of three in a basic group on the fake Bot API."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, chat_id=GROUP_ID)


class FakeUpgradeTests(UpgradedGroupTestCase):
    def test_the_old_id_is_refused_with_telegram_s_words_and_the_new_id(self) -> None:
        new_id = self.fake.upgrade_to_supergroup(GROUP_ID, new_chat_id=SUPERGROUP_ID, notify=False)
        client = TelegramClient(self.bots[0].token, base_url=self.fake.base_url)
        with self.assertRaises(TelegramChatMigrated) as caught:
            client.send_message(GROUP_ID, "merhaba")
        assert caught.exception.migrate_to_chat_id == new_id == SUPERGROUP_ID
        raw = urllib.request.Request(
            f"{self.fake.base_url}{self.bots[0].token}/sendMessage",
            data=json.dumps({"chat_id": GROUP_ID, "text": "merhaba"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(raw, timeout=5)
        assert json.loads(refused.exception.read()) == {
            "ok": False,
            "error_code": 400,
            "description": CHAT_UPGRADED,
            "parameters": {"migrate_to_chat_id": SUPERGROUP_ID},
        }
        assert client.send_message(SUPERGROUP_ID, "merhaba").message_id >= 1
        assert make_chat(GROUP_ID)["type"] == "group"
        assert make_chat(SUPERGROUP_ID)["type"] == "supergroup"


class SendAfterUpgradeTests(UpgradedGroupTestCase):
    def test_a_send_refused_at_the_old_id_moves_the_chat_and_is_sent_at_the_new_one(self) -> None:
        self.fake.upgrade_to_supergroup(GROUP_ID, new_chat_id=SUPERGROUP_ID, notify=False)
        before = _migrations("send_error")
        turn = ready_turn(self.chat)
        assert delivery.send_turn(turn_id=turn.pk) == "retry"
        drain(until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)

        self.chat.refresh_from_db()
        assert (self.chat.telegram_chat_id, self.chat.migrated_from_chat_id) == (SUPERGROUP_ID, GROUP_ID)
        assert self.chat.migration_note.startswith("upgraded to supergroup on ")
        assert [m["text"] for m in self.fake.sent_messages(SUPERGROUP_ID)] == [turn.text]
        assert Membership.objects.filter(chat=self.chat, is_enabled=True).count() == 3
        assert _migrations("send_error") == before + 1

    def test_every_bot_s_turn_after_the_upgrade_is_sent_once_at_the_new_id(self) -> None:
        self.fake.upgrade_to_supergroup(GROUP_ID, new_chat_id=SUPERGROUP_ID, notify=False)
        before = _migrations("send_error")
        turns = [ready_turn(self.chat, bot_index=index, text=f"BIST {index} güçlü.") for index in range(3)]
        outcomes = delivery.send_turns(turn_ids=[turn.pk for turn in turns])
        assert "retry" in outcomes.values()
        assert set(outcomes.values()) <= {"retry", "deferred"}  # the group's pacing holds the others back
        drain(until=lambda: set(Turn.objects.values_list("status", flat=True)) == {Turn.Status.SENT})

        assert len(self.fake.sent_messages(SUPERGROUP_ID)) == 3
        assert Chat.objects.get().telegram_chat_id == SUPERGROUP_ID
        assert _migrations("send_error") == before + 1
        assert not Membership.objects.filter(is_enabled=False).exists()


class ServiceMessageTests(UpgradedGroupTestCase):
    def test_both_service_messages_from_every_bot_move_the_chat_once(self) -> None:
        before = _migrations("update")
        self.fake.upgrade_to_supergroup(GROUP_ID, new_chat_id=SUPERGROUP_ID)
        outcomes = [outcome for bot in self.bots for outcome in poll_once(bot=bot, timeout=0).outcomes]

        assert outcomes == ["migrated"] * 6  # two service messages to each of three bots
        assert Chat.objects.get().telegram_chat_id == SUPERGROUP_ID
        assert _migrations("update") == before + 1
        assert Message.objects.count() == 0  # service messages are not chat talk

    def test_the_new_chat_s_message_first_moves_it_as_well(self) -> None:
        admin = make_user(7, "Ayşe")
        first = {"message_id": 1, "from": admin, "chat": make_chat(SUPERGROUP_ID), "date": 0}
        first["migrate_from_chat_id"] = GROUP_ID
        second = {"message_id": 9, "from": admin, "chat": make_chat(GROUP_ID), "date": 0}
        second["migrate_to_chat_id"] = SUPERGROUP_ID
        results = [
            ingest_update(update=parse_update(make_update(n, payload))).outcome  # type: ignore[arg-type]
            for n, payload in enumerate((first, second), start=1)
        ]
        assert results == ["migrated", "migrated"]
        assert Chat.objects.get().telegram_chat_id == SUPERGROUP_ID

    def test_member_messages_from_the_supergroup_are_the_chat_s_after_the_move(self) -> None:
        self.fake.upgrade_to_supergroup(GROUP_ID, new_chat_id=SUPERGROUP_ID)
        poll_once(bot=self.bots[0], timeout=0)
        question = make_message(
            message_id=5, chat=make_chat(SUPERGROUP_ID), sender=make_user(7, "Ayşe"), text="THYAO ne olur?"
        )
        assert ingest_update(update=parse_update(make_update(50, question))).outcome == "stored"  # type: ignore[arg-type]
        assert Message.objects.get().chat_id == self.chat.pk


class ChatMigrateTests(TestCase):
    def test_it_moves_once_and_keeps_the_chat_s_row(self) -> None:
        chat = chat_create(title="Grup", transport=Chat.Transport.TELEGRAM, telegram_chat_id=GROUP_ID)
        moved, first = chat_migrate(from_chat_id=GROUP_ID, to_chat_id=SUPERGROUP_ID)
        again, second = chat_migrate(from_chat_id=GROUP_ID, to_chat_id=SUPERGROUP_ID)
        assert (first, second) == (True, False)
        assert moved is not None
        assert again is not None
        assert moved.pk == again.pk == chat.pk

    def test_an_unknown_group_moves_nothing(self) -> None:
        assert chat_migrate(from_chat_id=GROUP_ID, to_chat_id=SUPERGROUP_ID) == (None, False)

    def test_a_chat_already_at_the_new_id_is_not_overwritten(self) -> None:
        chat_create(title="Eski", transport=Chat.Transport.TELEGRAM, telegram_chat_id=GROUP_ID)
        known = chat_create(title="Yeni", transport=Chat.Transport.TELEGRAM, telegram_chat_id=SUPERGROUP_ID)
        found, moved = chat_migrate(from_chat_id=GROUP_ID, to_chat_id=SUPERGROUP_ID)
        assert (found, moved) == (known, False)
        assert Chat.objects.filter(telegram_chat_id=GROUP_ID).exists()

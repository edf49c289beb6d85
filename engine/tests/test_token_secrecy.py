"""Flows that handle bot tokens, failing at the fake Bot API: no log line, turn error or API response shows a token."""

from __future__ import annotations

from contextlib import suppress
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.models import Bot
from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for
from config.testing.logs import console_output
from engine.clients.telegram import TelegramClientError
from engine.models import Turn
from engine.services import delivery, polling
from engine.services.preflight import preflight_run
from engine.services.webhooks import inbox_for


def secrets_of(bots: list[Bot]) -> list[str]:
    """What must never appear: each token's secret part (the bot id alone is public)."""
    return [bot.token.split(":")[1] for bot in bots]


def ready_turn(chat: Chat, bot: Bot) -> Turn:
    now = timezone.now()
    return Turn.objects.create(
        chat=chat, bot=bot, status=Turn.Status.READY, text="THYAO güçlü.", due_at=now, send_at=now, next_run_at=now
    )


def one_bot_chats(fake: FakeTelegram, count: int) -> list[tuple[Chat, Bot]]:
    """A chat per bot, so Telegram's per-chat pacing defers none of the sends."""
    crowd = []
    for index in range(count):
        chat = chat_create(title=f"Grup {index}", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100600 - index)
        registered = fake.add_bot(username=f"secret{index}_bot")
        bot = bot_create(name=f"Gizli {index}", username=registered.username, token=registered.token)
        membership_add(chat=chat, bot=bot)
        crowd.append((chat, bot))
    return crowd


def failing_sends(fake: FakeTelegram, crowd: list[tuple[Chat, Bot]]) -> None:
    fake.server_error("sendMessage", token=crowd[0][1].token)
    fake.fail("sendMessage", status=401, description="Unauthorized", token=crowd[1][1].token)
    fake.chat_not_found("sendMessage", token=crowd[2][1].token)
    fake.delay("sendMessage", 2.0, token=crowd[3][1].token)  # beyond the timeout: the send may have reached Telegram
    for chat, bot in crowd:
        delivery.send_turn(turn_id=ready_turn(chat, bot).pk)
    fake.clear_faults()


def failing_polls_webhooks_and_preflight(fake: FakeTelegram, bots: list[Bot]) -> None:
    fake.fail(None, status=401, description="Unauthorized", token=bots[0].token)
    fake.server_error("getUpdates", times=None)
    for bot in bots:
        with suppress(TelegramClientError):
            polling.poll_once(bot=bot, timeout=0)
    preflight_run()
    with suppress(CommandError):
        call_command("setwebhook", "--base-url", "https://piyasa.example", stdout=StringIO(), stderr=StringIO())
    fake.clear_faults()
    Client().post(f"/telegram/webhook/{inbox_for(bots[1]).webhook_id}/", data="{}", content_type="application/json")


def api_writes_with_tokens(bots: list[Bot]) -> str:
    api, _, _ = role_client(Role.OPERATOR)
    bodies = [
        api.post("/api/bots/", {"name": "Kopya", "token": bots[0].token}).content,  # taken: an error, no echo
        api.patch(f"/api/bots/{bots[1].pk}/", {"token": bots[1].token + "!"}).content,  # malformed
        api.get("/api/turns/?limit=500").content,  # the failure reasons of the sends above
        api.get("/api/bots/").content,
    ]
    return b"\n".join(bodies).decode()


class TokenSecrecyTests(RedisTransactionTestCase):
    """A fake Bot API server for each test (a short timeout), with the offline LLM provider."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=0.5, LLM_PROVIDER="offline")

    def test_failing_telegram_calls_never_put_a_token_in_logs_turns_or_responses(self) -> None:
        fake = self.fake
        crowd = one_bot_chats(fake, 4)
        bots = [bot for _, bot in crowd]
        with console_output() as output:
            failing_sends(fake, crowd)
            failing_polls_webhooks_and_preflight(fake, bots)
            responses = api_writes_with_tokens(bots)
        errors = "\n".join(Turn.objects.values_list("error", flat=True))
        assert errors.count("sendMessage") == 4  # every failure was recorded, with its reason
        assert "Unauthorized" in output.getvalue()
        for secret in secrets_of(bots):
            assert secret not in output.getvalue()
            assert secret not in errors
            assert secret not in responses

"""Helpers for the abuse tests: a Telegram chat whose bots take webhook updates from the test client, and a fake
Groq server answering (and recording) their LLM calls."""

from __future__ import annotations

import json
from itertools import count
from typing import Any
from unittest.mock import patch

from django.urls import reverse
from prometheus_client import REGISTRY

from bots.models import Bot
from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_llm import FakeLlmServer
from config.testing.fake_telegram import fake_telegram_for, make_chat, make_message, make_token, make_update, make_user
from engine.clients.llm import GroqProvider, LlmClient
from engine.clients.llm.base import estimate_prompt_tokens
from engine.services import generation
from engine.services.settings import setting_set
from engine.services.webhooks import inbox_for, webhook_secret
from engine.tests.pipeline import FAST_SPEED

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_ids = count(1)


class AbuseTestCase(RedisTransactionTestCase):
    """Two bots in a Telegram group; updates are POSTed to their webhooks, LLM calls go to a fake Groq server."""

    language = "tr"

    def setUp(self) -> None:
        super().setUp()
        self.fake_llm = self.enterContext(FakeLlmServer())
        self.llm = LlmClient(
            GroqProvider(api_key="test-key", model="llama-3.3-70b-versatile", base_url=self.fake_llm.groq_base_url)
        )
        self.enterContext(patch.object(generation, "_client", self.llm))  # what the drained jobs call
        self.fake_telegram = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=5.0)  # the replies are sent there
        self.chat, self.bots = self.group(-100_900 - next(_ids), language=self.language)

    def group(self, telegram_chat_id: int, *, language: str = "tr") -> tuple[Chat, list[Bot]]:
        chat = chat_create(
            title="Borsa", transport=Chat.Transport.TELEGRAM, telegram_chat_id=telegram_chat_id, language=language
        )
        bots = []
        for name in ("Kemal", "Elif"):
            suffix = next(_ids)
            token = self.fake_telegram.add_bot(
                username=f"{name.lower()}{suffix}_bot", token=make_token(7_200_000_000 + suffix)
            ).token
            bot = bot_create(name=name, username=f"{name.lower()}{suffix}_bot", token=token, speed=FAST_SPEED)
            membership_add(chat=chat, bot=bot)
            bots.append(bot)
        return chat, bots

    def limits(self, **values: Any) -> None:
        """Change the abuse limits live, as an operator would."""
        from engine.selectors import settings_all

        setting_set(key="abuse_limits", value={**settings_all().abuse_limits.model_dump(), **values})

    def member_post(self, text: str, *, user_id: int, name: str = "Ayşe", chat: Chat | None = None) -> dict[str, Any]:
        """A member's message reaches the first bot's webhook as Telegram sends it; the view's JSON answer."""
        chat = chat or self.chat
        message_id = next(_ids)
        assert chat.telegram_chat_id is not None
        message = make_message(
            message_id=message_id,
            chat=make_chat(chat.telegram_chat_id, chat.title),
            sender=make_user(user_id, name),
            text=text,
        )
        bot = chat.bots.order_by("pk").first()
        assert bot is not None
        response = self.client.post(
            reverse("telegram-webhook", args=[inbox_for(bot).webhook_id]),
            data=json.dumps(make_update(message_id, message)),
            content_type="application/json",
            headers={SECRET_HEADER: webhook_secret(bot.token)},
        )
        assert response.status_code == 200, response.content
        return dict(response.json())

    def prompt_tokens(self, index: int = -1) -> int:
        """The estimated size of a request the fake LLM received (prompt and its longest answer)."""
        body = self.fake_llm.requests[index].body
        return estimate_prompt_tokens(body["messages"]) + int(body["max_tokens"])


def sample(name: str, **labels: str) -> float:
    """This process's value of a series (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0

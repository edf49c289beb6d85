"""Telegram webhooks: which bots listen, each bot's opaque URL and secret, registering them, checking payloads.

The URL names a bot by `TelegramInbox.webhook_id`, a random UUID: it reveals nothing about the token.
The secret Telegram echoes in `X-Telegram-Bot-Api-Secret-Token` is HMAC-SHA256(key=token) of a fixed label,
in hex (Telegram allows A-Z, a-z, 0-9, _ and -): it needs no extra stored secret and does not depend on
SECRET_KEY, but rotating a bot's token changes it, so the webhook must be registered again (`setwebhook`,
or the ensure job, which notices the token fingerprint changed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from bots.models import Bot
from chats.models import Chat
from engine.clients.telegram import TelegramClient, TelegramClientError
from engine.clients.telegram_types import TgUpdate, parse_update
from engine.models import TelegramInbox

logger = logging.getLogger(__name__)
ALLOWED_UPDATES = ("message", "edited_message", "my_chat_member")  # my_chat_member: the bot's own standing
SECRET_LABEL = b"piyasa-telegram-webhook-secret"
INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class WebhookReport:
    """What registering (or deleting) one bot's webhook did; `detail` never holds the token."""

    bot: str
    action: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.action == "failed"


def listening_bots() -> QuerySet[Bot]:
    """Enabled bots with a token and an enabled membership in an enabled Telegram chat."""
    listening = Bot.objects.filter(
        is_enabled=True,
        memberships__is_enabled=True,
        memberships__chat__is_enabled=True,
        memberships__chat__transport=Chat.Transport.TELEGRAM,
    ).exclude(token_encrypted="")
    return Bot.objects.filter(pk__in=listening.values("pk")).order_by("pk")


def bot_label(bot: Bot) -> str:
    """How reports name a bot: its @handle, else its name and id (never its token)."""
    return f"@{bot.username}" if bot.username else f"{bot.name} (#{bot.pk})"


def inbox_for(bot: Bot) -> TelegramInbox:
    """The bot's inbox row, created on first use (it carries the webhook id and the polling offset)."""
    inbox, _ = TelegramInbox.objects.get_or_create(bot=bot)
    return inbox


def webhook_secret(token: str) -> str:
    """The secret-token header value Telegram must send for this bot token."""
    return hmac.new(token.encode(), SECRET_LABEL, hashlib.sha256).hexdigest()


def secret_matches(token: str, received: str | None) -> bool:
    """Whether the received header is this token's secret (constant-time comparison)."""
    if not token or received is None:
        return False
    return hmac.compare_digest(webhook_secret(token).encode(), received.encode("utf-8", "replace"))


def webhook_url(base_url: str, inbox: TelegramInbox) -> str:
    """The public webhook URL of one bot."""
    return base_url.rstrip("/") + reverse("telegram-webhook", args=[inbox.webhook_id])


def webhook_register(*, bot: Bot, base_url: str, only_if_changed: bool = False) -> WebhookReport:
    """setWebhook for one bot (skipped when Telegram already has this URL and this token's secret)."""
    inbox = inbox_for(bot)
    url = webhook_url(base_url, inbox)
    client = TelegramClient(bot.token, timeout=settings.TELEGRAM_TIMEOUT_S)
    try:
        current_token = inbox.webhook_token_fingerprint == bot.token_fingerprint
        if only_if_changed and current_token and client.get_webhook_info().get("url") == url:
            return WebhookReport(bot_label(bot), "unchanged", url)
        client.set_webhook(url, secret_token=webhook_secret(bot.token), allowed_updates=list(ALLOWED_UPDATES))
    except TelegramClientError as error:
        return WebhookReport(bot_label(bot), "failed", str(error))
    TelegramInbox.objects.filter(pk=inbox.pk).update(webhook_token_fingerprint=bot.token_fingerprint or "")
    return WebhookReport(bot_label(bot), "set", url)


def webhook_delete(*, bot: Bot) -> WebhookReport:
    """deleteWebhook for one bot, so it can be polled with getUpdates."""
    try:
        TelegramClient(bot.token, timeout=settings.TELEGRAM_TIMEOUT_S).delete_webhook()
    except TelegramClientError as error:
        return WebhookReport(bot_label(bot), "failed", str(error))
    TelegramInbox.objects.filter(bot=bot).update(webhook_token_fingerprint="")
    return WebhookReport(bot_label(bot), "deleted")


def webhooks_register(*, base_url: str, only_if_changed: bool = False) -> list[WebhookReport]:
    """Register the webhook of every listening bot; one bot's failure does not stop the others."""
    return [webhook_register(bot=bot, base_url=base_url, only_if_changed=only_if_changed) for bot in listening_bots()]


def webhooks_delete() -> list[WebhookReport]:
    """Delete the webhook of every listening bot."""
    return [webhook_delete(bot=bot) for bot in listening_bots()]


def webhook_bot(webhook_id: Any) -> Bot | None:
    """The bot behind a webhook id, if it has a token (a token-less bot cannot have a webhook)."""
    inbox = TelegramInbox.objects.select_related("bot").filter(webhook_id=webhook_id).first()
    if inbox is None or not inbox.bot.has_token:
        return None
    return inbox.bot


def update_from_body(body: bytes) -> TgUpdate | None:
    """The typed update in a webhook body, or None when the body is not a well-formed update."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8/16/32, or nested too deeply
        return None
    return update_from_payload(payload)


def update_from_payload(payload: Any) -> TgUpdate | None:
    """The typed update, or None when malformed or holding values no database column can take."""
    if not storable(payload):
        return None
    return parse_update(payload)


def storable(payload: Any) -> bool:
    """No integer outside 64 bits, no string with NUL or lone surrogates (the database would reject them)."""
    pending: list[Any] = [payload]
    while pending:  # iterative: a deeply nested payload must not exhaust the stack
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif not _storable_scalar(value):
            return False
    return True


def _storable_scalar(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64[0] <= value <= INT64[1]
    return not isinstance(value, str) or _clean_text(value)


def _clean_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def report_lines(reports: Iterable[WebhookReport]) -> list[str]:
    """One readable line per bot."""
    return [f"{report.bot}: {report.action}" + (f" ({report.detail})" if report.detail else "") for report in reports]

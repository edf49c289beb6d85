"""Telegram's webhook: authenticate the bot's secret header, parse the update, hand it to ingestion."""

from __future__ import annotations

import logging
from uuid import UUID

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chats.models import Chat
from engine.services.ingestion import ingest_update
from engine.services.webhooks import secret_matches, update_from_body, webhook_bot

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few KB
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _body(request: HttpRequest) -> bytes:
    """The request body, refused before reading when its declared length is over the limit."""
    declared = str(request.META.get("CONTENT_LENGTH") or "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestDataTooBig("update body over the limit")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise RequestDataTooBig("update body over the limit")
    return body


@csrf_exempt  # Telegram cannot send a CSRF token; the secret header authenticates it instead
@require_POST
def telegram_webhook(request: HttpRequest, webhook_id: UUID) -> JsonResponse:
    """Ingest one update: 403 on a wrong secret, 4xx for malformed bodies, 200 for everything else."""
    bot = webhook_bot(webhook_id)
    if bot is None:
        return _error(404, "Unknown webhook.")
    if not secret_matches(bot.token, request.headers.get(SECRET_HEADER)):
        logger.warning("webhook: wrong or missing secret token for bot_id=%s", bot.pk)
        return _error(403, "Wrong or missing secret token.")
    try:
        body = _body(request)
    except RequestDataTooBig:
        return _error(413, "The body is too large for an update.")
    update = update_from_body(body)
    if update is None:
        return _error(400, "The body is not a Telegram update.")
    result = ingest_update(update=update, transport=Chat.Transport.TELEGRAM, receiver=bot)
    return JsonResponse({"outcome": result.outcome})

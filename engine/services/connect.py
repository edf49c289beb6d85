"""Connecting a Telegram group: bot tokens checked with getMe, then created or updated as the importer does."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from bots.demo import DEMO_BOTS, DemoBot
from bots.importing import TOKEN_SHAPE, BotRow, Outcome, error_lines, mask, match_bot, plan_row
from bots.models import Bot
from chats.models import Chat
from engine.clients.telegram import BotIdentity, TelegramClient, TelegramClientError
from engine.services.preflight import PRIVACY_WARNING, clean_line
from engine.services.webhooks import listening_bots

# The personas a connected bot may start from: the demo crowd's (the default persona when none is chosen).
PERSONA_TEMPLATES: dict[str, DemoBot] = {spec.username: spec for spec in DEMO_BOTS}


@dataclass(frozen=True)
class TokenCheck:
    """One pasted token: what getMe said about it and the bot it became, or why nothing was saved."""

    line: int
    masked: str
    error: str = ""
    identity: BotIdentity | None = None
    bot: Bot | None = None
    outcome: str = ""

    @property
    def privacy_warning(self) -> str:
        """The privacy-mode warning with its fix, when getMe says the bot cannot read the group."""
        return PRIVACY_WARNING if self.identity and not self.identity.can_read_all_group_messages else ""


def bots_connect(*, text: str, template: str = "") -> list[TokenCheck]:
    """Each non-empty line is a token: checked with getMe, a valid one's bot created (with the persona of the
    template named, if any) or updated."""
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    return [bot_connect(token=token, line=number, template=template) for number, token in lines]


def bot_identify(*, token: str) -> BotIdentity:
    """getMe through the Telegram client; raises TelegramClientError (e.g. "Unauthorized" for a bad token)."""
    return TelegramClient(token, timeout=settings.TELEGRAM_TIMEOUT_S).get_me()


def bot_check(*, bot: Bot) -> TokenCheck:
    """getMe for a stored bot, nothing saved: who Telegram says it is, and whether privacy mode is on."""
    masked = mask(bot.token) if bot.has_token else "(no token)"
    if not bot.has_token:
        return TokenCheck(1, masked, error="no token: the bot is sandbox only")
    try:
        return TokenCheck(1, masked, identity=bot_identify(token=bot.token), bot=bot)
    except TelegramClientError as error:
        return TokenCheck(1, masked, error=f"Telegram: {clean_line(str(error), bot.token)}")


def bot_listens(*, bot: Bot) -> bool:
    """Whether the bot listens in an enabled Telegram group, where privacy mode keeps members' messages from it."""
    return listening_bots().filter(pk=bot.pk).exists()


def bot_connect(*, token: str, line: int = 1, template: str = "") -> TokenCheck:
    """Check one token with getMe; a valid one becomes a bot (matched by token fingerprint, else username)."""
    masked = mask(token)
    if not TOKEN_SHAPE.match(token):
        return TokenCheck(line, masked, error=f"{masked} is not a Telegram bot token (<bot id>:<secret>)")
    try:
        identity = bot_identify(token=token)
    except TelegramClientError as error:
        return TokenCheck(line, masked, error=f"Telegram: {clean_line(str(error), token)}")
    # A bot already stored keeps its name; a new one is named as Telegram names it.
    fields: dict[str, object] = {"username": identity.username}
    if match_bot(token, identity.username) is None:
        fields["name"] = identity.first_name[:100]
        if template in PERSONA_TEMPLATES:
            fields["persona"] = PERSONA_TEMPLATES[template].persona.model_dump(mode="json")
    try:
        planned = plan_row(BotRow(line, token, fields))
    except ValidationError as error:
        return TokenCheck(line, masked, error="; ".join(error_lines(error)), identity=identity)
    if planned.outcome != Outcome.UNCHANGED:
        planned.bot.save()
    return TokenCheck(line, masked, identity=identity, bot=planned.bot, outcome=planned.outcome)


def connect_chats(*, bot_ids: list[int]) -> QuerySet[Chat]:
    """The Telegram chats these bots are in (a discovered one first), as the add-to-group step waits for them."""
    chats = Chat.objects.filter(transport=Chat.Transport.TELEGRAM, memberships__bot_id__in=bot_ids).distinct()
    return chats.order_by("-discovered_at", "-id")


def chat_bots(*, chat: Chat) -> QuerySet[Bot]:
    """The bots that are members of a chat (what the chat's preflight checks)."""
    return Bot.objects.filter(memberships__chat=chat)

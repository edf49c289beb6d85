"""Import a crowd document: validate everything first, then apply it all in one transaction (or report a dry run)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from pydantic import ValidationError as PydanticValidationError

from bots.importing import Outcome, error_lines
from bots.models import Bot, Holding, Memory, Stance
from bots.services import stance_change_record
from chats.models import Chat, Membership
from engine.portability.document import (
    SETTINGS_LEFT_OUT,
    BotItem,
    ChatItem,
    CrowdDocument,
    location,
    nul_errors,
    reference_errors,
)
from engine.portability.document import error_lines as document_errors
from engine.runtime_settings import parse_setting
from engine.selectors import settings_all
from engine.services import settings_update

IMPORTED = "changed by a crowd import"  # a stance's history names what moved it
# What identifies a stance, holding or memory of one bot: a matched one is updated, the rest replaced.
KNOWLEDGE: tuple[tuple[str, type[models.Model], Callable[[Any], Any]], ...] = (
    ("stances", Stance, lambda item: item.topic),
    ("holdings", Holding, lambda item: item.symbol),
    ("memories", Memory, lambda item: (item.kind, item.content)),
)


class CrowdImportError(Exception):
    """The document cannot be imported; `errors` name the item and field of every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class PlannedBot:
    """A bot of the document: the (unsaved) instance it becomes, its knowledge and whether it exists."""

    label: str
    bot: Bot
    item: BotItem
    outcome: Outcome


@dataclass
class PlannedChat:
    """A chat of the document: the (unsaved) instance and whether it exists."""

    chat: Chat
    item: ChatItem
    outcome: Outcome


@dataclass
class CrowdImportResult:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    bots: list[PlannedBot] = field(default_factory=list)
    chats: list[PlannedChat] = field(default_factory=list)
    memberships: dict[str, int] = field(default_factory=dict)
    settings_changed: list[str] = field(default_factory=list)
    settings_applied: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON: every bot and chat with its outcome, membership counts, changed settings."""
        return {
            "dry_run": self.dry_run,
            "bots": [{"bot": item.label, "outcome": item.outcome.value} for item in self.bots],
            "chats": [
                {"chat": item.chat.title, "telegram_chat_id": item.chat.telegram_chat_id, "outcome": item.outcome.value}
                for item in self.chats
            ],
            "memberships": self.memberships,
            "settings": {"changed": self.settings_changed, "applied": self.settings_applied},
        }


def crowd_load(raw: str | bytes) -> Any:
    """The document's JSON, or a CrowdImportError saying where it is broken."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise CrowdImportError(["document: not UTF-8 text"]) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise CrowdImportError([f"document: not valid JSON: {where}: {error.msg}"]) from None


def crowd_import(*, data: Any, dry_run: bool = False, apply_settings: bool = True) -> CrowdImportResult:
    """Validate the whole document, then create or update every bot and chat at once (nothing on any error).

    Bots are matched by username (their tokens stay), chats by transport and Telegram chat id; a matched bot's
    stances, holdings and memories become the document's. Settings (the chats' own too) are stored only when
    `apply_settings`.
    """
    document = crowd_parse(data)
    result = CrowdImportResult(dry_run=dry_run, settings_applied=apply_settings)
    errors: list[str] = []
    result.bots = _plan_bots(document, data, errors)
    result.chats = _plan_chats(document, errors, apply_settings=apply_settings)
    settings = _plan_settings(document.settings, errors)
    if errors:
        raise CrowdImportError(errors)
    current = settings_all().values()
    result.settings_changed = sorted(key for key, value in settings.items() if current.get(key) != value)
    result.memberships = _membership_counts(result)
    if dry_run:
        return result
    with transaction.atomic():
        _apply(result, settings if apply_settings else {})
    return result


def crowd_parse(data: Any) -> CrowdDocument:
    """The validated document; every problem is named by its path (`bots["kemal_bot"].persona.tone: …`)."""
    if isinstance(data, dict) and data.get("format") != "piyasa-crowd":
        raise CrowdImportError(['format: not a crowd document (expected "format": "piyasa-crowd")'])
    if errors := nul_errors(data, (), data):
        raise CrowdImportError(errors)
    try:
        document = CrowdDocument.model_validate(data)
    except PydanticValidationError as error:
        raise CrowdImportError(document_errors(error, data)) from None
    errors = reference_errors(document, data)
    if errors:
        raise CrowdImportError(errors)
    return document


# --- planning: everything is checked against the database before anything is written ---


def _bot_label(item: BotItem, position: int) -> str:
    return f"@{item.username}" if item.username else f"{item.name} (bots[{position}])"


def _plan_bots(document: CrowdDocument, data: Any, errors: list[str]) -> list[PlannedBot]:
    planned = []
    for position, item in enumerate(document.bots):
        existing = Bot.objects.filter(username__iexact=item.username).first() if item.username else None
        bot = existing or Bot()
        assign(bot, item.model_dump(mode="json", exclude={"stances", "holdings", "memories"}))
        prefix = location(("bots", position), data)
        errors += _clean(bot, prefix)
        for kind, model, _ in KNOWLEDGE:
            for index, entry in enumerate(getattr(item, kind)):
                errors += _clean(model(**entry.model_dump()), f"{prefix}.{kind}[{index}]", exclude=["bot"])
        outcome = Outcome.UPDATED if existing else Outcome.CREATED
        planned.append(PlannedBot(_bot_label(item, position), bot, item, outcome))
    return planned


def _plan_chats(document: CrowdDocument, errors: list[str], *, apply_settings: bool) -> list[PlannedChat]:
    planned = []
    # A chat's own runtime settings are settings: without the right to change them, a chat keeps (or lacks) its own.
    left_out = {"memberships"} if apply_settings else {"memberships", "settings_overrides"}
    for position, item in enumerate(document.chats):
        found = Chat.objects.filter(transport=item.transport, telegram_chat_id=item.telegram_chat_id).first()
        chat = found or Chat()
        assign(chat, item.model_dump(mode="json", exclude=left_out))
        errors += _clean(chat, f"chats[{position}]")
        for index, member in enumerate(item.memberships):
            fields = member.model_dump(exclude={"bot"})
            errors += _clean(Membership(**fields), f"chats[{position}].memberships[{index}]", exclude=["chat", "bot"])
        planned.append(PlannedChat(chat, item, Outcome.UPDATED if found else Outcome.CREATED))
    return planned


def _plan_settings(values: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    parsed = {}
    for key, value in values.items():
        if key in SETTINGS_LEFT_OUT:
            errors.append(f"settings.{key}: is not imported; start the simulation from the dashboard or the API")
            continue
        try:
            parsed[key] = parse_setting(key, value)
        except ValidationError as error:
            # Unknown keys come as {"key": message}, bad values as "<key>.<path>: message" lines.
            lines = error.messages if hasattr(error, "error_list") else [f"{key}: {m}" for m in error.messages]
            errors += [f"settings.{line}" for line in lines]
    return parsed


def assign(instance: models.Model, fields: dict[str, Any]) -> None:
    """Set model fields from the document (Django's own field assignment; a name that is no field raises)."""
    for name, value in fields.items():
        field = instance._meta.get_field(name)
        assert isinstance(field, models.Field), name
        field.save_form_data(instance, value)


def _clean(instance: models.Model, prefix: str, exclude: list[str] | None = None) -> list[str]:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return [f"{prefix}.{line}" for line in error_lines(error)]
    return []


def _membership_counts(result: CrowdImportResult) -> dict[str, int]:
    created = updated = 0
    for planned in result.chats:
        existing = set()
        if planned.chat.pk is not None:
            existing = set(Membership.objects.filter(chat=planned.chat).values_list("bot_id", flat=True))
        for member in planned.item.memberships:
            bot = _member_bot(result.bots, member.bot)
            updated, created = (updated + 1, created) if bot.pk in existing else (updated, created + 1)
    return {"created": created, "updated": updated}


def _member_bot(bots: list[PlannedBot], ref: str | int) -> Bot:
    if isinstance(ref, int):
        return bots[ref].bot
    return next(item.bot for item in bots if item.bot.username.lower() == ref.lower())


# --- applying (inside one transaction) ---


def _apply(result: CrowdImportResult, settings: dict[str, Any]) -> None:
    for planned in result.bots:
        planned.bot.save()
        for kind, model, key in KNOWLEDGE:
            _replace_knowledge(planned.bot, model, getattr(planned.item, kind), key)
    for chat_plan in result.chats:
        chat_plan.chat.save()
        for member in chat_plan.item.memberships:
            fields = member.model_dump(exclude={"bot"})
            bot = _member_bot(result.bots, member.bot)
            Membership.objects.update_or_create(chat=chat_plan.chat, bot=bot, defaults=fields)
    if settings:
        settings_update(values=settings)


def _replace_knowledge(bot: Bot, model: type[models.Model], items: list[Any], key: Callable[[Any], Any]) -> None:
    """The bot's stances (or holdings, memories) become the items: matched ones updated, others created or deleted."""
    existing = {key(instance): instance for instance in model._default_manager.filter(bot=bot)}
    for item in items:
        instance = existing.pop(key(item), None) or model(bot=bot)
        before = (instance.polarity, instance.confidence) if isinstance(instance, Stance) and instance.pk else None
        assign(instance, item.model_dump())
        instance.save()
        if isinstance(instance, Stance) and before and before != (instance.polarity, instance.confidence):
            stance_change_record(stance=instance, old_polarity=before[0], old_confidence=before[1], cause=IMPORTED)
    if existing:
        model._default_manager.filter(pk__in=[instance.pk for instance in existing.values()]).delete()

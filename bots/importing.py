"""Import bots from a tokens file (JSON or CSV): validate every row first, then create or update all at once."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from bots import crypto
from bots.models import Bot
from bots.schemas import Emotion, Persona, Schema, Speed
from chats.models import Chat, Membership
from chats.services import membership_add

# A Telegram bot token is "<bot id>:<secret>"; anything else is refused before it is stored.
TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# The Bot fields a JSON row may set; `token` is handled separately (it is encrypted, never compared in clear).
JSON_FIELDS = frozenset(
    {"name", "username", "persona", "emotion", "speed", "active_hours", "talkativeness", "llm_model", "is_enabled"}
)
SCHEMAS: dict[str, type[Schema]] = {"persona": Persona, "emotion": Emotion, "speed": Speed}
CSV_REQUIRED = ("token", "name", "username")
CSV_OPTIONAL = ("talkativeness",)
# Model errors on these fields are about the token: report them under "token".
TOKEN_FIELDS = frozenset({"token_encrypted", "token_fingerprint", "telegram_id"})


class Outcome(StrEnum):
    """What the import does (or would do, in a dry run) with one row."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class BotImportError(Exception):
    """The file cannot be imported; `errors` name the row and field of every problem (tokens masked)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class BotRow:
    """One bot entry of the file: its 1-based row number, its token and the Bot fields it sets."""

    number: int
    token: str
    fields: dict[str, Any]


@dataclass
class PlannedBot:
    """A validated row: the (unsaved) bot it becomes and what importing it changes."""

    row: BotRow
    bot: Bot
    outcome: Outcome


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    planned: list[PlannedBot] = field(default_factory=list)
    memberships_added: int = 0
    dry_run: bool = False

    def count(self, outcome: Outcome) -> int:
        """How many rows had this outcome."""
        return sum(1 for item in self.planned if item.outcome == outcome)


def bots_import(*, path: Path, chat_id: int | None = None, dry_run: bool = False) -> ImportResult:
    """Parse and validate the whole file, then create/update every bot (and membership) atomically."""
    chat = _chat(chat_id)
    rows = parse_rows(path.read_text(encoding="utf-8-sig"), fmt=detect_format(path))
    planned = plan_rows(rows)
    result = ImportResult(planned=planned, dry_run=dry_run)
    if dry_run:
        result.memberships_added = _missing_memberships(planned, chat)
        return result
    with transaction.atomic():
        for item in planned:
            if item.outcome != Outcome.UNCHANGED:
                item.bot.save()
        result.memberships_added = _missing_memberships(planned, chat)
        if chat is not None:
            for item in planned:
                membership_add(chat=chat, bot=item.bot)
    return result


def _chat(chat_id: int | None) -> Chat | None:
    if chat_id is None:
        return None
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is None:
        raise BotImportError([f"chat {chat_id} does not exist"])
    return chat


def _missing_memberships(planned: list[PlannedBot], chat: Chat | None) -> int:
    if chat is None:
        return 0
    members = set(Membership.objects.filter(chat=chat).values_list("bot_id", flat=True))
    return sum(1 for item in planned if item.bot.pk is None or item.bot.pk not in members)


# --- parsing ---


def detect_format(path: Path) -> str:
    """ "json" or "csv", from the file extension, else from the content (a JSON file starts with `[`)."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    head = path.read_text(encoding="utf-8-sig")[:1024].lstrip()
    return "json" if head.startswith(("[", "{")) else "csv"


def parse_rows(text: str, *, fmt: str) -> list[BotRow]:
    """The file's rows, each with the row number and field names checked (values are validated later)."""
    rows = _json_rows(text) if fmt == "json" else _csv_rows(text)
    if not rows:
        raise BotImportError(["the file has no bots"])
    _check_duplicates(rows)
    return rows


def _json_rows(text: str) -> list[BotRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BotImportError([f"not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"]) from None
    if not isinstance(data, list):
        raise BotImportError(["a JSON tokens file must be a list of objects"])
    rows, errors = [], []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            errors.append(f"row {number}: must be an object")
            continue
        errors += [f"row {number}: {key}: unknown field" for key in item if key not in JSON_FIELDS | {"token"}]
        fields = {key: value for key, value in item.items() if key in JSON_FIELDS}
        rows.append(BotRow(number, _token_text(item.get("token")), fields))
    if errors:
        raise BotImportError(errors)
    return rows


def _csv_rows(text: str) -> list[BotRow]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_REQUIRED if name not in header]
    unknown = [name for name in header if name not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown:
        problems = [f"header: missing column {name!r}" for name in missing]
        raise BotImportError(problems + [f"header: unknown column {name!r}" for name in unknown])
    reader.fieldnames = header
    rows, errors = [], []
    for number, record in enumerate(reader, start=1):
        if None in record:
            errors.append(f"row {number}: more values than columns")
            continue
        values = {key: (value or "").strip() for key, value in record.items()}
        fields: dict[str, Any] = {"name": values["name"], "username": values["username"].lstrip("@")}
        if values.get("talkativeness"):
            fields["talkativeness"] = values["talkativeness"]
        rows.append(BotRow(number, values["token"], fields))
    if errors:
        raise BotImportError(errors)
    return rows


def _token_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _check_duplicates(rows: list[BotRow]) -> None:
    errors: list[str] = []
    tokens: dict[str, int] = {}
    usernames: dict[str, int] = {}
    for row in rows:
        if row.token and row.token in tokens:
            errors.append(f"row {row.number}: token: {mask(row.token)} is also in row {tokens[row.token]}")
        tokens.setdefault(row.token, row.number)
        username = str(row.fields.get("username") or "").lstrip("@").lower()
        if username and username in usernames:
            errors.append(f"row {row.number}: username: {username!r} is also in row {usernames[username]}")
        usernames.setdefault(username, row.number)
    if errors:
        raise BotImportError(errors)


def mask(token: str) -> str:
    """A token as it may be shown: never more than its first and last four characters."""
    return crypto.mask_token(token) or "(empty)"


# --- validation ---


def plan_rows(rows: list[BotRow]) -> list[PlannedBot]:
    """Validate every row against the model (nothing is saved); raise once with every row's errors."""
    planned, errors = [], []
    for row in rows:
        try:
            planned.append(plan_row(row))
        except ValidationError as error:
            errors += [f"row {row.number}: {line}" for line in error_lines(error)]
    if errors:
        raise BotImportError(errors)
    return planned


def plan_row(row: BotRow) -> PlannedBot:
    """The bot this row creates or updates (matched by token fingerprint, else username), fully validated."""
    if not TOKEN_SHAPE.match(row.token):
        raise ValidationError({"token": f"{mask(row.token)} is not a Telegram bot token (<bot id>:<secret>)"})
    fields = dict(row.fields)
    if isinstance(fields.get("username"), str):
        fields["username"] = fields["username"].lstrip("@")
    existing = match_bot(row.token, fields.get("username"))
    bot = existing or Bot()
    before = _snapshot(bot) if existing else None
    for name, value in fields.items():
        setattr(bot, name, value)
    if existing is None or existing.token_fingerprint != crypto.token_fingerprint(row.token):
        bot.token = row.token
    bot.full_clean()
    _normalise(bot)
    if before is None:
        return PlannedBot(row, bot, Outcome.CREATED)
    return PlannedBot(row, bot, Outcome.UNCHANGED if _snapshot(bot) == before else Outcome.UPDATED)


def match_bot(token: str, username: Any) -> Bot | None:
    """The stored bot this token (by fingerprint) or else this username belongs to."""
    bot = Bot.objects.filter(token_fingerprint=crypto.token_fingerprint(token)).first()
    if bot is None and isinstance(username, str) and username:
        bot = Bot.objects.filter(username__iexact=username).first()
    return bot


def _normalise(bot: Bot) -> None:
    # Stored documents are complete: the engine reads e.g. speed["min_delay_s"] without defaults.
    for name, schema in SCHEMAS.items():
        setattr(bot, name, schema.model_validate(getattr(bot, name)).model_dump(mode="json"))


def _snapshot(bot: Bot) -> dict[str, Any]:
    values = {name: getattr(bot, name) for name in sorted(JSON_FIELDS)}
    return values | {"token_fingerprint": bot.token_fingerprint}


def error_lines(error: ValidationError) -> list[str]:
    """A model ValidationError as "field: message" lines (schema messages already carry their path)."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    lines = []
    for name, messages in error.message_dict.items():
        label = "token" if name in TOKEN_FIELDS else name
        for message in messages:
            lines.append(_named(label, message))
    return lines


def _named(label: str, message: str) -> str:
    if label == NON_FIELD_ERRORS:
        return "username: already used by another bot" if "bot_username_unique" in message else message
    return message if message.startswith((f"{label}.", f"{label}:")) else f"{label}: {message}"

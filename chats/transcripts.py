"""A chat's transcript as Markdown or JSON, streamed chunk by chunk so large chats never sit in memory."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from chats.models import Chat, Message

CHUNK_SIZE = 500
FORMATS = ("md", "json")
# Bidirectional controls reorder what follows them on screen (U+202E shows "gpj.exe" as "exe.jpg").
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# C0/C1 controls that splitlines() does not break on (a terminal escape, NUL); tab stays.
CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
LINE_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]{}|~])")
MARKDOWN_BLOCK_START = re.compile(r"^(\s*\d*)([#+=.)-])")
HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def transcript_messages(
    *, chat: Chat, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Message]:
    """The chat's messages in [since, until), oldest first, with the speakers of each reply loaded."""
    messages = Message.objects.filter(chat=chat).select_related("bot", "reply_to", "reply_to__bot")
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    if until is not None:
        messages = messages.filter(created_at__lt=until)
    return messages.order_by("created_at", "id")


def transcript_render(
    *, chat: Chat, fmt: str, since: datetime | None = None, until: datetime | None = None
) -> Iterator[str]:
    """The transcript in `fmt` ("md" or "json") as a stream of text chunks."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    messages = transcript_messages(chat=chat, since=since, until=until).iterator(chunk_size=CHUNK_SIZE)
    render = transcript_markdown if fmt == "md" else transcript_json
    return render(chat, messages, since=since, until=until)


# --- Markdown ---


def transcript_markdown(
    chat: Chat, messages: Iterator[Message], *, since: datetime | None = None, until: datetime | None = None
) -> Iterator[str]:
    """A heading, then one list item per message under a heading per day (times in the chat's timezone)."""
    zone = ZoneInfo(chat.timezone)
    yield f"# {markdown_escape(display_name(chat.title))}\n\n"
    yield f"{_chat_kind(chat)} · times in {chat.timezone}{_period(since, until, zone)}\n"
    day = None
    for message in messages:
        local = message.created_at.astimezone(zone)
        if local.date() != day:
            day = local.date()
            yield f"\n## {day.isoformat()}\n\n"
        yield markdown_line(message, local, thread=chat.thread_name(message.thread_id) if chat.is_forum else "")


def markdown_line(message: Message, local: datetime, *, thread: str = "") -> str:
    """`- HH:MM:SS [Thread] **Speaker** ↩ Replied-to: text` (the forum thread in a forum), continuation lines
    indented under the item.

    Names and texts are untrusted: escaped, names kept on one line, so no message can forge another's line.
    """
    speaker = markdown_escape(display_name(message.speaker_label))
    replied = message.reply_to
    reply = f" ↩ {markdown_escape(display_name(replied.speaker_label))}" if replied is not None else ""
    where = f"\\[{markdown_escape(display_name(thread))}\\] " if thread else ""
    return f"- {local:%H:%M:%S} {where}**{speaker}**{reply}: {markdown_text(message.text)}\n"


def display_name(name: str) -> str:
    """A name to show: bidi controls removed, line breaks and other controls made spaces, on one line."""
    return " ".join(CONTROLS.sub(" ", LINE_BREAKS.sub(" ", BIDI_CONTROLS.sub("", name))).split())


def markdown_escape(text: str) -> str:
    """Text that Markdown and HTML show as written: inline markup backslash-escaped, <, > and & as entities."""
    return MARKDOWN_INLINE.sub(r"\\\1", text).translate(HTML_ESCAPES)


def markdown_text(text: str) -> str:
    """A message's text: escaped, bidi controls shown as their code (⟨U+202E⟩), lines indented under the item."""
    visible = BIDI_CONTROLS.sub(lambda match: f"⟨U+{ord(match.group()):04X}⟩", CONTROLS.sub("", text))
    lines = [markdown_escape(line) for line in visible.splitlines()] or [""]
    # A continuation line starts a Markdown line: a leading "-", "#" or "1." there would be a list or heading.
    return "\n  ".join([lines[0], *(MARKDOWN_BLOCK_START.sub(r"\1\\\2", line, count=1) for line in lines[1:])])


def _chat_kind(chat: Chat) -> str:
    if chat.is_sandbox:
        return f"Sandbox chat {chat.pk}"
    return f"Telegram chat {chat.telegram_chat_id}"


def _period(since: datetime | None, until: datetime | None, zone: ZoneInfo) -> str:
    parts = [f"from {since.astimezone(zone):%Y-%m-%d %H:%M}" if since else ""]
    parts.append(f"until {until.astimezone(zone):%Y-%m-%d %H:%M}" if until else "")
    text = " ".join(part for part in parts if part)
    return f" · {text}" if text else ""


# --- JSON ---


def transcript_json(
    chat: Chat, messages: Iterator[Message], *, since: datetime | None = None, until: datetime | None = None
) -> Iterator[str]:
    """One JSON document, {"chat": …, "since", "until", "messages": […]}, written one message at a time."""
    zone = ZoneInfo(chat.timezone)
    header = {
        "chat": chat_document(chat),
        "since": since.astimezone(zone).isoformat() if since else None,
        "until": until.astimezone(zone).isoformat() if until else None,
    }
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "messages": ['
    for index, message in enumerate(messages):
        yield ("\n  " if index == 0 else ",\n  ") + json.dumps(message_document(message, zone), ensure_ascii=False)
    yield "\n]}\n"


def chat_document(chat: Chat) -> dict[str, Any]:
    """The chat's identity and settings that matter to a reader."""
    return {
        "id": chat.pk,
        "title": chat.title,
        "transport": chat.transport,
        "telegram_chat_id": chat.telegram_chat_id,
        "timezone": chat.timezone,
        "language": chat.language,
        "is_forum": chat.is_forum,
        "forum_threads": {str(thread["thread_id"]): thread.get("name", "") for thread in chat.forum_threads},
    }


def message_document(message: Message, zone: ZoneInfo) -> dict[str, Any]:
    """One message: ids, local time, speaker with bot/member flags, reply target and metadata."""
    return {
        "id": message.pk,
        "telegram_message_id": message.telegram_message_id,
        "created_at": message.created_at.astimezone(zone).isoformat(),
        "speaker": message.speaker_label,
        "is_bot": message.bot_id is not None or message.sender_is_bot,
        "is_member": message.bot_id is None and not message.sender_is_bot,
        "bot_id": message.bot_id,
        "sender": _sender(message),
        "text": message.text,
        "thread_id": message.thread_id,  # a forum topic (chat.forum_threads names it); None: General
        "reply_to": _reply(message),
        "metadata": message.metadata,
    }


def _sender(message: Message) -> dict[str, Any] | None:
    if message.bot_id is not None:
        return None
    return {"user_id": message.sender_user_id, "username": message.sender_username, "name": message.sender_name}


def _reply(message: Message) -> dict[str, Any] | None:
    target = message.reply_to
    if target is None:
        return None
    return {"id": target.pk, "telegram_message_id": target.telegram_message_id, "speaker": target.speaker_label}

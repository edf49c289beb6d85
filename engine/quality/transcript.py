"""The value the quality figures read: a window of chats' messages with who said what, to whom, about what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Line:
    """One message of the window: a bot's (bot_id set) or a member's."""

    id: int
    at: datetime
    text: str
    speaker: str  # "bot:<id>" or "member:<user id>": who is talking, for sequences and counts
    speaker_name: str = ""  # how the speaker is named in the chat (openers that address someone by name)
    bot_id: int | None = None
    reply_to: int | None = None
    addressed_bot: int | None = None  # a member message's bot: the one it mentions or answers
    topic: str | None = None  # the turn's topic, for bot messages
    kind: str | None = None  # the turn kind of a bot message (proactive, reply, priority_reply)
    flags: tuple[str, ...] = ()
    chat_id: int = 0

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None


@dataclass(frozen=True)
class BotFacts:
    """What the figures need to know about one bot of the chat."""

    name: str
    username: str = ""
    eligible: bool = True  # enabled here and within its active hours during the window
    stances: tuple[tuple[str, str], ...] = ()  # (topic or symbol, polarity)
    signature_phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """A window of one chat (or several: sequences are taken per chat), oldest line first."""

    lines: tuple[Line, ...]
    bots: dict[int, BotFacts] = field(default_factory=dict)
    languages: dict[int, str] = field(default_factory=dict)  # chat id -> the chat's language
    topics: tuple[str, ...] = ("BIST", "FX", "Kripto", "Makro")
    since: datetime | None = None
    until: datetime | None = None
    turns_written: int = 0  # turns that went to generation in the window (text kinds)
    duplicates_rejected: int = 0  # of those, skipped as a near-duplicate of a recent message

    @property
    def bot_lines(self) -> list[Line]:
        return [line for line in self.lines if line.is_bot]

    @property
    def member_lines(self) -> list[Line]:
        return [line for line in self.lines if not line.is_bot]

    def by_chat(self) -> list[list[Line]]:
        """The lines of each chat, in order (sequence figures never run across chats)."""
        chats: dict[int, list[Line]] = {}
        for line in self.lines:
            chats.setdefault(line.chat_id, []).append(line)
        return list(chats.values())

    def language_of_chat(self, chat_id: int) -> str:
        return self.languages.get(chat_id, "tr")

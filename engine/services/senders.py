"""Who wrote a group message, as the history stores and shows it: members, anonymous admins, channels and bots."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.clients.telegram_types import TgMessage

ANONYMOUS_ADMIN_NAME = "group admin"


class SenderKind(enum.StrEnum):
    """What kind of voice a message is: only members and admins are answered."""

    MEMBER = "member"
    ANONYMOUS_ADMIN = "anonymous_admin"
    CHANNEL = "channel"
    BOT = "bot"


@dataclass(frozen=True)
class Sender:
    """A message's speaker as stored: Telegram user id (None for a group or channel), handle, name, kind."""

    user_id: int | None
    username: str
    name: str
    kind: SenderKind

    @property
    def is_bot(self) -> bool:
        """Not a person: a bot or a channel (stored as such, never answered)."""
        return self.kind in (SenderKind.BOT, SenderKind.CHANNEL)

    @property
    def answerable(self) -> bool:
        return self.kind in (SenderKind.MEMBER, SenderKind.ANONYMOUS_ADMIN)


def sender_of(incoming: TgMessage) -> Sender | None:
    """The message's speaker: an admin posting as the group is the group's admin (not GroupAnonymousBot), a linked
    channel's forward or a channel's post is the channel; None when the message has no sender."""
    if incoming.is_anonymous_admin:
        return Sender(None, "", (incoming.author_signature or ANONYMOUS_ADMIN_NAME)[:200], SenderKind.ANONYMOUS_ADMIN)
    if incoming.is_from_channel:
        channel = incoming.sender_chat
        name = (channel.title if channel is not None and channel.title else "channel")[:200]
        return Sender(channel.id if channel is not None else None, "", name, SenderKind.CHANNEL)
    user = incoming.sender
    if user is None:
        return None
    kind = SenderKind.BOT if user.is_bot else SenderKind.MEMBER
    return Sender(user.id, (user.username or "")[:64], user.display_name[:200], kind)

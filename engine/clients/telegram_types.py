"""Typed Telegram updates: payloads are parsed here before anything else looks at them."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

GROUP_TYPES = frozenset({"group", "supergroup"})
ANONYMOUS_ADMIN_ID = 1087968824  # GroupAnonymousBot: the `from` of an admin posting as the group
TELEGRAM_SERVICE_ID = 777000  # Telegram: the `from` of a linked channel's posts forwarded into its group
ADMIN_STATUSES = frozenset({"creator", "administrator"})
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}")


class TgModel(BaseModel):
    """Base: unknown fields are ignored (Telegram adds fields over time), known ones are checked."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class TgUser(TgModel):
    """A Telegram user or bot."""

    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or (self.username or "")


class TgChat(TgModel):
    """The chat a message belongs to."""

    id: int
    type: str
    title: str | None = None
    is_forum: bool = False


class TgEntity(TgModel):
    """A formatted span of a message; mentions are what matter here."""

    type: str
    offset: int = Field(ge=0)
    length: int = Field(ge=0)
    user: TgUser | None = None


class TgForumTopic(TgModel):
    """A forum topic's service message content (`forum_topic_created` / `forum_topic_edited`)."""

    name: str | None = None


class TgMessage(TgModel):
    """A message (or edited message) in a chat."""

    message_id: int
    date: int = 0
    chat: TgChat
    sender: TgUser | None = Field(default=None, alias="from")
    sender_chat: TgChat | None = None  # an anonymous admin (the group itself) or a channel posting
    is_automatic_forward: bool = False  # a linked channel's post, forwarded into its discussion group
    author_signature: str | None = None  # an anonymous admin's custom title
    text: str | None = None
    caption: str | None = None
    entities: list[TgEntity] = Field(default_factory=list)
    caption_entities: list[TgEntity] = Field(default_factory=list)
    reply_to_message: TgMessage | None = None
    migrate_to_chat_id: int | None = None  # service message in a group upgraded to a supergroup: its new id
    migrate_from_chat_id: int | None = None  # service message in the new supergroup: the group's old id
    # In a forum: the topic's id; outside topics (General, or a non-forum's reply thread) it is not a topic's.
    message_thread_id: int | None = None
    is_topic_message: bool = False
    forum_topic_created: TgForumTopic | None = None
    forum_topic_edited: TgForumTopic | None = None
    forum_topic_closed: dict[str, Any] | None = None  # an empty object in Telegram's payloads
    forum_topic_reopened: dict[str, Any] | None = None

    @property
    def thread_id(self) -> int | None:
        """The forum topic the message is in; None for General and for chats without topics."""
        threaded = self.is_topic_message and self.message_thread_id is not None and self.message_thread_id > 1
        return self.message_thread_id if threaded else None  # 1 is General's id, never addressed by it

    @property
    def replied(self) -> TgMessage | None:
        """The message it answers: in a forum topic every message "replies" to the topic's creation, which is not
        an answer to anyone."""
        replied = self.reply_to_message
        return None if replied is None or replied.forum_topic_created is not None else replied

    @property
    def topic_event(self) -> tuple[str | None, bool | None] | None:
        """(new name, closed) when this is a forum topic's service message (created, edited, closed, reopened)."""
        named = self.forum_topic_created or self.forum_topic_edited
        if named is not None:
            return named.name, None
        if self.forum_topic_closed is not None:
            return None, True
        if self.forum_topic_reopened is not None:
            return None, False
        return None

    @property
    def migration(self) -> tuple[int, int] | None:
        """(old chat id, new chat id) when this is a service message of a supergroup upgrade."""
        if self.migrate_to_chat_id is not None:
            return self.chat.id, self.migrate_to_chat_id
        if self.migrate_from_chat_id is not None:
            return self.migrate_from_chat_id, self.chat.id
        return None

    @property
    def is_anonymous_admin(self) -> bool:
        """Posted by a group admin as the group (GroupAnonymousBot, `sender_chat` = this chat)."""
        return self.sender_chat is not None and self.sender_chat.id == self.chat.id

    @property
    def is_from_channel(self) -> bool:
        """A channel's post: auto-forwarded from the linked channel, or sent on a channel's behalf."""
        if self.is_automatic_forward or (self.sender is not None and self.sender.id == TELEGRAM_SERVICE_ID):
            return True
        return self.sender_chat is not None and self.sender_chat.type == "channel"

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    @property
    def all_entities(self) -> list[TgEntity]:
        return self.entities if self.text is not None else self.caption_entities

    def mentioned_usernames(self) -> list[str]:
        """@handles mentioned in the text, lower-cased, in order (entity offsets are UTF-16 units)."""
        encoded = self.body.encode("utf-16-le")
        names = []
        for entity in self.all_entities:
            if entity.type == "mention":
                chunk = encoded[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le", "replace")
                names.append(chunk.lstrip("@").casefold())
        return names

    def mentioned_user_ids(self) -> list[int]:
        """Users mentioned without a handle (text_mention entities)."""
        return [e.user.id for e in self.all_entities if e.type == "text_mention" and e.user is not None]


class TgChatMember(TgModel):
    """A user's standing in a chat (ChatMemberOwner, …Administrator, …Member, …Restricted, …Left, …Banned)."""

    status: str
    user: TgUser
    is_member: bool = True  # restricted members only: still in the chat
    can_send_messages: bool = True  # restricted members only: False when muted

    @property
    def can_post(self) -> bool:
        """Whether the user can send text messages in the chat."""
        if self.status == "restricted":
            return self.is_member and self.can_send_messages
        return self.status not in ("left", "kicked")


class TgChatMemberUpdated(TgModel):
    """A member's status changed (`my_chat_member`: the receiving bot's own)."""

    chat: TgChat
    sender: TgUser = Field(alias="from")
    date: int = 0
    old_chat_member: TgChatMember
    new_chat_member: TgChatMember


class TgUpdate(TgModel):
    """An incoming update: group messages and edits are ingested, `my_chat_member` is the bot's own standing.

    A channel's own posts (`channel_post`) are not a crowd's chat; its group sees them as automatic forwards.
    """

    update_id: int
    message: TgMessage | None = None
    edited_message: TgMessage | None = None
    my_chat_member: TgChatMemberUpdated | None = None

    @property
    def any_message(self) -> TgMessage | None:
        return self.message or self.edited_message

    @property
    def is_edit(self) -> bool:
        return self.message is None and self.edited_message is not None


def mention_entities(text: str) -> list[TgEntity]:
    """`mention` entities for each @handle in a text, with Telegram's UTF-16 offsets."""
    entities = []
    for match in MENTION.finditer(text):
        offset = len(text[: match.start()].encode("utf-16-le")) // 2
        entities.append(TgEntity(type="mention", offset=offset, length=len(match.group().encode("utf-16-le")) // 2))
    return entities


def parse_update(payload: Any) -> TgUpdate | None:
    """The typed update, or None when the payload is not a well-formed update."""
    if not isinstance(payload, dict):
        return None
    try:
        return TgUpdate.model_validate(payload)
    except (ValidationError, RecursionError):
        return None

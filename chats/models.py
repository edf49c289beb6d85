"""Chats (Telegram groups or local sandboxes), who is in them, and what was said."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bots.models import UNIT_INTERVAL, Bot
from bots.schemas import SchemaValidator, validate_with
from chats.schemas import ForumThreads, topics_default, validate_timezone

SANDBOX_ID_RANGE = 2**52


class Chat(models.Model):
    """A Telegram group or a local sandbox chat where a crowd of bots talks."""

    class Transport(models.TextChoices):
        TELEGRAM = "telegram"
        SANDBOX = "sandbox"

    class Language(models.TextChoices):
        TURKISH = "tr", "Türkçe"
        ENGLISH = "en", "English"

    transport = models.CharField(max_length=10, choices=Transport.choices, default=Transport.SANDBOX)
    telegram_chat_id = models.BigIntegerField(
        null=True, blank=True, help_text="Telegram's chat id; sandbox chats get a local id automatically."
    )
    title = models.CharField(max_length=200)
    is_enabled = models.BooleanField(default=True, help_text="Paused chats get no proactive turns.")
    topics = models.JSONField(default=topics_default, validators=[SchemaValidator("chats.schemas.Topics", "topics")])
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.TURKISH)
    timezone = models.CharField(max_length=64, default="Europe/Istanbul", validators=[validate_timezone])
    cadence = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(20.0)],
        help_text="Target bot messages per minute at normal activity.",
    )
    # Validated by the engine's schema (named by path: chats never imports the engine), typed like the settings.
    settings_overrides = models.JSONField(
        default=dict,
        blank=True,
        validators=[SchemaValidator("engine.runtime_settings.ChatOverrides", "settings_overrides")],
        help_text="Runtime settings this chat sets for itself (setting → value); the global value applies otherwise.",
    )
    bots = models.ManyToManyField(Bot, through="Membership", related_name="chats")
    migrated_from_chat_id = models.BigIntegerField(
        null=True, blank=True, editable=False, help_text="The group's id before Telegram upgraded it to a supergroup."
    )
    migrated_at = models.DateTimeField(null=True, blank=True, editable=False)
    discovered_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Found by a bot added to it; set until an operator enables it."
    )
    telegram_type = models.CharField(max_length=16, blank=True, default="", help_text="group, supergroup or channel.")
    is_forum = models.BooleanField(default=False, help_text="A supergroup with forum topics, as Telegram reports it.")
    forum_threads = models.JSONField(
        default=list,
        blank=True,
        validators=[SchemaValidator("chats.schemas.ForumThreads", "forum_threads")],
        help_text='Forum topics and the chat topic each is for, e.g. [{"thread_id": 12, "name": "Kripto", '
        '"topic": "Kripto"}]; learned from the group, mapped by the operator.',
    )
    quiet_until = models.DateTimeField(
        null=True, blank=True, help_text="No proactive turns until then (a group admin's /quiet)."
    )
    # What getChat said (engine/services/capabilities.py): a bot's sends here wait `slow_mode_delay` apart; the
    # members' default rights (ChatPermissions); the reactions allowed (None = every emoji, [] = reactions off).
    slow_mode_delay = models.PositiveIntegerField(
        default=0, editable=False, help_text="Seconds between a member's messages."
    )
    permissions = models.JSONField(default=dict, blank=True, editable=False, help_text="Members' default rights.")
    available_reactions = models.JSONField(
        null=True, blank=True, editable=False, help_text="Emoji allowed as reactions; empty: none; unset: all."
    )
    capabilities_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transport", "telegram_chat_id"], name="chat_transport_id_unique"),
            models.CheckConstraint(
                condition=Q(transport="sandbox") | Q(telegram_chat_id__isnull=False),
                name="chat_telegram_needs_id",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.transport == self.Transport.SANDBOX and self.telegram_chat_id is None:
            self.telegram_chat_id = secrets.randbelow(SANDBOX_ID_RANGE) + 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.transport == self.Transport.TELEGRAM and self.telegram_chat_id is None:
            raise ValidationError({"telegram_chat_id": "A Telegram chat needs its Telegram chat id."})
        self.forum_threads = forum_threads_clean(self.forum_threads)

    @property
    def is_sandbox(self) -> bool:
        return self.transport == self.Transport.SANDBOX

    @property
    def is_discovered(self) -> bool:
        """Found by a bot and waiting for an operator: its messages are not for the engine yet."""
        return self.discovered_at is not None

    def thread_name(self, thread_id: int | None) -> str:
        """How a forum thread is named on the chat's pages ("General" for none)."""
        if thread_id is None:
            return "General"
        known = next((t for t in self.forum_threads if t.get("thread_id") == thread_id), None)
        return (known or {}).get("name") or f"thread {thread_id}"

    def thread_topic(self, thread_id: int | None) -> str | None:
        """The chat topic the operator mapped a forum thread to, if any."""
        known = next((t for t in self.forum_threads if t.get("thread_id") == thread_id), None) if thread_id else None
        return (known or {}).get("topic") or None

    @property
    def members_may_send(self) -> bool:
        """Whether the group lets members (a bot that is not an admin) send text messages."""
        return bool(self.permissions.get("can_send_messages", True))

    @property
    def migration_note(self) -> str:
        """How the chat's history reads its upgrade, or "" when it was never moved."""
        if self.migrated_at is None:
            return ""
        moment = timezone.localtime(self.migrated_at).strftime("%Y-%m-%d %H:%M")
        return f"upgraded to supergroup on {moment} (was {self.migrated_from_chat_id})"


class Membership(models.Model):
    """A bot's place in a chat; only enabled members that are not paused post there."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="memberships")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="memberships")
    is_enabled = models.BooleanField(default=True)
    talkativeness = models.FloatField(
        null=True, blank=True, validators=UNIT_INTERVAL, help_text="Overrides the bot's talkativeness here."
    )
    disabled_reason = models.CharField(
        max_length=300, blank=True, default="", help_text="Why the engine disabled it (e.g. bot was kicked)."
    )
    # Paused by Telegram's word (kicked, left, muted), resumed by it: the operator's `is_enabled` stays as set.
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_reason = models.CharField(
        max_length=300, blank=True, default="", editable=False, help_text="Why Telegram keeps the bot from posting."
    )
    # Persona-refresh state lives here (not in process memory): the full persona is re-stated
    # every N messages or M minutes, whichever comes first.
    messages_since_refresh = models.PositiveIntegerField(default=0, editable=False)
    persona_refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "bot"]
        constraints = [models.UniqueConstraint(fields=["chat", "bot"], name="membership_chat_bot_unique")]

    def __str__(self) -> str:
        return f"{self.bot} in {self.chat}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class Message(models.Model):
    """A message in a chat, from a bot (bot set) or a member (sender fields set). Failed sends are not messages."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    bot = models.ForeignKey(Bot, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    sender_user_id = models.BigIntegerField(null=True, blank=True, help_text="Telegram user id of a member.")
    sender_username = models.CharField(max_length=64, blank=True, default="")
    sender_name = models.CharField(
        max_length=200, blank=True, default="", help_text="Display name (the bot's name for bot messages)."
    )
    sender_is_bot = models.BooleanField(default=False, help_text="Sent by a Telegram bot, ours or another.")
    text = models.TextField(max_length=4096)
    # What the engine's dedup compares (the text folded: case, accents, punctuation); written with the bot
    # messages the engine records, so a turn does not fold hundreds of recent texts again.
    text_normalized = models.TextField(blank=True, default="", editable=False)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    thread_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The forum topic it was posted in (Telegram's message_thread_id); none: General.",
    )
    metadata = models.JSONField(
        default=dict, blank=True, validators=[SchemaValidator("chats.schemas.MessageMetadata", "metadata")]
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["chat", "-created_at"], name="message_chat_recent"),
            models.Index(fields=["chat", "thread_id", "-created_at"], name="message_chat_thread_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["chat", "telegram_message_id"],
                condition=Q(telegram_message_id__isnull=False),
                name="message_chat_telegram_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker_label}: {self.text[:50]}"

    @property
    def speaker_label(self) -> str:
        """How the speaker is named in history: bots by name, members by their Telegram name."""
        bot_name = self.bot.name if self.bot_id is not None and self.bot is not None else None
        return speaker_label(bot_name, self.sender_name, self.sender_username)


def forum_threads_clean(value: Any) -> list[dict[str, Any]]:
    """The forum threads in their stored form (every field present), each thread once."""
    from django.core.exceptions import ValidationError

    threads = [thread.model_dump() for thread in validate_with(ForumThreads, "forum_threads", value)]
    if len({thread["thread_id"] for thread in threads}) < len(threads):
        raise ValidationError({"forum_threads": "forum_threads: each thread_id once."})
    return threads


def speaker_label(bot_name: str | None, sender_name: str, sender_username: str) -> str:
    """How a message's speaker is named in history: bots by name, members by their Telegram name."""
    if bot_name is not None:
        return bot_name
    return sender_name or (f"@{sender_username}" if sender_username else "member")

"""Engine state: turns (one planned bot message each), runtime settings and market events."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from bots.models import Bot
from chats.models import Chat, Message
from engine.kinds import TurnKind
from engine.runtime_settings import KEY_CHOICES, parse_setting


class Turn(models.Model):
    """One planned bot message, from decision to delivery; every status change is an atomic claim."""

    Kind = TurnKind  # what differs between kinds: engine.kinds.KINDS

    class Status(models.TextChoices):
        PLANNED = "planned"
        GENERATING = "generating"
        READY = "ready"
        SENDING = "sending"
        SENT = "sent"
        SKIPPED = "skipped"
        FAILED = "failed"
        UNCONFIRMED = "unconfirmed"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="turns")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="turns")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PROACTIVE)
    reply_to = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    thread_id = models.BigIntegerField(
        null=True, blank=True, help_text="The forum topic it is posted in (that of its target); none: General."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    due_at = models.DateTimeField(help_text="When the bot starts typing (after its human-like delay).")
    send_at = models.DateTimeField(null=True, blank=True, help_text="When the send is scheduled, after typing.")
    next_run_at = models.DateTimeField(
        null=True, blank=True, help_text="When this turn's next job is due; the recovery sweep re-enqueues lost jobs."
    )
    inputs = models.JSONField(default=dict, blank=True, help_text="Summary of the prompt inputs.")
    text = models.TextField(blank=True, default="", help_text="The generated text, once ready.")
    llm_model = models.CharField(max_length=100, blank=True, default="")
    llm_calls = models.PositiveSmallIntegerField(default=0)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=8, default=0)
    llm_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Delivery attempts so far.")
    error = models.TextField(blank=True, default="")
    message = models.OneToOneField(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="turn")
    created_at = models.DateTimeField(auto_now_add=True)
    generating_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it reached a terminal status.")

    TERMINAL = frozenset({Status.SENT, Status.SKIPPED, Status.FAILED, Status.UNCONFIRMED})
    # The status machine: which statuses a turn may move to from each status.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PLANNED: frozenset({Status.GENERATING, Status.SKIPPED, Status.FAILED}),
        Status.GENERATING: frozenset({Status.READY, Status.PLANNED, Status.SKIPPED, Status.FAILED}),
        Status.READY: frozenset({Status.SENDING, Status.SKIPPED, Status.FAILED}),
        # Skipped when sending: Telegram refused it where it was going (a closed forum topic), nothing is wrong.
        Status.SENDING: frozenset({Status.SENT, Status.READY, Status.SKIPPED, Status.FAILED, Status.UNCONFIRMED}),
    }
    TIMESTAMP_FIELD: dict[str, str] = {
        Status.GENERATING: "generating_at",
        Status.READY: "ready_at",
        Status.SENDING: "sending_at",
    }

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one bot answers a given member message, even when several receive the update.
            models.UniqueConstraint(
                fields=["reply_to"], condition=models.Q(kind="priority_reply"), name="turn_one_priority_reply"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="turn_status_due"),
            models.Index(fields=["chat", "status"], name="turn_chat_status"),
            models.Index(fields=["bot", "-created_at"], name="turn_bot_recent"),
            # The turns explorer (newest first) and the dashboard's per-minute series.
            models.Index(fields=["-created_at"], name="turn_recent"),
            models.Index(fields=["ready_at"], name="turn_ready_at"),
            models.Index(fields=["finished_at"], name="turn_finished_at"),
        ]

    def __str__(self) -> str:
        return f"Turn {self.pk} {self.kind} {self.status}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Setting(models.Model):
    """A runtime setting from the closed, typed set in engine.runtime_settings."""

    key = models.CharField(max_length=64, unique=True, choices=KEY_CHOICES)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            self.value = parse_setting(self.key, self.value)
        except ValidationError as error:
            raise ValidationError({"value": error.messages}) from None

    def parsed(self) -> Any:
        """The validated value."""
        return parse_setting(self.key, self.value)


class NewsItem(models.Model):
    """A headline from an RSS/Atom feed, fetched by a background job and offered to turns as context."""

    source = models.CharField(max_length=500, help_text="The feed URL it came from.")
    uid = models.CharField(max_length=64, unique=True, help_text="sha256 of the guid (or link); dedupes fetches.")
    title = models.CharField(max_length=500)
    summary = models.TextField(blank=True, default="")
    link = models.URLField(max_length=1000, blank=True, default="")
    language = models.CharField(max_length=2, choices=Chat.Language.choices)
    topics = models.JSONField(default=list, blank=True, help_text="Chat topics and symbols the headline matched.")
    published_at = models.DateTimeField(help_text="From the entry; the fetch time when the entry has no date.")
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["-published_at"], name="newsitem_recent")]

    def __str__(self) -> str:
        return self.title


class TelegramInbox(models.Model):
    """How one bot's Telegram updates reach us: its opaque webhook id and its persisted getUpdates offset."""

    bot = models.OneToOneField(Bot, on_delete=models.CASCADE, related_name="telegram_inbox")
    # Random, not derived from the token: the webhook URL reveals nothing about the token and survives
    # its rotation (the secret header, derived from the token, does not: see engine.services.webhooks).
    webhook_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook_token_fingerprint = models.CharField(
        max_length=64, blank=True, default="", editable=False, help_text="The token the webhook was registered with."
    )
    update_offset = models.BigIntegerField(
        default=0, help_text="The next getUpdates offset (last ingested update_id + 1); 0 before the first batch."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "Telegram inboxes"

    def __str__(self) -> str:
        return f"Inbox of {self.bot}"


class MarketEvent(models.Model):
    """An operator's market event (a rate decision, a crash): fired once, its chats' crowds react while it is fresh."""

    class Direction(models.TextChoices):
        UP = "up"
        DOWN = "down"
        MIXED = "mixed"

    text = models.CharField(max_length=300, help_text='What happened: "TCMB politika faizini 500 baz puan artırdı".')
    symbols = models.JSONField(default=list, blank=True, help_text="Affected symbols, canonical (BIST:THYAO).")
    topics = models.JSONField(default=list, blank=True, help_text="Affected chat topics (BIST, FX, Kripto, Makro).")
    direction = models.CharField(max_length=5, choices=Direction.choices)
    intensity = models.FloatField(
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)], help_text="0 (a ripple) to 1 (a shock)."
    )
    fire_at = models.DateTimeField(help_text="When it fires (now, or the time it is scheduled for).")
    chats = models.ManyToManyField(
        Chat, blank=True, related_name="market_events", help_text="None chosen: every enabled chat when it fires."
    )
    fired_at = models.DateTimeField(null=True, blank=True, help_text="Set once, by the one process that fired it.")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fire_at", "-id"]
        indexes = [
            models.Index(fields=["fired_at"], name="marketevent_fired"),
            models.Index(fields=["fire_at"], name="marketevent_fire_at", condition=models.Q(fired_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def status(self) -> str:
        """scheduled, fired or cancelled."""
        if self.cancelled_at is not None:
            return "cancelled"
        return "scheduled" if self.fired_at is None else "fired"


class Watermark(models.Model):
    """How far a periodic job has read an ordered table (the last message id it handled), claimed atomically."""

    class Name(models.TextChoices):
        STANCE_EVOLUTION = "stance_evolution"

    name = models.CharField(max_length=32, unique=True, choices=Name.choices)
    position = models.PositiveBigIntegerField(default=0, help_text="The last row id handled.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"

"""Bots: personas with stances, holdings and memories."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from bots import crypto
from bots.schemas import SchemaValidator, emotion_default, persona_default, speed_default
from bots.symbols import normalize_symbol

UNIT_INTERVAL = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def _symbol_validator(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        normalize_symbol(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid") from None


class Bot(models.Model):
    """One persona, posting through one Telegram bot token (or only in sandbox chats when it has none)."""

    name = models.CharField(max_length=100, help_text="Display name used in prompts.")
    username = models.CharField(
        max_length=64, blank=True, default="", help_text="Telegram @handle without the @; unique when set."
    )
    # Ciphertext only: the plaintext is reachable through `token` and never stored or rendered.
    token_encrypted = models.TextField(blank=True, default="", editable=False)
    token_fingerprint = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # The bot's own Telegram user id: the numeric part of its token, kept to recognise replies to it.
    telegram_id = models.BigIntegerField(null=True, blank=True, editable=False, db_index=True)
    is_enabled = models.BooleanField(default=True)
    persona = models.JSONField(default=persona_default, validators=[SchemaValidator("bots.schemas.Persona", "persona")])
    emotion = models.JSONField(default=emotion_default, validators=[SchemaValidator("bots.schemas.Emotion", "emotion")])
    speed = models.JSONField(default=speed_default, validators=[SchemaValidator("bots.schemas.Speed", "speed")])
    active_hours = models.JSONField(
        default=list,
        blank=True,
        validators=[SchemaValidator("bots.schemas.ActiveHours", "active_hours")],
        help_text='List of "HH:MM-HH:MM" ranges in the chat\'s timezone (may wrap midnight); empty = always.',
    )
    talkativeness = models.FloatField(default=0.5, validators=UNIT_INTERVAL, help_text="Weight in speaker choice.")
    llm_model = models.CharField(max_length=100, blank=True, default="", help_text="Overrides the default model.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["username"], condition=~Q(username=""), name="bot_username_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def token(self) -> str:
        """The plaintext token (decrypted on access)."""
        return crypto.decrypt_token(self.token_encrypted)

    @token.setter
    def token(self, value: str) -> None:
        value = value.strip()
        self.token_encrypted = crypto.encrypt_token(value)
        self.token_fingerprint = crypto.token_fingerprint(value)
        prefix = value.split(":", 1)[0]
        self.telegram_id = int(prefix) if prefix.isdigit() else None

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)

    @property
    def masked_token(self) -> str:
        return crypto.mask_token(self.token) if self.has_token else ""


class Stance(models.Model):
    """A bot's position on a topic or symbol, which its messages must stay consistent with."""

    class Polarity(models.TextChoices):
        BULLISH = "bullish"
        BEARISH = "bearish"
        NEUTRAL = "neutral"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="stances")
    topic = models.CharField(max_length=64, help_text="A topic name (e.g. Makro) or a symbol (e.g. BIST:AKBNK).")
    stance = models.TextField()
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.NEUTRAL)
    confidence = models.FloatField(default=0.6, validators=UNIT_INTERVAL)
    cooldown_until = models.DateTimeField(null=True, blank=True, help_text="The bot may not flip before this.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bot", "topic"]
        constraints = [models.UniqueConstraint(fields=["bot", "topic"], name="stance_bot_topic_unique")]

    def __str__(self) -> str:
        return f"{self.bot}: {self.topic} ({self.polarity})"


class Holding(models.Model):
    """A position in the bot's fictional portfolio."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="holdings")
    symbol = models.CharField(max_length=32, validators=[_symbol_validator])
    size = models.DecimalField(max_digits=20, decimal_places=6)
    average_price = models.DecimalField(max_digits=20, decimal_places=6, validators=[MinValueValidator(0)])
    note = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bot", "symbol"]
        constraints = [models.UniqueConstraint(fields=["bot", "symbol"], name="holding_bot_symbol_unique")]

    def __str__(self) -> str:
        return f"{self.bot}: {self.size} {self.symbol}"

    def clean(self) -> None:
        # An invalid symbol is left as typed: the field validator reports it by name.
        with contextlib.suppress(ValueError):
            self.symbol = normalize_symbol(self.symbol)


class Memory(models.Model):
    """Something the bot remembers; retrieved by relevance to the current topic and message."""

    class Kind(models.TextChoices):
        PERSONAL_FACT = "personal_fact"
        PAST_EVENT = "past_event"
        RELATIONSHIP = "relationship"
        PREFERENCE = "preference"
        ROUTINE = "routine"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="memories")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    content = models.TextField()
    relevance = models.FloatField(default=0.5, validators=UNIT_INTERVAL)
    usage_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bot", "-relevance", "id"]
        verbose_name_plural = "memories"

    def __str__(self) -> str:
        return f"{self.bot}: {self.content[:40]}"


class Interview(models.Model):
    """An operator's private question to a bot and its in-character answer; never posted to any chat."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="interviews")
    question = models.TextField()
    answer = models.TextField()
    provider = models.CharField(max_length=32, help_text="The LLM provider that answered.")
    model = models.CharField(max_length=100, blank=True, default="")
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=8, default=0)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bot}: {self.question[:40]}"


class StanceChange(models.Model):
    """One move of a stance's polarity or confidence, with what moved it (an event, an argument, an operator)."""

    class Cause(models.TextChoices):
        EVENT = "event"
        ARGUMENT = "argument"
        OPERATOR = "operator"

    stance = models.ForeignKey(Stance, on_delete=models.CASCADE, related_name="changes")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="stance_changes")
    topic = models.CharField(max_length=64)
    old_polarity = models.CharField(max_length=10, choices=Stance.Polarity.choices)
    new_polarity = models.CharField(max_length=10, choices=Stance.Polarity.choices)
    old_confidence = models.FloatField(validators=UNIT_INTERVAL)
    new_confidence = models.FloatField(validators=UNIT_INTERVAL)
    cause_kind = models.CharField(max_length=10, choices=Cause.choices)
    cause = models.CharField(max_length=200, blank=True, default="", help_text="Who or what moved it, in words.")
    moved = models.FloatField(default=0.0, help_text="What the change counts toward the stance's daily cap.")
    speaker_bot = models.ForeignKey(
        Bot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The bot that argued."
    )
    # Plain ids, not foreign keys: a change outlives the message or event that caused it, and bots never
    # depends on the chats' or engine's tables.
    message_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The chat message that argued.")
    event_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The market event.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["stance", "-created_at"], name="stancechange_stance_recent")]

    def __str__(self) -> str:
        return f"{self.bot}: {self.topic} {self.old_polarity}→{self.new_polarity}"

    @property
    def delta(self) -> float:
        """How far the confidence moved (negative: weaker)."""
        return self.new_confidence - self.old_confidence

    @property
    def flipped(self) -> bool:
        return self.old_polarity != self.new_polarity

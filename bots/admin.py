"""Admin for bots and what they know: stances, holdings, memories (and their chat memberships)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from bots import crypto
from bots.models import Bot, Holding, Interview, Memory, Stance, StanceChange
from bots.schemas import PersonaTone
from bots.services import bot_knowledge_save, bots_set_enabled
from chats.models import Membership
from config.forms import JSON_FORMFIELD_OVERRIDES

# Loose on purpose (Telegram documents no exact length): "<bot id>:<secret>".
TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class BotAdminForm(forms.ModelForm):
    """Bot form whose token is write-only: typed in, encrypted on save, never rendered back."""

    token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the current token.",
    )
    clear_token = forms.BooleanField(
        required=False, label="Remove token", help_text="The bot then posts only in sandbox chats."
    )

    class Meta:
        model = Bot
        fields = (
            "name", "username", "is_enabled", "talkativeness", "llm_model", "persona", "emotion", "speed",
            "active_hours",
        )  # fmt: skip

    def clean_token(self) -> str:
        token: str = self.cleaned_data.get("token", "")
        if not token:
            return ""
        # Never echo the token in an error: the page would then show it.
        if not TOKEN_SHAPE.match(token):
            raise forms.ValidationError("This does not look like a Telegram bot token (<bot id>:<secret>).")
        others = Bot.objects.exclude(pk=self.instance.pk) if self.instance.pk else Bot.objects.all()
        if others.filter(token_fingerprint=crypto.token_fingerprint(token)).exists():
            raise forms.ValidationError("Another bot already uses this token.")
        return token

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("token") and cleaned.get("clear_token"):
            self.add_error("clear_token", "Either type a new token or remove it, not both.")
        return cleaned

    def save(self, commit: bool = True) -> Bot:
        bot: Bot = super().save(commit=False)
        self._apply_token(bot)
        if commit:
            bot.save()
            self.save_m2m()
        return bot

    def _apply_token(self, bot: Bot) -> None:
        if self.cleaned_data.get("clear_token"):
            bot.token = ""
        elif self.cleaned_data.get("token"):
            bot.token = self.cleaned_data["token"]


def masked_token_of(bot: Bot) -> str:
    """The masked token, or a note when there is none or it cannot be decrypted."""
    try:
        return bot.masked_token or "—"
    except crypto.TokenDecryptionError:
        return "(cannot decrypt: check TOKEN_ENCRYPTION_KEYS)"


class PersonaToneFilter(admin.SimpleListFilter):
    """Filter bots by persona.tone (a key inside the persona JSON)."""

    title = "persona tone"
    parameter_name = "tone"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(tone.value, tone.value) for tone in PersonaTone]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(persona__tone=value) if value else queryset


class StanceInline(admin.TabularInline):
    """A bot's stances, edited on the bot."""

    model = Stance
    extra = 0
    fields = ("topic", "polarity", "confidence", "stance", "cooldown_until")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}


class HoldingInline(admin.TabularInline):
    """A bot's fictional portfolio, edited on the bot."""

    model = Holding
    extra = 0
    fields = ("symbol", "size", "average_price", "note")


class MemoryInline(admin.TabularInline):
    """A bot's memories, edited on the bot."""

    model = Memory
    extra = 0
    fields = ("kind", "content", "relevance", "usage_count", "last_used_at")
    readonly_fields = ("usage_count", "last_used_at")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}


class BotMembershipInline(admin.TabularInline):
    """The chats a bot is a member of."""

    model = Membership
    fk_name = "bot"
    extra = 0
    fields = ("chat", "is_enabled", "talkativeness", "disabled_reason", "paused_reason")
    readonly_fields = ("paused_reason",)
    autocomplete_fields = ("chat",)


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    """Bots: persona JSON as readable JSON, a write-only token, and enable/disable in bulk."""

    form = BotAdminForm
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    list_display = ("name", "username", "is_enabled", "persona_tone", "talkativeness", "masked_token", "updated_at")
    list_filter = ("is_enabled", PersonaToneFilter)
    search_fields = ("name", "username")
    readonly_fields = ("masked_token", "created_at", "updated_at")
    inlines = (StanceInline, HoldingInline, MemoryInline, BotMembershipInline)
    actions = ("enable_bots", "disable_bots")

    def get_fieldsets(self, request: HttpRequest, obj: Bot | None = None) -> Any:
        token_fields = ("masked_token", "token", "clear_token") if obj else ("token",)
        return (
            (None, {"fields": ("name", "username", "is_enabled", "talkativeness", "llm_model")}),
            ("Telegram token", {"fields": token_fields}),
            ("Persona", {"fields": ("persona", "emotion", "speed", "active_hours")}),
            ("Timestamps", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
        )

    @admin.display(description="token")
    def masked_token(self, obj: Bot) -> str:
        return masked_token_of(obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Stance:
            return super().save_formset(request, form, formset, change)
        # Through the service, so that an operator's change of a stance lands in its history.
        for stance in formset.save(commit=False):
            bot_knowledge_save(instance=stance)
        for stance in formset.deleted_objects:
            stance.delete()
        return None

    @admin.display(description="persona tone")
    def persona_tone(self, obj: Bot) -> str:
        return str(obj.persona.get("tone", "")) if isinstance(obj.persona, dict) else ""

    @admin.action(description="Enable selected bots")
    def enable_bots(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        changed = bots_set_enabled(bot_ids=list(queryset.values_list("pk", flat=True)), enabled=True)
        self.message_user(request, f"Enabled {changed} bot(s).")

    @admin.action(description="Disable selected bots")
    def disable_bots(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        changed = bots_set_enabled(bot_ids=list(queryset.values_list("pk", flat=True)), enabled=False)
        self.message_user(request, f"Disabled {changed} bot(s).")


@admin.register(Stance)
class StanceAdmin(admin.ModelAdmin):
    """Stances across all bots."""

    list_display = ("bot", "topic", "polarity", "confidence", "cooldown_until", "updated_at")
    list_filter = ("polarity",)
    search_fields = ("topic", "stance", "bot__name")
    list_select_related = ("bot",)
    autocomplete_fields = ("bot",)

    def save_model(self, request: HttpRequest, obj: Stance, form: Any, change: bool) -> None:
        # Through the service, so that an operator's change lands in the stance's history.
        bot_knowledge_save(instance=obj)


@admin.register(StanceChange)
class StanceChangeAdmin(admin.ModelAdmin):
    """Every move of a stance (by an argument, a market event or an operator); written by the engine only."""

    list_display = ("created_at", "bot", "topic", "old_polarity", "new_polarity", "old_confidence", "new_confidence",
                    "cause_kind", "cause")  # fmt: skip
    list_filter = ("cause_kind", "new_polarity")
    search_fields = ("topic", "cause", "bot__name")
    list_select_related = ("bot",)
    readonly_fields = [field.name for field in StanceChange._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StanceChange | None = None) -> bool:
        return False


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):
    """Holdings across all bots."""

    list_display = ("bot", "symbol", "size", "average_price", "updated_at")
    search_fields = ("symbol", "bot__name")
    list_select_related = ("bot",)
    autocomplete_fields = ("bot",)


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    """Memories across all bots."""

    list_display = ("bot", "kind", "excerpt", "relevance", "usage_count", "last_used_at")
    list_filter = ("kind",)
    search_fields = ("content", "bot__name")
    list_select_related = ("bot",)
    autocomplete_fields = ("bot",)
    readonly_fields = ("usage_count", "last_used_at", "created_at")

    @admin.display(description="content")
    def excerpt(self, obj: Memory) -> str:
        return obj.content[:80]


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    """The interview log: operators' private questions to bots and the answers (asked from the dashboard, API or
    `manage.py interview`, never here)."""

    list_display = ("created_at", "bot", "question", "provider", "model", "tokens_in", "tokens_out", "asked_by")
    list_filter = ("provider",)
    search_fields = ("question", "answer", "bot__name")
    list_select_related = ("bot", "asked_by")
    readonly_fields = [field.name for field in Interview._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

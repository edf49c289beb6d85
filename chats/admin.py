"""Admin for chats, their member bots, and the messages said in them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from accounts.roles import CHANGE_SETTING
from chats.models import Chat, Membership, Message
from config.forms import JSON_FORMFIELD_OVERRIDES, pretty_json_html
from engine.services.capabilities import chat_enable


class DiscoveredFilter(admin.SimpleListFilter):
    """Groups a bot was added to that wait for an operator's enable."""

    title = "discovered"
    parameter_name = "discovered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "waiting to be enabled"), ("no", "configured")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> QuerySet[Chat]:
        if self.value() in ("yes", "no"):
            return queryset.filter(discovered_at__isnull=self.value() == "no")
        return queryset


class ChatMembershipInline(admin.TabularInline):
    """The bots of a chat."""

    model = Membership
    fk_name = "chat"
    extra = 0
    fields = ("bot", "is_enabled", "talkativeness", "disabled_reason", "paused_reason")
    readonly_fields = ("paused_reason",)
    autocomplete_fields = ("bot",)


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    """Chats: sandbox chats may leave the Telegram chat id blank (they get a local one)."""

    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    list_display = (
        "title", "transport", "telegram_chat_id", "language", "is_enabled", "discovered", "cadence", "member_count",
    )  # fmt: skip
    list_filter = ("transport", "language", "is_enabled", DiscoveredFilter)
    search_fields = ("title",)
    readonly_fields = (
        "telegram_type", "is_forum", "discovered_at", "migrated_from_chat_id", "migrated_at", "created_at",
        "updated_at",
    )  # fmt: skip
    inlines = (ChatMembershipInline,)
    actions = ("enable_discovered_chats", "enable_chats", "disable_chats")
    fieldsets = (
        (None, {"fields": ("title", "transport", "telegram_chat_id", "is_enabled", "quiet_until")}),
        ("Telegram", {"fields": ("telegram_type", "is_forum", "forum_threads", "discovered_at")}),
        ("Conversation", {"fields": ("language", "timezone", "cadence", "topics")}),
        (
            "Settings overrides",
            {
                "fields": ("settings_overrides",),
                "description": 'Runtime settings this chat sets for itself, e.g. {"reply_probability": 0.3}; '
                "a setting left out uses the global value (dashboard: the chat's edit page lists them).",
            },
        ),
        (
            "Timestamps",
            {"fields": ("migrated_from_chat_id", "migrated_at", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chat]:
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    def get_readonly_fields(self, request: HttpRequest, obj: Chat | None = None) -> Any:
        # Runtime settings are admins' (engine.change_setting), a chat's own as much as the global ones.
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.has_perm(CHANGE_SETTING) else (*fields, "settings_overrides")

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: Any) -> int:
        return int(getattr(obj, "member_total", 0))

    @admin.display(description="discovered", boolean=True, ordering="discovered_at")
    def discovered(self, obj: Chat) -> bool:
        return obj.is_discovered

    @admin.action(description="Enable selected discovered groups")
    def enable_discovered_chats(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        chats = list(queryset.filter(discovered_at__isnull=False))
        for chat in chats:
            chat_enable(chat=chat)
        self.message_user(request, f"Enabled {len(chats)} discovered group(s).")

    @admin.action(description="Enable selected chats")
    def enable_chats(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        chats = list(queryset.exclude(is_enabled=True))
        for chat in chats:
            chat_enable(chat=chat)
        self.message_user(request, f"Enabled {len(chats)} chat(s).")

    @admin.action(description="Disable selected chats")
    def disable_chats(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        changed = queryset.exclude(is_enabled=False).update(is_enabled=False)
        self.message_user(request, f"Disabled {changed} chat(s).")


class PausedFilter(admin.SimpleListFilter):
    """Memberships Telegram keeps from posting (kicked, left, muted)."""

    title = "paused"
    parameter_name = "paused"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "paused by Telegram"), ("no", "not paused")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> QuerySet[Membership]:
        if self.value() in ("yes", "no"):
            return queryset.filter(paused_at__isnull=self.value() == "no")
        return queryset


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Memberships across all chats, with the reason the engine disabled one."""

    list_display = ("chat", "bot", "is_enabled", "talkativeness", "disabled_reason", "paused_reason", "created_at")
    list_filter = ("is_enabled", PausedFilter, "chat")
    readonly_fields = ("paused_at", "paused_reason")
    search_fields = ("chat__title", "bot__name", "disabled_reason", "paused_reason")
    list_select_related = ("chat", "bot")
    autocomplete_fields = ("chat", "bot")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Messages are read-mostly: they can be added (e.g. to seed a sandbox) or deleted, never rewritten."""

    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    list_display = ("created_at", "chat", "speaker", "excerpt", "telegram_message_id")
    list_filter = ("chat", "bot")
    search_fields = ("text", "sender_name", "sender_username")
    list_select_related = ("chat", "bot")
    date_hierarchy = "created_at"
    autocomplete_fields = ("chat", "bot")
    raw_id_fields = ("reply_to",)
    readonly_fields = ("metadata_pretty", "created_at")

    def get_fields(self, request: HttpRequest, obj: Message | None = None) -> Any:
        sender = ("sender_user_id", "sender_username", "sender_name", "sender_is_bot")
        head = ("chat", "bot", *sender, "text", "telegram_message_id", "reply_to")
        return (*head, "metadata_pretty", "created_at") if obj else (*head, "metadata")

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    @admin.display(description="speaker")
    def speaker(self, obj: Message) -> str:
        return obj.speaker_label

    @admin.display(description="text")
    def excerpt(self, obj: Message) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:79]}…"

    @admin.display(description="metadata")
    def metadata_pretty(self, obj: Message) -> SafeString:
        return pretty_json_html(obj.metadata)

"""Admin for the engine: turns (read-only, the engine writes them) and runtime settings."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from config.forms import PrettyJSONField, pretty_json_html
from engine.models import MarketEvent, NewsItem, Setting, TelegramInbox, Turn, Watermark
from engine.runtime_settings import SPEC_BY_KEY, SPECS, SettingSpec


@admin.register(Turn)
class TurnAdmin(admin.ModelAdmin):
    """Turns, for inspection only: no one but the engine may create or change one (deleting stays allowed)."""

    list_display = (
        "id", "chat", "bot", "kind", "status", "due_at", "llm_model", "tokens_in", "tokens_out", "cost_usd",
        "llm_latency_ms", "error_excerpt",
    )  # fmt: skip
    list_filter = ("status", "kind")
    search_fields = ("error",)
    list_select_related = ("chat", "bot")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("chat", "bot", "kind", "status", "due_at", "send_at", "reply_to", "message", "attempts")}),
        ("Generation", {"fields": ("text", "inputs_pretty", "llm_model", "llm_calls", "tokens_in", "tokens_out")}),
        ("Cost and errors", {"fields": ("cost_usd", "llm_latency_ms", "error")}),
        ("Timestamps", {"fields": ("created_at", "generating_at", "ready_at", "sending_at", "finished_at")}),
    )
    readonly_fields = ("inputs_pretty",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Turn | None = None) -> bool:
        return False

    # Delete permission is left on: deleting a bot or chat cascades to its turns, and the admin
    # refuses a cascade into a model the user may not delete.

    @admin.display(description="prompt inputs")
    def inputs_pretty(self, obj: Turn) -> SafeString:
        return pretty_json_html(obj.inputs)

    @admin.display(description="error")
    def error_excerpt(self, obj: Turn) -> str:
        return obj.error if len(obj.error) <= 60 else f"{obj.error[:59]}…"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def settings_reference_html(specs: tuple[SettingSpec, ...] = SPECS) -> SafeString:
    """A table of every setting: its key (a link that pre-fills the add form), default and meaning."""
    rows = format_html_join(
        "",
        '<tr><td><a href="?key={0}"><code>{0}</code></a></td><td><code>{1}</code></td><td>{2}</td></tr>',
        ((spec.key, _compact(spec.default), spec.help) for spec in specs),
    )
    return format_html("<table><tr><th>key</th><th>default</th><th>meaning</th></tr>{}</table>", rows)


class SettingAdminForm(forms.ModelForm):
    """Setting form: the value is readable JSON, checked against the key's type by Setting.clean."""

    # Not required: [] and {} are valid values for some keys; an empty box is caught in clean_value.
    value = PrettyJSONField(required=False, help_text='JSON, e.g. 6, true, 0.5, "text" or {"min": 6, "max": 12}.')

    class Meta:
        model = Setting
        fields = ("key", "value")

    def clean_value(self) -> Any:
        value = self.cleaned_data.get("value")
        if value is None:
            raise forms.ValidationError("Enter a JSON value (the default applies when the setting is deleted).")
        return value


@admin.register(Setting)
class SettingAdmin(admin.ModelAdmin):
    """Runtime settings: a closed set of typed keys; a value of the wrong type is an error naming the key."""

    form = SettingAdminForm
    list_display = ("key", "value_json", "default_json", "meaning", "updated_at")
    search_fields = ("key",)
    readonly_fields = ("reference", "updated_at")

    def get_fields(self, request: HttpRequest, obj: Setting | None = None) -> Any:
        return ("key", "value", "reference", "updated_at") if obj else ("key", "value", "reference")

    def get_readonly_fields(self, request: HttpRequest, obj: Setting | None = None) -> Any:
        # The value's type depends on the key, so a stored setting keeps its key.
        return ("key", *self.readonly_fields) if obj else self.readonly_fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        spec = SPEC_BY_KEY.get(str(initial.get("key", "")))
        if spec is not None:
            initial.setdefault("value", spec.default)
        return initial

    @admin.display(description="value")
    def value_json(self, obj: Setting) -> str:
        return _compact(obj.value)

    @admin.display(description="default")
    def default_json(self, obj: Setting) -> str:
        spec = SPEC_BY_KEY.get(obj.key)
        return _compact(spec.default) if spec else "—"

    @admin.display(description="meaning")
    def meaning(self, obj: Setting) -> str:
        spec = SPEC_BY_KEY.get(obj.key)
        return spec.help if spec else "unknown key"

    @admin.display(description="default and meaning")
    def reference(self, obj: Setting) -> SafeString:
        spec = SPEC_BY_KEY.get(obj.key)
        if spec is None:
            return settings_reference_html()
        return format_html("{} Default: <code>{}</code>", spec.help, _compact(spec.default))


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    """Cached headlines, for inspection only: the fetch_news job writes them (deleting stays allowed)."""

    fields = ("title", "summary", "link", "language", "topics", "published_at", "source", "uid", "fetched_at")
    readonly_fields = ("fetched_at",)
    list_display = ("title", "language", "topics", "published_at", "source")
    list_filter = ("language",)
    search_fields = ("title", "summary")
    date_hierarchy = "published_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: NewsItem | None = None) -> bool:
        return False


@admin.register(TelegramInbox)
class TelegramInboxAdmin(admin.ModelAdmin):
    """Webhook ids and polling offsets per bot, for inspection (setwebhook and telegram_poll write them)."""

    list_display = ("bot", "webhook_id", "update_offset", "updated_at")
    readonly_fields = ("bot", "webhook_id", "update_offset", "updated_at")
    search_fields = ("bot__name", "bot__username")
    list_select_related = ("bot",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MarketEvent)
class MarketEventAdmin(admin.ModelAdmin):
    """Market events, for inspection: operators inject and cancel them on the dashboard, the API or `manage.py
    event` (the services validate symbols and fire each once)."""

    list_display = ("text", "direction", "intensity", "fire_at", "fired_at", "cancelled_at", "created_by")
    list_filter = ("direction",)
    search_fields = ("text",)
    readonly_fields = ("fired_at", "cancelled_at", "created_by", "created_at")
    filter_horizontal = ("chats",)


@admin.register(Watermark)
class WatermarkAdmin(admin.ModelAdmin):
    """How far the periodic jobs that read messages have got (stance evolution), for inspection."""

    list_display = ("name", "position", "updated_at")
    readonly_fields = ("name", "position", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

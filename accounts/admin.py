"""Admin for API tokens (the key is shown once, in a message) and users (superusers only by superusers)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import ApiToken
from accounts.services import api_token_create


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be created, renamed, given an expiry and revoked (deleted); keys are never stored."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at")
    list_filter = ("user",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    autocomplete_fields = ("user",)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = api_token_create(user=obj.user, name=obj.name, expires_at=obj.expires_at)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = token.pk, token.prefix, token.key_hash, token.created_at
        messages.warning(request, f"API key for “{token.name}”: {key} — copy it now, it will not be shown again.")


class UserAdmin(DjangoUserAdmin):
    """Django's user admin, where only a superuser may change or delete a superuser or grant staff/superuser."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if getattr(request.user, "is_superuser", False):
            return fields
        return (*fields, "is_staff", "is_superuser", "user_permissions")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and _may_write(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # The bulk action checks the permission without an object: superusers are left out of it.
        if not getattr(request.user, "is_superuser", False):
            queryset = queryset.filter(is_superuser=False)
        super().delete_queryset(request, queryset)


def _may_write(request: HttpRequest, obj: User | None) -> bool:
    return obj is None or not obj.is_superuser or bool(getattr(request.user, "is_superuser", False))


admin.site.unregister(User)
admin.site.register(User, UserAdmin)

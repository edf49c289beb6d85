"""Accounts API shapes: login, the current user, API tokens and users."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from accounts.models import ApiToken
from accounts.roles import Role, user_role


class LoginSerializer(serializers.Serializer[Any]):
    """Username and password for a session login."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, write_only=True, style={"input_type": "password"})


class MeSerializer(serializers.Serializer[Any]):
    """The authenticated user, their role and permissions."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    role = serializers.SerializerMethodField()
    is_superuser = serializers.BooleanField(read_only=True)
    permissions = serializers.SerializerMethodField()

    def get_role(self, user: User) -> str | None:
        role = user_role(user)
        return role.value if role else None

    def get_permissions(self, user: User) -> list[str]:
        return sorted(user.get_all_permissions())


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    """A token as listed: its prefix identifies it, the key itself is never stored."""

    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = ("id", "name", "prefix", "created_at", "last_used_at", "expires_at")
        read_only_fields = ("prefix", "created_at", "last_used_at")


class NewApiTokenSerializer(ApiTokenSerializer):
    """A token just created, with its key (shown this once)."""

    key = serializers.CharField(read_only=True, help_text="The API key: copy it now, it cannot be shown again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")


class UserSerializer(serializers.ModelSerializer[User]):
    """A user and their role; the password is write-only (empty = API tokens only)."""

    role = serializers.ChoiceField(choices=[role.value for role in Role], allow_null=True, required=False)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=4096)

    class Meta:
        model = get_user_model()
        fields = ("id", "username", "email", "is_active", "role", "password", "date_joined", "last_login")
        read_only_fields = ("date_joined", "last_login")

    def to_representation(self, instance: User) -> dict[str, Any]:
        data = super().to_representation(instance)
        role = user_role(instance)
        data["role"] = role.value if role else None
        return data

    def validate_password(self, value: str) -> str:
        if value:
            validate_password(value, self.instance)
        return value

    def validate_role(self, value: str | None) -> Role | None:
        return Role(value) if value else None

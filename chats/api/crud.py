"""Chats API: chats (+ pause/resume), their memberships, and messages (read-only, filterable)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import CHANGE_SETTING
from chats.models import Chat, Membership, Message
from chats.services import (
    chat_create,
    chat_set_enabled,
    chat_update,
    membership_add,
    membership_update,
)
from engine.services.capabilities import chat_enable


class ChatSerializer(serializers.ModelSerializer[Chat]):
    """A chat; sandbox chats get a local telegram_chat_id when none is given. `discovered_at` is set while a group
    a bot was added to waits for an operator's `enable`; `bots` names who is in it. `settings_overrides` holds the
    runtime settings the chat sets for itself (setting → value; a key left out or null uses the global value)."""

    is_discovered = serializers.BooleanField(read_only=True)
    bots = serializers.SerializerMethodField()

    class Meta:
        model = Chat
        fields = (
            "id", "transport", "telegram_chat_id", "title", "is_enabled", "topics", "language", "timezone",
            "cadence", "settings_overrides", "telegram_type", "is_forum", "forum_threads", "is_discovered",
            "discovered_at", "quiet_until", "bots", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = ("telegram_type", "is_forum", "discovered_at", "created_at", "updated_at")
        validators: list[Any] = []  # the service's full_clean checks uniqueness and transport rules

    def validate_settings_overrides(self, value: Any) -> Any:
        """Runtime settings are admins' (`engine.change_setting`), a chat's own as much as the global ones; a null
        value is the global one (left out). The schema checked the value already (the model field's validator)."""
        value = {key: setting for key, setting in value.items() if setting is not None}
        request = self.context.get("request")
        current = self.instance.settings_overrides if isinstance(self.instance, Chat) else {}
        if value != current and request is not None and not request.user.has_perm(CHANGE_SETTING):
            raise PermissionDenied("settings_overrides: changing a chat's runtime settings needs engine.change_setting")
        return value

    def get_bots(self, chat: Chat) -> list[str]:
        """The bots in the chat, by @handle or name (prefetched by the view)."""
        return [f"@{bot.username}" if bot.username else bot.name for bot in chat.bots.all()]


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    """A bot in a chat; `disabled_reason` says why the engine disabled it, `paused_reason` why Telegram keeps it from
    posting (paused until Telegram lets it again)."""

    bot_name = serializers.CharField(source="bot.name", read_only=True)
    is_paused = serializers.BooleanField(read_only=True)

    class Meta:
        model = Membership
        fields = (
            "id", "chat", "bot", "bot_name", "is_enabled", "talkativeness", "disabled_reason", "is_paused",
            "paused_at", "paused_reason", "created_at",
        )  # fmt: skip
        read_only_fields = ("chat", "disabled_reason", "paused_at", "paused_reason", "created_at")
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["bot"].read_only = True  # a membership moves to another bot by deleting it
        return fields


class MessageSerializer(serializers.ModelSerializer[Message]):
    """A message from a bot (bot set) or a member (sender fields set)."""

    speaker = serializers.CharField(source="speaker_label", read_only=True)

    class Meta:
        model = Message
        fields = (
            "id", "chat", "bot", "speaker", "sender_user_id", "sender_username", "sender_name", "sender_is_bot",
            "text", "telegram_message_id", "reply_to", "thread_id", "metadata", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class MessageFilter(django_filters.FilterSet):
    """?chat=&bot=&since=&until= (ISO times)."""

    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gt")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    from_member = django_filters.BooleanFilter(field_name="bot", lookup_expr="isnull", label="Sent by a member")

    class Meta:
        model = Message
        fields = ("chat", "bot")


class ChatFilter(django_filters.FilterSet):
    """?transport=&is_enabled=&language=&discovered=true (groups waiting for an operator's enable)."""

    discovered = django_filters.BooleanFilter(field_name="discovered_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Chat
        fields = ("transport", "is_enabled", "language")


class ChatViewSet(viewsets.ModelViewSet[Chat]):
    """Chats; pause/resume switch proactive turns off and on."""

    queryset = Chat.objects.prefetch_related("bots")
    serializer_class = ChatSerializer
    filterset_class = ChatFilter
    action_permissions = {
        "pause": ["chats.change_chat"],
        "resume": ["chats.change_chat"],
        "enable": ["chats.change_chat"],
    }

    def perform_create(self, serializer: serializers.BaseSerializer[Chat]) -> None:
        serializer.instance = chat_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Chat]) -> None:
        assert serializer.instance is not None
        serializer.instance = chat_update(chat=serializer.instance, **serializer.validated_data)

    @extend_schema(request=None, responses=ChatSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """No proactive turns in this chat until resumed (members still get replies)."""
        return Response(self.get_serializer(chat_set_enabled(chat=self.get_object(), enabled=False)).data)

    @extend_schema(request=None, responses=ChatSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """Resume proactive turns in this chat."""
        return Response(self.get_serializer(chat_set_enabled(chat=self.get_object(), enabled=True)).data)

    @extend_schema(request=None, responses=ChatSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: str) -> Response:
        """Take a discovered group into the crowd: enabled, its messages reach the engine from now on."""
        return Response(self.get_serializer(chat_enable(chat=self.get_object())).data)


CHAT_PK = OpenApiParameter("chat_pk", int, OpenApiParameter.PATH, description="The chat's id.")


@extend_schema_view(
    **{
        name: extend_schema(parameters=[CHAT_PK])
        for name in ("list", "create", "retrieve", "update", "partial_update", "destroy")
    }
)
class MembershipViewSet(viewsets.ModelViewSet[Membership]):
    """The bots of a chat, nested under /api/chats/<chat_pk>/memberships/."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.select_related("bot")
    filterset_fields = ("is_enabled", "bot")  # paused ones: see is_paused and paused_reason

    def get_queryset(self) -> QuerySet[Membership]:
        # chat__pk, not chat_id: a pk lookup treats an id beyond 64 bits as "no match" instead of overflowing.
        return super().get_queryset().filter(chat__pk=self.kwargs.get("chat_pk", 0))

    def perform_create(self, serializer: serializers.BaseSerializer[Membership]) -> None:
        chat = get_object_or_404(Chat, pk=self.kwargs["chat_pk"])
        serializer.instance = membership_add(chat=chat, **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Membership]) -> None:
        assert serializer.instance is not None
        serializer.instance = membership_update(membership=serializer.instance, **serializer.validated_data)


class MessageViewSet(viewsets.ReadOnlyModelViewSet[Message]):
    """Messages, oldest first; poll new ones with ?chat=<id>&since=<created_at of the last one, minus a few s>.

    The overlap matters: a message can commit a moment after a later-created one, so pollers keep a few
    seconds of overlap and drop the ids they already have (the live chat view does).
    """

    queryset = Message.objects.select_related("bot")
    serializer_class = MessageSerializer
    filterset_class = MessageFilter

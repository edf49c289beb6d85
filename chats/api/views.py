"""Chats API: an operator posts into a sandbox chat as a named member, through the Telegram ingestion path."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chats.api.serializers import MemberPostResultSerializer, MemberPostSerializer
from chats.models import Chat, Message
from engine.services.ingestion import sandbox_member_post


class MemberPostView(APIView):
    """POST /api/chats/<chat_id>/messages/: write as a member; a mentioned or replied-to bot answers threaded."""

    required_permissions = {"POST": ["chats.add_message"]}

    @extend_schema(request=MemberPostSerializer, responses={201: MemberPostResultSerializer})
    def post(self, request: Request, chat_id: int) -> Response:
        chat = get_object_or_404(Chat, pk=chat_id)
        if not chat.is_sandbox:
            raise serializers.ValidationError({"chat": ["Only sandbox chats accept posts from the operator."]})
        serializer = MemberPostSerializer(data=request.data, context={"chat": chat})
        serializer.is_valid(raise_exception=True)
        result = sandbox_member_post(chat=chat, **serializer.validated_data)
        stored = Message.objects.filter(pk=result.message_id or 0)
        telegram_id = stored.values_list("telegram_message_id", flat=True).first()
        payload = {
            "message_id": result.message_id,
            "telegram_message_id": telegram_id,
            "turn_id": result.turn_id,
            "outcome": result.outcome,
        }
        return Response(MemberPostResultSerializer(payload).data, status=status.HTTP_201_CREATED)

"""Engine API: a chat's conversation-quality figures over a window (GET /api/chats/<chat_id>/quality/)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chats.models import Chat
from config.openapi import VALIDATION_ERROR
from engine.quality.report import Band
from engine.quality.selectors import quality_report


class QualityWindowSerializer(serializers.Serializer[None]):
    """The window: [since, until), the last hour by default."""

    since = serializers.DateTimeField(required=False, help_text="Start (default: an hour before until).")
    until = serializers.DateTimeField(required=False, help_text="End (default: now).")


class FigureSerializer(serializers.Serializer[None]):
    """One figure: its value (null when the window has nothing to measure), band, target and definition."""

    key = serializers.CharField()
    title = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    display = serializers.CharField(help_text="The value as the dashboard shows it.")
    unit = serializers.ChoiceField(choices=["ratio", "count", "seconds", "score"])
    band = serializers.ChoiceField(choices=[band.value for band in Band])
    target = serializers.CharField(help_text="The green band's bound; empty for a figure without a target.")
    detail = serializers.CharField(help_text="What the value was computed from.")
    definition = serializers.CharField()


class QualityReportSerializer(serializers.Serializer[dict[str, Any]]):
    """Every figure of docs/quality.md for one chat's window."""

    chat = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    bot_messages = serializers.IntegerField()
    member_messages = serializers.IntegerField()
    figures = FigureSerializer(many=True)


class ChatQualityView(APIView):
    """GET /api/chats/<chat_id>/quality/?since=&until=: the chat's quality figures (read like its messages)."""

    required_permissions = {"GET": ["chats.view_message"]}

    @extend_schema(
        parameters=[QualityWindowSerializer], responses={200: QualityReportSerializer, 400: VALIDATION_ERROR}
    )
    def get(self, request: Request, chat_id: int) -> Response:
        chat = get_object_or_404(Chat, pk=chat_id)
        window = QualityWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        try:
            report = quality_report(chat_ids=[chat.pk], **window.validated_data)
        except ValueError as error:
            raise serializers.ValidationError({"since": [str(error)]}) from None
        return Response(QualityReportSerializer(report.as_dict()).data)

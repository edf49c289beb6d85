"""Crowd portability API: GET /api/crowd/export/ (the document), POST /api/crowd/import/?dry_run= (all or nothing)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from engine.portability import CHANGE_SETTING, EXPORT_PERMISSIONS, IMPORT_PERMISSIONS
from engine.portability.exporting import crowd_export
from engine.portability.importing import CrowdImportError, crowd_import

DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "A crowd document as GET /api/crowd/export/ returns it: bots (persona, emotion, speed, active hours,"
        " stances, holdings, memories), chats with memberships (each naming its bot by username, or by position in"
        " bots) and runtime settings by key. Never a token."
    ),
    "required": ["format", "version"],
    "properties": {
        "format": {"type": "string", "enum": ["piyasa-crowd"]},
        "version": {"type": "integer", "enum": [1]},
        "exported_at": {"type": "string", "format": "date-time", "nullable": True},
        "bots": {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
        "chats": {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
        "settings": {"type": "object", "additionalProperties": {}},
    },
}
IMPORT_ERROR = OpenApiResponse(
    {"type": "object", "properties": {"errors": {"type": "array", "items": {"type": "string"}}}},
    description='Nothing was imported; each error names its item and field (`bots["kemal_bot"].persona.tone: …`).',
)


class ImportQuerySerializer(serializers.Serializer[None]):
    """?dry_run=true validates and reports without writing."""

    dry_run = serializers.BooleanField(required=False, default=False, help_text="Report only; write nothing.")


class BotOutcomeSerializer(serializers.Serializer[None]):
    """A bot of the document and what the import does with it."""

    bot = serializers.CharField(help_text="@username, or the name and position of a bot without one.")
    outcome = serializers.ChoiceField(choices=["created", "updated"])


class ChatOutcomeSerializer(serializers.Serializer[None]):
    """A chat of the document and what the import does with it."""

    chat = serializers.CharField()
    telegram_chat_id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "updated"])


class CountsSerializer(serializers.Serializer[None]):
    """Memberships created and updated."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class SettingsOutcomeSerializer(serializers.Serializer[None]):
    """Settings whose value differs; `applied` is false when the caller's role may not change settings."""

    changed = serializers.ListField(child=serializers.CharField())
    applied = serializers.BooleanField()


class ImportReportSerializer(serializers.Serializer[None]):
    """What the import did (or, in a dry run, would do)."""

    dry_run = serializers.BooleanField()
    bots = BotOutcomeSerializer(many=True)
    chats = ChatOutcomeSerializer(many=True)
    memberships = CountsSerializer()
    settings = SettingsOutcomeSerializer()


class CrowdExportView(APIView):
    """The whole crowd as one versioned JSON document (viewer and up); tokens are never in it."""

    required_permissions = {"GET": list(EXPORT_PERMISSIONS)}

    @extend_schema(responses={200: OpenApiResponse(DOCUMENT_SCHEMA, description="The crowd document.")})
    def get(self, request: Request) -> Response:
        return Response(crowd_export())


class CrowdImportView(APIView):
    """Import a crowd document: validated first, applied all or nothing (operator; settings only for admins)."""

    required_permissions = {"POST": list(IMPORT_PERMISSIONS)}
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[ImportQuerySerializer],
        request={"application/json": DOCUMENT_SCHEMA},
        responses={200: ImportReportSerializer, 400: IMPORT_ERROR},
    )
    def post(self, request: Request) -> Response:
        query = ImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        apply_settings = request.user.has_perm(CHANGE_SETTING)
        try:
            result = crowd_import(
                data=request.data, dry_run=query.validated_data["dry_run"], apply_settings=apply_settings
            )
        except CrowdImportError as error:
            return Response({"errors": error.errors}, status=400)
        return Response(result.as_dict())

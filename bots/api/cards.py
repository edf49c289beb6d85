"""POST /api/bots/cards/: a SillyTavern character card (file upload) as a persona draft, saved as a bot on request."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bots.cards import CardError, card_draft
from bots.importing import error_lines
from bots.services import bot_create

MAX_CARD_BYTES = 5 * 1024 * 1024


class CardUploadSerializer(serializers.Serializer[None]):
    """The card file and whether to create the bot now."""

    file = serializers.FileField(help_text="A V1/V2 card as JSON, or a PNG with the card in its 'chara' chunk.")
    save_bot = serializers.BooleanField(required=False, default=False, help_text="Create the bot (without a token).")
    username = serializers.CharField(required=False, max_length=64, help_text="Instead of the suggested one.")


class CardDraftSerializer(serializers.Serializer[None]):
    """The persona draft; `bot` is the new bot's id when it was saved."""

    name = serializers.CharField()
    username = serializers.CharField()
    persona = serializers.JSONField()
    emotion = serializers.JSONField()
    spec = serializers.CharField(help_text="chara_card_v1, chara_card_v2 or chara_card_v3.")
    notes = serializers.ListField(child=serializers.CharField(), help_text="Card fields the persona leaves out.")
    bot = serializers.IntegerField(allow_null=True)


class CardImportView(APIView):
    """Draft a persona from a character card for review; with save_bot=true, create the bot (operator)."""

    required_permissions = {"POST": ["bots.add_bot"]}
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": CardUploadSerializer},
        responses={
            200: CardDraftSerializer,
            400: OpenApiResponse(description="Not a card we can read, or the bot cannot be created: `errors`."),
        },
    )
    def post(self, request: Request) -> Response:
        upload = CardUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file: Any = upload.validated_data["file"]
        if file.size > MAX_CARD_BYTES:
            return Response({"errors": [f"file: larger than {MAX_CARD_BYTES // 1024 // 1024} MB"]}, status=400)
        try:
            draft = card_draft(file.read())
        except CardError as error:
            return Response({"errors": [str(error)]}, status=400)
        fields = draft.bot_fields() | {"username": upload.validated_data.get("username", draft.username)}
        bot_id = None
        if upload.validated_data["save_bot"]:
            try:
                bot_id = bot_create(**fields).pk
            except ValidationError as error:
                return Response({"errors": error_lines(error)}, status=400)
        return Response(draft.as_dict() | fields | {"bot": bot_id})

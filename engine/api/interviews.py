"""Engine API for operators' LLM tools: interview a bot (/api/bots/<bot_id>/interviews/) and draft personas
(/api/personas/generate/; drafts are saved with the bots endpoints after review)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bots.models import Bot, Interview
from config.openapi import ErrorSerializer
from engine.services.interview import QUESTION_MAX, interview_ask
from engine.services.operator_calls import OperatorCallError
from engine.services.personas import MAX_COUNT, PersonaDraftsInvalid, personas_draft

REFUSED = {
    "422": OpenApiResponse(ErrorSerializer, "The model's answer failed the checks, even after one repair call."),
    "413": OpenApiResponse(ErrorSerializer, "The request alone is larger than the LLM budget's minute allowance."),
    "429": OpenApiResponse(ErrorSerializer, "The LLM budget is used up for now: wait Retry-After seconds."),
    "503": OpenApiResponse(ErrorSerializer, "The LLM provider is unavailable (try again later)."),
}
BOT_ID = OpenApiParameter("bot_id", int, OpenApiParameter.PATH, description="The bot's id.")


class InterviewSerializer(serializers.ModelSerializer[Interview]):
    """One interview: the question, the bot's private answer and the LLM call's accounting."""

    asked_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Interview
        fields = ("id", "bot", "question", "answer", "provider", "model", "tokens_in", "tokens_out", "cost_usd",
                  "asked_by", "created_at")  # fmt: skip
        read_only_fields = fields


class QuestionSerializer(serializers.Serializer[None]):
    """The operator's question to the bot."""

    question = serializers.CharField(max_length=QUESTION_MAX, help_text="Asked privately; nothing is posted.")


def refused(error: OperatorCallError) -> Response:
    """The error of a refused operator call, with Retry-After when waiting helps."""
    headers = {"Retry-After": str(max(1, round(error.retry_after)))} if error.retry_after else None
    body: dict[str, Any] = {"detail": str(error)}
    if isinstance(error, PersonaDraftsInvalid):
        body["errors"] = error.errors
    return Response(body, status=error.status, headers=headers)


class BotInterviewsView(generics.ListCreateAPIView[Interview]):
    """GET: the bot's past interviews, newest first. POST: ask it a question; it answers in private (never posted
    to a chat), the answer is screened like chat output and logged, the call counted in the LLM budget."""

    serializer_class = InterviewSerializer
    queryset = Interview.objects.none()  # the schema's model; requests read get_queryset()
    required_permissions = {"GET": ["bots.view_bot"], "POST": ["bots.change_bot"]}

    def get_queryset(self) -> QuerySet[Interview]:
        return Interview.objects.filter(bot__pk=self.kwargs["bot_id"]).select_related("asked_by")

    @extend_schema(parameters=[BOT_ID])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        get_object_or_404(Bot, pk=kwargs["bot_id"])
        return super().get(request, *args, **kwargs)

    @extend_schema(parameters=[BOT_ID], request=QuestionSerializer, responses={201: InterviewSerializer, **REFUSED})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        bot = get_object_or_404(Bot, pk=kwargs["bot_id"])
        asked = QuestionSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            interview = interview_ask(bot=bot, question=asked.validated_data["question"], asked_by=request.user)
        except OperatorCallError as error:
            return refused(error)
        return Response(InterviewSerializer(interview).data, status=status.HTTP_201_CREATED)


class BriefSerializer(serializers.Serializer[None]):
    """What to draft: the brief (who the personas are), how many, in which language."""

    brief = serializers.CharField(max_length=2000, help_text='e.g. "a crypto-heavy group: a retired banker, …"')
    count = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, default=5)
    language = serializers.ChoiceField(choices=["tr", "en"], default="tr")


class PersonaDraftsSerializer(serializers.Serializer[Any]):
    """Drafts that pass the schemas, for review: save each with POST /api/bots/ and its nested endpoints."""

    drafts = serializers.ListField(
        child=serializers.JSONField(), help_text="name, username, persona, emotion, speed, stances, holdings, memories"
    )
    provider = serializers.CharField()
    model = serializers.CharField()
    repaired = serializers.BooleanField(help_text="The first output was invalid and was repaired by a second call.")
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()


class PersonaGenerateView(APIView):
    """POST: draft complete personas for a brief; nothing is saved (review, then create them as bots)."""

    required_permissions = {"POST": ["bots.add_bot"]}

    @extend_schema(request=BriefSerializer, responses={200: PersonaDraftsSerializer, **REFUSED})
    def post(self, request: Request) -> Response:
        brief = BriefSerializer(data=request.data)
        brief.is_valid(raise_exception=True)
        try:
            drafts = personas_draft(**brief.validated_data)
        except OperatorCallError as error:
            return refused(error)
        return Response(PersonaDraftsSerializer(drafts).data)

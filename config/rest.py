"""REST API plumbing shared by every app: pagination and JSON errors (the parser: config.parsers)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=`; 50 per page by default, at most 500; a limit or offset that is not a number is a 400."""

    default_limit = 50
    max_limit = 500

    def get_limit(self, request: Request) -> int:
        # DRF silently falls back to the default for a malformed value; a client that typed one should know.
        return min(_query_int(request, self.limit_query_param, minimum=1, default=self.default_limit), self.max_limit)

    def get_offset(self, request: Request) -> int:
        return _query_int(request, self.offset_query_param, minimum=0, default=0)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        minimum = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimum[parameter["name"]]
        return parameters


def _query_int(request: Request, name: str, *, minimum: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValidationError({name: [f"Must be an integer of at least {minimum}."]})
    return value


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Every error as JSON: validation errors keyed by field, everything else as {"detail": message}."""
    if isinstance(exc, DjangoValidationError):
        # Raised by services (model full_clean, runtime settings): same shape as a serializer's errors.
        exc = ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE; it is the client's error, not ours.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"Request body too large: at most {limit} bytes."
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, IntegrityError):
        set_rollback()
        return Response({"detail": "This conflicts with an existing record."}, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(exc, context)
    if response is None:
        set_rollback()
        logger.exception("API error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: JSON under /api/ (a URL no route matches, e.g. a malformed id), Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/ (an error outside a DRF view), Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)

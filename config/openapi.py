"""OpenAPI generation: every operation documents the errors it can answer with, in the JSON shapes of config.rest."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
WITH_BODY = ("POST", "PUT", "PATCH")


class ErrorSerializer(serializers.Serializer[Any]):
    """Any error but a validation error: what went wrong, in one sentence."""

    detail = serializers.CharField()


# Validation errors are keyed by field (or setting key); values are lists of messages, or nested objects
# for nested fields. A malformed body is {"detail": "..."}, which this shape also allows.
VALIDATION_ERROR = OpenApiResponse(
    {"type": "object", "additionalProperties": {}, "description": "Messages keyed by field, naming the field."},
    description="Invalid input: errors keyed by the field (or setting) they concern.",
)
DESCRIPTIONS = {
    "401": "Not authenticated, or an invalid API key.",
    "403": "The caller's role does not allow this (or a session write without the CSRF token).",
    "404": "No such object.",
    "406": "No acceptable response format (the API answers JSON).",
    "409": "Conflicts with an existing record.",
    "415": "Unsupported body format (send JSON).",
    "429": "Too many requests: wait Retry-After seconds.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the error responses each operation can give."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if code not in responses:
                body = VALIDATION_ERROR if code == "400" else OpenApiResponse(ErrorSerializer, DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(body, code, direction=direction)
        return responses

    def error_codes(self) -> list[str]:
        """The error statuses this operation can answer with."""
        codes = ["401", "406"]  # every view authenticates (a wrong key is a 401) and negotiates the format
        public = all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if not public or self.method in UNSAFE_METHODS:
            codes.append("403")
        if self.method in WITH_BODY or self._get_filter_parameters() or self._get_pagination_parameters():
            codes.append("400")
        if self.method in WITH_BODY:
            codes.append("415")
        if "{" in self.path:
            codes.append("404")
        if self.method in UNSAFE_METHODS:
            codes.append("409")
        if self.view.get_throttles():
            codes.append("429")
        return codes

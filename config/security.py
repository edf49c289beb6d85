"""Content-Security-Policy: same-origin scripts and styles only, on every response that does not set its own."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template

CSP_HEADER = "Content-Security-Policy"


def csp_header(policy: dict[str, tuple[str, ...]]) -> str:
    """The header value of a {directive: sources} policy."""
    return "; ".join(" ".join((directive, *sources)) for directive, sources in policy.items())


def inline_style_hashes(template_name: str) -> tuple[str, ...]:
    """CSP sources allowing exactly the <style> blocks of a third-party template we cannot edit."""
    source = get_template(template_name).template.source  # type: ignore[attr-defined]
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return tuple(f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'" for block in blocks)


class ContentSecurityPolicyMiddleware:
    """Adds settings.CONTENT_SECURITY_POLICY unless the view set a policy of its own (the API docs pages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = csp_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(CSP_HEADER, self.header)
        return response

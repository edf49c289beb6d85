"""Plumbing shared by the groq and openai SDK providers (their APIs and error classes are twins)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from engine.clients.llm.base import (
    LlmError,
    LlmPermanentError,
    LlmRateLimited,
    LlmRequest,
    LlmResponse,
    LlmTransientError,
    estimate_prompt_tokens,
    estimate_tokens,
    parse_rate_limits,
    parse_retry_after,
)

# Statuses where the same request may succeed later (498: Groq flex tier over capacity).
TRANSIENT_STATUSES = frozenset({408, 409, 425, 498})
DEFAULT_RATE_LIMIT_WAIT_S = 1.0


class SdkErrors(NamedTuple):
    """One SDK's exception classes, most specific first where they nest."""

    status: type[Exception]
    timeout: type[Exception]
    connection: type[Exception]
    base: type[Exception]


def chat_kwargs(request: LlmRequest, model: str) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create`."""
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [dict(message) for message in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    }
    if request.seed is not None:
        kwargs["seed"] = request.seed
    return kwargs


def status_error(status: int, headers: Mapping[str, str], message: str) -> LlmError:
    """Our error for an HTTP error status."""
    retry_after = parse_retry_after(headers)
    if status == 429:
        if retry_after is None:
            limits = parse_rate_limits(headers)
            resets = [r for r in (limits.reset_requests_s, limits.reset_tokens_s) if r] if limits else []
            retry_after = max(resets, default=DEFAULT_RATE_LIMIT_WAIT_S)
        return LlmRateLimited(f"rate limited: {message}", retry_after=retry_after)
    if status >= 500 or status in TRANSIENT_STATUSES:
        return LlmTransientError(f"server error {status}: {message}", retry_after=retry_after)
    return LlmPermanentError(f"request rejected {status}: {message}")


def translate_error(error: Exception, errors: SdkErrors) -> LlmError:
    """Map an SDK exception to our error types."""
    if isinstance(error, errors.status):
        response = error.response  # type: ignore[attr-defined]
        return status_error(response.status_code, response.headers, str(error))
    if isinstance(error, errors.timeout):
        return LlmTransientError("timed out")
    if isinstance(error, errors.connection):
        return LlmTransientError(f"connection failed: {error}")
    return LlmTransientError(f"unusable response: {error}")


def run_completion(call: Callable[[], Any], errors: SdkErrors, request: LlmRequest, provider: str) -> LlmResponse:
    """Run a raw-response SDK call and build an LlmResponse (or raise an LlmError)."""
    started = time.perf_counter()
    try:
        raw = call()
        completion = raw.parse()
    except errors.base as error:
        raise translate_error(error, errors) from error
    latency_ms = round((time.perf_counter() - started) * 1000)
    return build_response(completion, raw.headers, request, provider, latency_ms)


def build_response(
    completion: Any, headers: Mapping[str, str], request: LlmRequest, provider: str, latency_ms: int
) -> LlmResponse:
    """LlmResponse from a parsed chat.completion and its HTTP headers."""
    if not completion.choices:
        raise LlmTransientError("completion had no choices")
    text = (completion.choices[0].message.content or "").strip()
    usage = completion.usage
    return LlmResponse(
        text=text,
        model=completion.model or request.model,
        provider=provider,
        tokens_in=usage.prompt_tokens if usage else estimate_prompt_tokens(request.messages),
        tokens_out=usage.completion_tokens if usage else estimate_tokens(text),
        latency_ms=latency_ms,
        rate_limits=parse_rate_limits(headers),
    )

"""Plumbing shared by the groq and openai SDK providers (their APIs and error classes are twins)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import aiohttp
import httpx

from engine.clients import loops
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


def loop_client(options: dict[str, Any], build: Callable[[], Any]) -> Any:
    """The SDK's async client for `options` on this thread's event loop (its connections belong to the loop).

    Providers build it over aiohttp (the SDKs' `DefaultAioHttpClient`, their `aiohttp` extra), and one loop for a
    batch's calls replaces a thread for each (docs/decisions/013-llm-async-aiohttp.md).
    """
    return loops.loop_resource(tuple(sorted(options.items())), build, _close)


async def _close(client: Any) -> None:
    await client.close()


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
    refused = _refused_connection(error)
    if refused is not None:
        return LlmTransientError(f"connection failed: {refused}")
    if isinstance(error, errors.timeout):
        return LlmTransientError("timed out")
    if isinstance(error, errors.connection):
        return LlmTransientError(f"connection failed: {error}")
    return LlmTransientError(f"unusable response: {error}")


def _refused_connection(error: BaseException) -> BaseException | None:
    """aiohttp's error when no connection could be made (the SDKs' aiohttp transport reports it as httpx's
    connect timeout)."""
    cause = error.__cause__
    while cause is not None and not isinstance(cause, aiohttp.ClientConnectorError):
        cause = cause.__cause__
    return cause


async def run_completion(
    client: Any, path: str, errors: SdkErrors, request: LlmRequest, *, provider: str, model: str
) -> LlmResponse:
    """POST one chat completion through the SDK's client and build an LlmResponse (or raise an LlmError).

    The SDK's documented low-level `post(path, cast_to=httpx.Response)` keeps its HTTP client, auth, timeouts and
    error classes, but skips what `chat.completions.create` adds: a walk of the typed params and the response
    models, for the three fields read here (docs/decisions/014-llm-low-level-post.md).
    `client` is the SDK's async client (`loop_client`): a batch's calls are awaited together on one loop.
    """
    started = time.perf_counter()
    try:
        response = await client.post(path, cast_to=httpx.Response, body=chat_kwargs(request, model))
    except errors.base as error:
        raise translate_error(error, errors) from error
    latency_ms = round((time.perf_counter() - started) * 1000)
    try:
        completion = response.json()
    except ValueError as error:
        raise LlmTransientError(f"unusable response: {error}") from None
    return build_response(completion, response.headers, request, provider, latency_ms)


def build_response(
    completion: Any, headers: Mapping[str, str], request: LlmRequest, provider: str, latency_ms: int
) -> LlmResponse:
    """LlmResponse from a chat.completion's JSON and its HTTP headers."""
    choices = completion.get("choices") if isinstance(completion, dict) else None
    if not choices or not isinstance(choices, list):
        raise LlmTransientError("completion had no choices")
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if content is not None and not isinstance(content, str):
        raise LlmTransientError("unusable response: the message content is not text")
    text = (content or "").strip()
    usage = completion.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return LlmResponse(
        text=text,
        model=completion.get("model") or request.model,
        provider=provider,
        tokens_in=_count(usage.get("prompt_tokens"), lambda: estimate_prompt_tokens(request.messages)),
        tokens_out=_count(usage.get("completion_tokens"), lambda: estimate_tokens(text)),
        latency_ms=latency_ms,
        rate_limits=parse_rate_limits(headers),
        finish_reason=str(choices[0].get("finish_reason") or "stop"),
    )


def _count(value: Any, estimate: Callable[[], int]) -> int:
    """A token count the server reported, or our estimate when it did not."""
    return value if isinstance(value, int) and value >= 0 else estimate()

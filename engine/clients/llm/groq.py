"""Groq through the official `groq` SDK (which always calls `<base_url>/openai/v1/...`)."""

from __future__ import annotations

import groq
from django.conf import settings

from engine.clients.llm.base import LlmRequest, LlmResponse
from engine.clients.llm.sdk import SdkErrors, loop_client, run_completion

COMPLETIONS_PATH = "/openai/v1/chat/completions"  # chat.completions.create's path, relative to the client's base URL
GROQ_ERRORS = SdkErrors(groq.APIStatusError, groq.APITimeoutError, groq.APIConnectionError, groq.GroqError)


class GroqProvider:
    """Chat completions on Groq; never retries by itself (the caller reschedules the job)."""

    name = "groq"

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 30.0) -> None:
        self.default_model = model
        # max_retries=0: a retry is a rescheduled RQ job, never a sleep inside the worker.
        self._options = {"api_key": api_key, "base_url": base_url, "timeout": timeout_s, "max_retries": 0}

    @classmethod
    def from_settings(cls) -> GroqProvider:
        """Provider configured by GROQ_* and LLM_TIMEOUT_S."""
        return cls(
            api_key=settings.GROQ_API_KEY,
            model=settings.GROQ_MODEL,
            base_url=settings.GROQ_BASE_URL,
            timeout_s=settings.LLM_TIMEOUT_S,
        )

    def _client(self) -> groq.AsyncGroq:
        return groq.AsyncGroq(**self._options, http_client=groq.DefaultAioHttpClient())  # type: ignore[arg-type]

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One chat completion; the rate-limit headers come with it."""
        model = request.model or self.default_model
        client = loop_client({"sdk": "groq", **self._options}, self._client)
        return await run_completion(client, COMPLETIONS_PATH, GROQ_ERRORS, request, provider=self.name, model=model)

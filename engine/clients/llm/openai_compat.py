"""OpenAI-compatible servers (Ollama, vLLM, llama.cpp) through the `openai` SDK; they serve `/v1/...`."""

from __future__ import annotations

import openai
from django.conf import settings

from engine.clients.llm.base import LlmRequest, LlmResponse
from engine.clients.llm.sdk import SdkErrors, loop_client, run_completion

COMPLETIONS_PATH = "/chat/completions"  # chat.completions.create's path, relative to the client's base URL
OPENAI_ERRORS = SdkErrors(openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError, openai.OpenAIError)


class OpenAICompatProvider:
    """Chat completions on any server speaking the OpenAI API at `base_url` (ending in /v1)."""

    name = "openai_compat"

    def __init__(self, *, base_url: str, model: str, api_key: str = "not-needed", timeout_s: float = 30.0) -> None:
        self.default_model = model
        self._options = {"api_key": api_key, "base_url": base_url, "timeout": timeout_s, "max_retries": 0}

    @classmethod
    def from_settings(cls) -> OpenAICompatProvider:
        """Provider configured by OPENAI_COMPAT_* and LLM_TIMEOUT_S."""
        return cls(
            base_url=settings.OPENAI_COMPAT_BASE_URL,
            model=settings.OPENAI_COMPAT_MODEL,
            api_key=settings.OPENAI_COMPAT_API_KEY,
            timeout_s=settings.LLM_TIMEOUT_S,
        )

    def _client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(**self._options, http_client=openai.DefaultAioHttpClient())  # type: ignore[arg-type]

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """One chat completion."""
        model = request.model or self.default_model
        client = loop_client({"sdk": "openai", **self._options}, self._client)
        return await run_completion(client, COMPLETIONS_PATH, OPENAI_ERRORS, request, provider=self.name, model=model)

"""The client the engine calls: a provider guarded by its circuit breaker, chosen from settings."""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.module_loading import import_string

from engine.clients.llm.base import (
    LlmCircuitOpen,
    LlmError,
    LlmPermanentError,
    LlmProvider,
    LlmRateLimited,
    LlmRequest,
    LlmResponse,
    LlmTransientError,
)
from engine.clients.llm.breaker import CircuitBreaker
from engine.clients.llm.recording import provider_recorded
from engine.providers import ProviderSpec, provider_spec
from monitoring import metrics

BREAKER_FAILURE_THRESHOLD = 5
BREAKER_COOLDOWN_S = 30.0


class LlmClient:
    """Runs completions through the provider unless its circuit is open."""

    def __init__(self, provider: LlmProvider, breaker: CircuitBreaker | None = None) -> None:
        self.provider = provider
        self.breaker = breaker

    @property
    def spec(self) -> ProviderSpec:
        """What the provider is (engine.providers): whether the budget governs it, its breaker, its prices."""
        return provider_spec(self.provider.name)

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Complete the request; raises LlmCircuitOpen without calling the provider when open."""
        model = request.model or getattr(self.provider, "default_model", "") or self.provider.name
        started = time.perf_counter()
        try:
            response = await self._complete(request)
        except LlmError as error:
            seconds = None if isinstance(error, LlmCircuitOpen) else time.perf_counter() - started
            metrics.record_llm_request(self.provider.name, model, outcome=llm_outcome(error), seconds=seconds)
            raise
        metrics.record_llm_request(
            self.provider.name,
            response.model or model,
            outcome="ok",
            seconds=time.perf_counter() - started,
            tokens_in=response.tokens_in,
            tokens_out=response.tokens_out,
            cost_usd=float(response.cost_usd),
        )
        return response

    async def _complete(self, request: LlmRequest) -> LlmResponse:
        # The breaker's Redis round trips block the loop for a moment; they are short next to a completion.
        if self.breaker is None:
            return await self.provider.complete(request)
        tracked = self.breaker.before_call()
        try:
            response = await self.provider.complete(request)
        except (LlmRateLimited, LlmTransientError) as error:
            self.breaker.record_failure(error.retry_after)
            raise
        except LlmPermanentError:
            # The server answered (bad request, key or model): it is up, so the circuit stays closed.
            self.breaker.record_success()
            raise
        if tracked:
            self.breaker.record_success()
        return response


def llm_outcome(error: LlmError) -> str:
    """The metrics outcome of a failed request: circuit_open, rate_limited or error."""
    if isinstance(error, LlmCircuitOpen):
        return "circuit_open"
    return "rate_limited" if isinstance(error, LlmRateLimited) else "error"


def provider_from_settings() -> LlmProvider:
    """The provider named by settings.LLM_PROVIDER, built from its settings (engine.providers)."""
    provider: LlmProvider = import_string(provider_spec(settings.LLM_PROVIDER).provider).from_settings()
    return provider


def breaker_for(provider_name: str) -> CircuitBreaker:
    """The shared (Redis) circuit breaker of a provider."""
    from engine.redis import redis_connection  # django_rq needs configured settings at import time

    return CircuitBreaker(
        redis_connection(),
        provider_name,
        failure_threshold=BREAKER_FAILURE_THRESHOLD,
        cooldown_s=BREAKER_COOLDOWN_S,
        trial_timeout_s=settings.LLM_TIMEOUT_S + 5.0,
    )


def client_from_settings() -> LlmClient:
    """An LlmClient for the configured provider, behind a circuit breaker when its spec says so."""
    provider = provider_recorded(provider_from_settings())
    breaker = breaker_for(provider.name) if provider_spec(provider.name).breaker else None
    return LlmClient(provider, breaker)

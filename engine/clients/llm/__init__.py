"""The LLM boundary: one typed client over Groq, OpenAI-compatible servers and the offline provider."""

from __future__ import annotations

from engine.clients.llm.base import (
    ChatMessage,
    GenerationHints,
    HoldingHint,
    LlmCircuitOpen,
    LlmError,
    LlmPermanentError,
    LlmProvider,
    LlmRateLimited,
    LlmRequest,
    LlmResponse,
    LlmTransientError,
    RateLimitInfo,
    StanceHint,
    cost_usd,
    parse_duration,
    parse_rate_limits,
    parse_retry_after,
)
from engine.clients.llm.breaker import BreakerState, CircuitBreaker
from engine.clients.llm.client import LlmClient, breaker_for, client_from_settings, provider_from_settings
from engine.clients.llm.groq import GroqProvider
from engine.clients.llm.offline import OfflineProvider
from engine.clients.llm.openai_compat import OpenAICompatProvider

__all__ = [
    "BreakerState",
    "ChatMessage",
    "CircuitBreaker",
    "GenerationHints",
    "GroqProvider",
    "HoldingHint",
    "LlmCircuitOpen",
    "LlmClient",
    "LlmError",
    "LlmPermanentError",
    "LlmProvider",
    "LlmRateLimited",
    "LlmRequest",
    "LlmResponse",
    "LlmTransientError",
    "OfflineProvider",
    "OpenAICompatProvider",
    "RateLimitInfo",
    "StanceHint",
    "breaker_for",
    "client_from_settings",
    "cost_usd",
    "parse_duration",
    "parse_rate_limits",
    "parse_retry_after",
    "provider_from_settings",
]

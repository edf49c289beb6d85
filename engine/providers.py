"""LLM providers and what differs between them: one table that settings, metrics, preflight and generation read.

Plain data (no Django, no SDK imports), so `config.settings` can check LLM_PROVIDER against it and the metrics
module can bound its labels by it; the provider classes are named by import path and built by the LLM client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class ProviderSpec:
    """One LLM provider: how it is built and configured, whether it is rate-limited, what its models cost."""

    name: str  # the value of LLM_PROVIDER, and the `provider` label of the LLM metrics
    provider: str  # its class (engine.clients.llm), by import path; built with `from_settings()`
    governed: bool  # rate-limited: every call is reserved in the shared LLM budget first
    breaker: bool  # guarded by a circuit breaker shared through Redis
    required_settings: tuple[str, ...] = ()  # settings it cannot run without (start-up fails without them)
    model_setting: str | None = None  # the setting naming its default model (None: its own name)
    endpoint_setting: str | None = None  # the setting naming the server it calls (shown by preflight)
    prices: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # USD per million tokens in, out


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("offline", "engine.clients.llm.offline.OfflineProvider", governed=False, breaker=False),
        ProviderSpec(
            "groq",
            "engine.clients.llm.groq.GroqProvider",
            governed=True,
            breaker=True,
            required_settings=("GROQ_API_KEY",),
            model_setting="GROQ_MODEL",
            endpoint_setting="GROQ_BASE_URL",
            prices={
                "llama-3.3-70b-versatile": (Decimal("0.59"), Decimal("0.79")),
                "llama-3.1-8b-instant": (Decimal("0.05"), Decimal("0.08")),
            },
        ),
        ProviderSpec(
            "openai_compat",
            "engine.clients.llm.openai_compat.OpenAICompatProvider",
            governed=True,
            breaker=True,
            model_setting="OPENAI_COMPAT_MODEL",
            endpoint_setting="OPENAI_COMPAT_BASE_URL",
        ),
    )
}
# USD per million tokens (input, output) of every priced model; any other (local, offline) costs nothing.
PRICES_PER_MILLION: dict[str, tuple[Decimal, Decimal]] = {
    model: price for spec in PROVIDERS.values() for model, price in spec.prices.items()
}


def provider_spec(name: str) -> ProviderSpec:
    """The spec of a provider by its LLM_PROVIDER name; KeyError naming the known ones otherwise."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(f"unknown LLM provider {name!r}; known: {', '.join(PROVIDERS)}") from None

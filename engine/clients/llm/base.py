"""The LLM boundary: request/response types, typed errors, the provider protocol and the cost of a call."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, NamedTuple, Protocol, TypedDict

from engine.providers import PRICES_PER_MILLION

Polarity = Literal["bullish", "bearish", "neutral"]
# "interview": a private answer to the operator's `question`; "personas": persona drafts (JSON) for the brief.
Mode = Literal["new", "reply", "interview", "personas"]
LengthHint = Literal["short", "medium", "long"]
LanguageCode = Literal["tr", "en"]
SymbolView = Literal["symbol", "topic", "none"]  # a stance on the symbol asked about, only on its topic, or neither
# How a reply relates to its target: agree with it, disagree, ask back, or add a fact or a view (answers too).
Relation = Literal["agree", "disagree", "ask", "add"]


class ChatMessage(TypedDict):
    """One chat message as the chat-completions APIs take it."""

    role: str
    content: str


class StanceHint(NamedTuple):
    """A stance the message must keep: topic (name or symbol), polarity, the stance text."""

    topic: str
    polarity: Polarity
    text: str


class HoldingHint(NamedTuple):
    """A position the bot may mention."""

    symbol: str
    size: Decimal | float
    avg_price: Decimal | float


class EventHint(NamedTuple):
    """A fresh market event the message reacts to: what happened, its direction (up/down/mixed), 0..1 intensity."""

    text: str
    direction: str
    intensity: float


@dataclass(frozen=True)
class GenerationHints:
    """Structured facts the prompt was built from; the offline provider writes from these."""

    language: LanguageCode = "tr"
    persona_tone: str = "professional"
    emotion_tone: str = "calm"
    bot_name: str = ""
    mode: Mode = "new"
    reply_to_name: str | None = None
    reply_to_text: str | None = None
    topic: str | None = None
    symbol: str | None = None  # the symbol asked about (BIST:THYAO, XAUUSD); the message is about it
    view: SymbolView | None = None  # with a symbol: "none" = no stance on it or its topic (say so in character)
    relation: Relation | None = None
    stances: list[StanceHint] = field(default_factory=list)
    holdings: list[HoldingHint] = field(default_factory=list)
    length: LengthHint = "medium"
    emojis: bool = True
    signature_emoji: str | None = None
    signature_phrases: list[str] = field(default_factory=list)
    memories: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)  # the chat's latest messages, not to be echoed
    own: list[str] = field(default_factory=list)  # the bot's own recent messages, whose phrasing it does not reuse
    question: str | None = None  # interview: the operator's question; personas: the operator's brief
    count: int = 0  # personas: how many drafts are asked for
    event: EventHint | None = None  # a fresh market event: the message is the bot's take on it
    risk_profile: str = "medium"
    anecdotes: list[str] = field(default_factory=list)  # the persona's stories (a veteran recalls one on an event)


@dataclass(frozen=True)
class LlmRequest:
    """One chat completion request; an empty model means the provider's default model."""

    messages: list[ChatMessage]
    model: str = ""
    temperature: float = 0.8
    max_tokens: int = 256
    seed: int | None = None
    hints: GenerationHints | None = None


@dataclass(frozen=True)
class RateLimitInfo:
    """Groq's x-ratelimit-* headers (requests per day, tokens per minute); resets in seconds."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None


@dataclass(frozen=True)
class LlmResponse:
    """A completed generation with its accounting."""

    text: str
    model: str
    provider: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    rate_limits: RateLimitInfo | None = None
    finish_reason: str = "stop"  # "length": cut at max_tokens

    @property
    def cost_usd(self) -> Decimal:
        """Price of this call from the price table."""
        return cost_usd(self.model, self.tokens_in, self.tokens_out)


class LlmError(Exception):
    """Base of all LLM boundary errors; `retryable` says whether trying again later can help."""

    retryable = False

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LlmRateLimited(LlmError):
    """429: retry after `retry_after` seconds (reschedule the job, do not sleep)."""

    retryable = True
    retry_after: float

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retry_after)


class LlmTransientError(LlmError):
    """5xx, timeout or connection failure: a later retry may succeed."""

    retryable = True


class LlmPermanentError(LlmError):
    """400/401/403/404 and friends (bad key, unknown model, bad request): retrying cannot help."""


class LlmCircuitOpen(LlmError):
    """The provider's circuit breaker is open; no request was made."""

    retryable = True
    retry_after: float

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retry_after)


class LlmProvider(Protocol):
    """Anything that can complete a chat request."""

    name: str

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Run one completion or raise an LlmError."""
        ...


COST_QUANTUM = Decimal("0.00000001")  # Turn.cost_usd has 8 decimal places


def cost_usd(model: str, tokens_in: int, tokens_out: int) -> Decimal:
    """Cost of a call in USD from the providers' price tables (engine.providers); unknown models cost 0."""
    price_in, price_out = PRICES_PER_MILLION.get(model, (Decimal(0), Decimal(0)))
    total = (price_in * tokens_in + price_out * tokens_out) / Decimal(1_000_000)
    return total.quantize(COST_QUANTUM)


def estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters per token), at least 1 for non-empty text."""
    return (len(text) + 3) // 4


def estimate_prompt_tokens(messages: list[ChatMessage]) -> int:
    """Rough token count of a prompt (~4 characters per token)."""
    return estimate_tokens("".join(message["content"] for message in messages))


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: str | None) -> float | None:
    """Seconds from Groq's reset format ("2m59.56s", "7.66s", "120ms") or a bare number."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def parse_rate_limits(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """RateLimitInfo from response headers (case-insensitive mapping), or None when absent."""
    info = RateLimitInfo(
        limit_requests=_int_header(headers, "x-ratelimit-limit-requests"),
        remaining_requests=_int_header(headers, "x-ratelimit-remaining-requests"),
        limit_tokens=_int_header(headers, "x-ratelimit-limit-tokens"),
        remaining_tokens=_int_header(headers, "x-ratelimit-remaining-tokens"),
        reset_requests_s=parse_duration(headers.get("x-ratelimit-reset-requests")),
        reset_tokens_s=parse_duration(headers.get("x-ratelimit-reset-tokens")),
    )
    return None if info == RateLimitInfo() else info


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, `retry-after` (seconds or HTTP date), or None."""
    millis = parse_duration(headers.get("retry-after-ms"))
    if millis is not None:
        return max(millis / 1000.0, 0.0)
    raw = headers.get("retry-after")
    seconds = parse_duration(raw)
    if seconds is not None or not raw:
        return None if seconds is None else max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)

"""LLM calls an operator asks for (interviews, persona drafts): one at a time, off any chat, budgeted like turns."""

from __future__ import annotations

from engine.clients import loops
from engine.clients.llm import LlmClient, LlmError, LlmRateLimited, LlmRequest, LlmResponse
from engine.clients.llm.base import estimate_prompt_tokens
from engine.runtime_settings import RuntimeConfig
from engine.services import budget


class OperatorCallError(Exception):
    """The call could not be made or its answer not used; `status` is the HTTP status the API answers with."""

    status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BudgetRefused(OperatorCallError):
    """The shared LLM budget has no room now (no request was made); try again after `retry_after` seconds."""

    status = 429


class RequestTooLarge(OperatorCallError):
    """The request alone is larger than the LLM budget's minute allowance: it can never fit (no request was made)."""

    status = 413


class AnswerRejected(OperatorCallError):
    """The model's answer could not be used, even after one repair call."""

    status = 422


def complete_budgeted(request: LlmRequest, *, llm: LlmClient, config: RuntimeConfig) -> LlmResponse:
    """One completion, reserved in the shared LLM budget first when the provider is governed, then settled."""
    governed = llm.spec.governed
    estimate = estimate_prompt_tokens(request.messages) + request.max_tokens
    if governed:
        try:
            wait = budget.reserve(config.llm_budget, estimate)
        except budget.RequestTooLarge as error:
            raise RequestTooLarge(f"The LLM budget refuses it: {error}.") from error
        if wait > 0:
            raise BudgetRefused(f"The LLM budget is used up for now; try again in {wait:.0f} s.", retry_after=wait)
    try:
        response = loops.run(llm.complete(request))
    except LlmError as error:
        if governed:
            budget.correct_tokens(-estimate)  # reserved, never used
        if isinstance(error, LlmRateLimited):
            budget.rate_limited(error.retry_after)
        raise OperatorCallError(f"The LLM is unavailable: {error}", retry_after=error.retry_after) from error
    if governed:
        budget.correct_tokens(response.tokens_in + response.tokens_out - estimate)
        budget.obey_headers(response.rate_limits)
    return response

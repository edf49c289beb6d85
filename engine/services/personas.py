"""Persona generation: the LLM drafts complete personas for an operator's brief; nothing is saved until reviewed.

Every draft must pass the bots' schemas (`bots.drafts.BotDraft`); output that does not is sent back for one repair
call, then reported with each wrong field named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from bots.drafts import BotDraft, draft_document, draft_validate
from bots.schemas import EmotionTone, PersonaTone
from engine.clients.llm import LlmClient, LlmRequest, LlmResponse
from engine.clients.llm.base import ChatMessage, GenerationHints, LanguageCode
from engine.runtime_settings import RuntimeConfig
from engine.selectors import settings_all
from engine.services.operator_calls import AnswerRejected, complete_budgeted

MAX_COUNT = 10
TOKENS_PER_DRAFT = 700
FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
EXAMPLE = {
    "name": "Kemal Aydın",
    "username": "kemal_aydin",
    "persona": {
        "tone": "veteran",
        "risk_profile": "low",
        "watchlist": ["BTCUSDT", "BIST:THYAO"],
        "never_do": ["promise profits"],
        "style": {"emojis": False, "length": "medium"},
        "bio": "Retired banker, 30 years at a state bank.",
        "language": "tr",
    },
    "emotion": {"tone": "calm", "empathy": 0.6, "energy": "low", "signature_phrases": [], "anecdotes": []},
    "speed": {"base_delay_s": 30},
    "stances": [{"topic": "BTCUSDT", "stance": "…", "polarity": "bearish", "confidence": 0.7}],
    "holdings": [{"symbol": "BTCUSDT", "size": 0.1, "average_price": 61000, "note": ""}],
    "memories": [{"kind": "past_event", "content": "…", "relevance": 0.6}],
}


class PersonaDraftsInvalid(AnswerRejected):
    """The model's drafts did not pass the schemas, even after one repair call; `errors` name each wrong field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("The drafted personas are invalid: " + "; ".join(errors[:10]))
        self.errors = errors


@dataclass(frozen=True)
class PersonaDrafts:
    """Drafts that pass the schemas (JSON documents, for review), and how they were made."""

    drafts: list[dict[str, Any]]
    provider: str
    model: str
    repaired: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    responses: list[LlmResponse] = field(default_factory=list, repr=False)


def personas_draft(
    *, brief: str, count: int, language: str = "tr", llm: LlmClient | None = None, config: RuntimeConfig | None = None
) -> PersonaDrafts:
    """Draft `count` complete personas for the brief (one call, one repair call when the output is invalid)."""
    from engine.services.generation import llm_client  # the process's one client

    config, llm = config or settings_all(), llm or llm_client()
    count = max(1, min(count, MAX_COUNT))
    request = personas_request(brief, count, language)
    responses = [complete_budgeted(request, llm=llm, config=config)]
    drafts, errors = parse_drafts(responses[0].text, count)
    if errors:
        repair: list[ChatMessage] = [
            *request.messages,
            {"role": "assistant", "content": responses[0].text},
            {"role": "user", "content": repair_prompt(errors)},
        ]
        retry = LlmRequest(**{**request.__dict__, "messages": repair, "seed": (request.seed or 0) + 1})
        responses.append(complete_budgeted(retry, llm=llm, config=config))
        drafts, errors = parse_drafts(responses[-1].text, count)
        if errors:
            raise PersonaDraftsInvalid(errors)
    return PersonaDrafts(
        drafts=[draft_document(draft) for draft in drafts],
        provider=llm.provider.name,
        model=responses[-1].model,
        repaired=len(responses) > 1,
        tokens_in=sum(response.tokens_in for response in responses),
        tokens_out=sum(response.tokens_out for response in responses),
        responses=responses,
    )


def personas_request(brief: str, count: int, language: str) -> LlmRequest:
    """The drafting call: the JSON shape with its closed choices, the brief, the hints for the offline provider."""
    lang: LanguageCode = "en" if language == "en" else "tr"
    return LlmRequest(
        messages=[{"role": "system", "content": system_prompt(count, lang)}, {"role": "user", "content": brief}],
        temperature=0.9,
        max_tokens=TOKENS_PER_DRAFT * count,
        seed=count,
        hints=GenerationHints(language=lang, mode="personas", question=brief, count=count),
    )


def system_prompt(count: int, language: str) -> str:
    """What a draft must contain, with the allowed values, and that the answer is JSON only."""
    return "\n".join(
        [
            f"You design {count} distinct personas for bots in a Telegram chat about markets (BIST, FX, crypto, "
            "macro), following the operator's brief. Each gets a name, a personality, stances, a small fictional "
            f"portfolio and memories, written in {'English' if language == 'en' else 'Turkish'}.",
            'Answer with JSON only, no Markdown: {"personas": [ ... ]}, each persona shaped like this example:',
            json.dumps(EXAMPLE, ensure_ascii=False),
            f"persona.tone is one of {', '.join(PersonaTone)}; emotion.tone one of {', '.join(EmotionTone)}; "
            "risk_profile and energy low|medium|high; style.length short|medium|long; polarity bullish|bearish|"
            "neutral; memory kind personal_fact|past_event|relationship|preference|routine; confidence, empathy "
            "and relevance between 0 and 1. Symbols like BIST:THYAO, USDTRY, XAUUSD, BTCUSDT; one stance per topic.",
            "No stance or memory tells anyone to buy or sell or promises profits.",
        ]
    )


def repair_prompt(errors: list[str]) -> str:
    """The follow-up asking for corrected JSON, naming what was wrong."""
    return "That JSON is not valid: " + "; ".join(errors[:20]) + ". Answer again with the corrected JSON only."


def parse_drafts(text: str, count: int) -> tuple[list[BotDraft], list[str]]:
    """The drafts in a model's output and the problems found (each naming its persona and field)."""
    try:
        document = json.loads(_json_part(text))
    except ValueError as error:
        return [], [f"not JSON ({error})"]
    items = document.get("personas") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items:
        return [], ['expected {"personas": [ ... ]} with at least one persona']
    drafts, errors = [], []
    for index, item in enumerate(items[:count]):
        try:
            drafts.append(draft_validate(item, field=f"personas[{index}]"))
        except ValidationError as error:
            errors += error.messages
    if len(items) < count:
        errors.append(f"asked for {count} personas, got {len(items)}")
    return drafts, errors


def _json_part(text: str) -> str:
    """The JSON of an answer: inside a Markdown fence when there is one, else from the first brace or bracket."""
    fenced = FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    return text[min(starts) :] if starts else text

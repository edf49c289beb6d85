"""A corpus of realistic model outputs (Llama, Qwen, DeepSeek-R1 on Groq), Turkish and English, with what the
output checks must make of each: passed untouched, cleaned locally, repaired with one call, or skipped.

`engine/tests/test_llm_outputs.py` drives `engine.services.screening` over every entry; `FakeLlmServer(realistic=
True)` serves them (`RealisticReplies`) at the frequencies in `FREQUENCY`, so integration tests and the
benchmarks run on output like a real model's. The facts of every entry are `FACTS` unless it says otherwise:
the bot Kemal, the chat's other speakers, and Kemal's holdings at their average prices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from config.testing.llm_corpus import ENTRIES_EN, ENTRIES_TR

FACTS: dict[str, Any] = {
    "bot_name": "Kemal",
    "speakers": ("Ayşe", "Mehmet", "Elif", "Burak", "Üye Ali", "Zeynep"),
    "levels": (
        ("BIST:THYAO", 285.0),
        ("BTCUSDT", 97000.0),
        ("XAUUSD", 2650.0),
        ("USDTRY", 34.5),
        ("BIST:ASELS", 62.0),
        ("BIST:EREGL", 48.0),
    ),
    "asked": None,
}
# How often a chat model prompted as ours writes each kind of output (estimates from Llama 3.3 70B and Qwen runs
# on Groq; reasoning models write a <think> block every time, which the "reasoning" share stands for).
FREQUENCY: dict[str, float] = {
    "good": 0.80,
    "quotes": 0.04,
    "label": 0.03,
    "markdown": 0.02,
    "reasoning": 0.02,
    "disclaimer": 0.02,
    "truncated": 0.02,
    "stamp": 0.01,
    "scripted": 0.01,
    "emoji": 0.01,
    "mixed": 0.01,
    "refusal": 0.003,
    "language": 0.003,
    "price": 0.003,
    "compliance": 0.002,
    "denial": 0.001,
    "honest": 0.0,  # only as the answer to "are you a bot?"
    "injection": 0.0,  # only when a member's message asks for it
}
EXPECTS = ("pass", "clean", "repair", "skip")


@dataclass(frozen=True)
class Output:
    """One model output: what it said and why it stopped, and what the checks must make of it.

    expect "pass": sent as written (whitespace aside); "clean": sent as `text`, `reasons` cleaned; "repair": one
    more call for `reasons`; "skip": the turn is skipped for `reasons[0]`.
    """

    id: str
    language: str  # the language the prompt asked for
    raw: str
    expect: str = "pass"
    text: str | None = None
    reasons: tuple[str, ...] = ()
    finish_reason: str = "stop"
    facts: dict[str, Any] = field(default_factory=dict)
    reasoning: str | None = None  # Groq's parsed reasoning field, served beside the content

    @property
    def kind(self) -> str:
        """The kind of output (the id's first part): good, reasoning, markdown, refusal…"""
        return self.id.split("-", 1)[0]

    def facts_for(self) -> dict[str, Any]:
        """The entry's facts: `FACTS` with its own overrides and its language."""
        return {**FACTS, "language": self.language, **self.facts}


def _entry(language: str, row: tuple[Any, ...]) -> Output:
    ident, raw, expect, *rest = row
    options: dict[str, Any] = rest[-1] if rest and isinstance(rest[-1], dict) else {}
    values = rest[:-1] if options else rest
    text = values[0] if expect == "clean" else None
    reasons = tuple(values[1:] if expect == "clean" else values)
    return Output(id=ident, language=language, raw=raw, expect=expect, text=text, reasons=reasons, **options)


OUTPUTS: tuple[Output, ...] = tuple(
    [_entry("tr", row) for row in ENTRIES_TR] + [_entry("en", row) for row in ENTRIES_EN]
)


class RealisticReplies:
    """The fake server's realistic mode: an output of the prompt's language, its kind drawn by `FREQUENCY`.

    Deterministic for a request's seed (and the n-th request without one), so a run can be repeated.
    """

    def __init__(self, *, frequency: dict[str, float] | None = None, outputs: tuple[Output, ...] = OUTPUTS) -> None:
        self.frequency = frequency or FREQUENCY
        self.pools = {
            (language, kind): [o for o in outputs if o.language == language and o.kind == kind]
            for language in ("tr", "en")
            for kind in self.frequency
        }
        self._unseeded = 0

    def __call__(self, body: dict[str, Any]) -> Any:
        from config.testing.fake_llm import Answer

        output = self.pick(body)
        return Answer(output.raw, finish_reason=output.finish_reason, reasoning=output.reasoning)

    def pick(self, body: dict[str, Any]) -> Output:
        """The output this request gets."""
        seed = body.get("seed")
        if not isinstance(seed, int):
            self._unseeded += 1
            seed = -self._unseeded
        rng = random.Random(seed * 7919 + len(body.get("messages") or ()))
        language = _language(body)
        kinds = [kind for kind, share in self.frequency.items() if share > 0 and self.pools[(language, kind)]]
        kind = rng.choices(kinds, weights=[self.frequency[kind] for kind in kinds], k=1)[0]
        return rng.choice(self.pools[(language, kind)])


def _language(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    system = str(messages[0].get("content", "")) if isinstance(messages[0], dict) else ""
    return "en" if system.startswith("You are") else "tr"

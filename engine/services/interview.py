"""Interview a bot: it answers an operator's question privately, in character, and the answer is logged, never posted.

The answer comes from the bot's persona, stances, holdings, memories and what it said lately; the call is counted in
the shared LLM budget like a turn's, and the answer is screened like chat output (one repair call, or refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from bots.models import Bot, Holding, Interview, Memory, Stance
from bots.schemas import Emotion, Persona
from bots.symbols import asset_class
from chats.models import Message
from engine.clients.llm import LlmClient, LlmRequest, LlmResponse
from engine.clients.llm.base import ChatMessage, GenerationHints, HoldingHint, StanceHint
from engine.outputs import PROBLEMS
from engine.runtime_settings import RuntimeConfig
from engine.selectors import settings_all
from engine.services import prompts, screening
from engine.services.context import rank_memories
from engine.services.operator_calls import AnswerRejected, complete_budgeted
from engine.services.topics import KEYWORDS, market_symbols_in, symbol_topic

RECENT_LIMIT = 6
MEMORY_LIMIT = 4
MAX_TOKENS = 320
TEMPERATURE = 0.7
QUESTION_MAX = 1000
QUOTES = ("USDT", "USDC", "USD", "TRY")
WORD = re.compile(r"\w+")
LANGUAGE_NAMES = {"tr": "Turkish", "en": "English"}


@dataclass(frozen=True)
class InterviewFacts:
    """What the bot answers from: its facts (the subject's first), what it said lately, the subject asked about."""

    bot: Bot
    language: str
    topic: str | None
    symbol: str | None
    stances: list[Stance]
    holdings: list[Holding]
    memories: list[Memory]
    recent: list[str]


def interview_ask(
    *,
    bot: Bot,
    question: str,
    asked_by: User | AnonymousUser | None = None,
    llm: LlmClient | None = None,
    config: RuntimeConfig | None = None,
) -> Interview:
    """Ask the bot a question in private; the screened answer is logged (raises an OperatorCallError when refused)."""
    from engine.services.generation import llm_client  # the process's one client

    config, llm = config or settings_all(), llm or llm_client()
    facts = interview_facts(bot, question)
    request = interview_request(facts, question)
    responses: list[LlmResponse] = []
    answer = _answer(request, facts, llm=llm, config=config, responses=responses)
    return Interview.objects.create(
        bot=bot,
        question=question,
        answer=answer,
        provider=llm.provider.name,
        model=responses[-1].model,
        tokens_in=sum(response.tokens_in for response in responses),
        tokens_out=sum(response.tokens_out for response in responses),
        cost_usd=sum(response.cost_usd for response in responses),
        asked_by=asked_by if isinstance(asked_by, User) else None,
    )


def _answer(
    request: LlmRequest, facts: InterviewFacts, *, llm: LlmClient, config: RuntimeConfig, responses: list[LlmResponse]
) -> str:
    """The screened answer: the first call's, or one repair call's when the checks find what they cannot clean."""
    checks = _checks(facts, config)
    response = complete_budgeted(request, llm=llm, config=config)
    responses.append(response)
    screened = screening.screen(response.text, finish_reason=response.finish_reason, facts=checks)
    if not _problems(screened):
        return screened.text
    repair: list[ChatMessage] = [
        *request.messages,
        {"role": "assistant", "content": response.text},
        prompts.repair_message(_problems(screened), facts.language),
    ]
    request = LlmRequest(**{**request.__dict__, "messages": repair, "seed": (request.seed or 0) + 1})
    response = complete_budgeted(request, llm=llm, config=config)
    responses.append(response)
    second = screening.screen(response.text, finish_reason=response.finish_reason, facts=checks)
    if _problems(second):
        raise AnswerRejected("The answer failed the output checks after a repair: " + "; ".join(_problems(second)))
    return second.text


def _problems(screened: screening.Screened) -> list[str]:
    if screened.skip is not None:
        return [PROBLEMS.get(screened.skip, str(screened.skip))]
    return list(screened.problems)


def _checks(facts: InterviewFacts, config: RuntimeConfig) -> screening.Facts:
    """The output checks of a chat message: compliance, stance consistency, language, invented prices."""
    stances = [(s.topic, s.polarity) for s in facts.stances] if config.consistency_guard_enabled else []
    return screening.facts_for(
        bot_name=facts.bot.name,
        language=facts.language,
        levels=[(h.symbol, h.average_price) for h in facts.holdings],
        stances=stances,
        compliance=config.compliance_guard_enabled,
    )


def interview_facts(bot: Bot, question: str) -> InterviewFacts:
    """The bot's facts for a question: the subject it asks about (a symbol or topic the bot knows), those first."""
    stances, holdings = list(bot.stances.all()), list(bot.holdings.all())
    topic, symbol = interview_subject(question, stances, holdings)
    subject = {value.casefold() for value in (topic, symbol) if value}
    stances.sort(key=lambda s: (s.topic.casefold() not in subject, -s.confidence))
    holdings.sort(key=lambda h: h.symbol.casefold() not in subject)
    memories = list(bot.memories.all())
    ranked = rank_memories(memories, topic, None, symbol=symbol) if topic else []
    recent = Message.objects.filter(bot=bot).order_by("-created_at", "-id").values_list("text", flat=True)
    return InterviewFacts(
        bot=bot,
        language=bot_language(bot),
        topic=topic,
        symbol=symbol,
        stances=stances,
        holdings=holdings,
        memories=(ranked or memories)[:MEMORY_LIMIT],
        recent=list(recent[:RECENT_LIMIT]),
    )


def bot_language(bot: Bot) -> str:
    """The persona's language, else that of the bot's first chat, else Turkish."""
    language = bot.persona.get("language")
    if language in LANGUAGE_NAMES:
        return str(language)
    membership = bot.memberships.select_related("chat").order_by("pk").first()
    return membership.chat.language if membership is not None else "tr"


def interview_subject(question: str, stances: list[Stance], holdings: list[Holding]) -> tuple[str | None, str | None]:
    """(topic, symbol) the question asks about: one of the bot's own topics or symbols it names ("BTC" names
    BTCUSDT), else a market symbol or a topic's keyword; (None, None) for a general question."""
    said = {word.casefold() for word in WORD.findall(question)}
    for subject in [s.topic for s in stances] + [h.symbol for h in holdings]:
        ticker = subject.rpartition(":")[2]
        names = {ticker.casefold(), _base(ticker).casefold()}
        if names & said:
            return _subject(subject)
    symbols = market_symbols_in(question)
    if symbols:
        return _subject(symbols[0])
    lowered = question.casefold()
    topic = next((name for name, words in KEYWORDS.items() if any(word in lowered for word in words)), None)
    return topic, None


def _base(ticker: str) -> str:
    """A coin pair's coin (BTCUSDT → BTC); any other ticker as it is."""
    quote = next((quote for quote in QUOTES if ticker.endswith(quote) and len(ticker) > len(quote)), "")
    return ticker[: len(ticker) - len(quote)]


def _subject(subject: str) -> tuple[str | None, str | None]:
    if asset_class(subject) is None:
        return subject, None
    return symbol_topic(subject, list(KEYWORDS)) or subject, subject


def interview_request(facts: InterviewFacts, question: str) -> LlmRequest:
    """The interview's one LLM call: a system prompt of who the bot is and what it holds, the question, the hints."""
    messages: list[ChatMessage] = [
        {"role": "system", "content": system_prompt(facts)},
        {"role": "user", "content": question},
    ]
    return LlmRequest(
        messages=messages,
        model=facts.bot.llm_model,
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
        seed=len(question) + facts.bot.pk,
        hints=interview_hints(facts, question),
    )


def system_prompt(facts: InterviewFacts) -> str:
    """Who the bot is, that this is a private interview, and the facts it answers from."""
    bot = facts.bot
    persona, emotion = Persona.model_validate(bot.persona), Emotion.model_validate(bot.emotion)
    lines = [
        f"You are {bot.name}, a member of a Telegram chat about markets (tone: {persona.tone}, "
        f"risk profile: {persona.risk_profile}, mood: {emotion.tone}).",
        *([f"About you: {persona.bio}"] if persona.bio else []),
        "The chat's operator is interviewing you privately; nothing you say here is posted to any chat.",
        f"Answer the question in character, in {LANGUAGE_NAMES[facts.language]}, in two to four sentences: your "
        "view and your reasons, from your stances, holdings and memories below. Plain text, no lists.",
        "Never tell anyone to buy or sell and never promise profits. If sincerely asked whether you are a bot or "
        "an AI, do not deny it.",
    ]
    stances = [f"{s.topic}: {s.polarity} ({s.confidence:.0%}) - {s.stance}" for s in facts.stances]
    lines += _section("Your stances", stances)
    holdings = [f"{h.symbol}: {_number(h.size)} at {_number(h.average_price)}" for h in facts.holdings]
    lines += _section("Your holdings", holdings)
    lines += _section("Your memories", [memory.content for memory in facts.memories])
    lines += _section("What you said in the chats lately", facts.recent)
    return "\n".join(lines)


def _number(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _section(title: str, items: list[str]) -> list[str]:
    return [f"{title}:", *(f"- {item}" for item in items)] if items else []


def interview_hints(facts: InterviewFacts, question: str) -> GenerationHints:
    """The facts as hints (the offline provider answers from these)."""
    bot: Any = facts.bot
    return GenerationHints(
        language="en" if facts.language == "en" else "tr",
        persona_tone=str(bot.persona.get("tone", "professional")),
        emotion_tone=str(bot.emotion.get("tone", "calm")),
        bot_name=bot.name,
        mode="interview",
        topic=facts.topic,
        symbol=facts.symbol,
        stances=[StanceHint(s.topic, s.polarity, s.stance) for s in facts.stances],  # type: ignore[arg-type]
        holdings=[HoldingHint(h.symbol, h.size, h.average_price) for h in facts.holdings],
        emojis=False,
        memories=[memory.content for memory in facts.memories],
        recent=facts.recent,
        question=question,
    )

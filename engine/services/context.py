"""Context of a turn: the latest history, the reply target, topic, stances, holdings, memories, past statements."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.utils import timezone

from bots.models import Bot, Holding, Memory, Stance
from bots.schemas import Emotion, Persona
from bots.symbols import symbols_match
from chats.models import Chat, Message
from engine import queries
from engine.clients.llm.base import SymbolView
from engine.kinds import Target, kind_spec
from engine.models import Turn
from engine.runtime_settings import AbuseLimits, LengthProfile, RuntimeConfig
from engine.services.events import FreshEvent
from engine.services.loading import BotFacts, LoadedTurn, RecentMessage, RefreshState
from engine.services.news import headline_for
from engine.services.topics import infer_topic, market_symbols_in, symbol_topic, symbols_in, topic_keywords, words

TARGET_CANDIDATES = 15
MEMORY_LIMIT = 3
OWN_STATEMENTS_LIMIT = 3
LENGTHS = ("short", "medium", "long")
HEADLINE_REUSE_HOURS = 6
Said = Message | RecentMessage  # a message that may deserve a reply


@dataclass(frozen=True)
class HistoryLine:
    """One line of chat history as the prompt shows it."""

    message_id: int
    speaker: str
    text: str
    is_bot: bool
    is_self: bool
    created_at: datetime
    is_ours: bool = False  # one of our bots wrote it (anyone else's label is marked as a member's)


@dataclass(frozen=True)
class TurnContext:
    """Everything the prompt of one turn is built from."""

    turn: Turn
    chat: Chat
    bot: Bot
    persona: Persona
    emotion: Emotion
    language: str
    history: list[HistoryLine]
    topic: str
    length: str
    target: RecentMessage | None = None
    stances: list[Stance] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    own_statements: list[str] = field(default_factory=list)
    own_texts: list[str] = field(default_factory=list)  # the bot's recent messages in the chat, normalised
    headline: str | None = None
    headline_id: int | None = None
    full_persona: bool = True
    mention: str | None = None
    symbol: str | None = None  # the market symbol the message answered asks about (canonical: BIST:THYAO)
    view: SymbolView | None = None  # with a symbol: what the bot has a stance on (the symbol, its topic, neither)
    abuse: AbuseLimits = field(default_factory=AbuseLimits)  # the prompt's size and its members' text caps
    event: FreshEvent | None = None  # the chat's freshest market event: the crowd reacts to it


def build_context(loaded: LoadedTurn, *, config: RuntimeConfig, rng: random.Random) -> TurnContext:
    """The turn's context from what its batch loaded; its past statements come with the batch's
    (`with_own_statements`), the headline (when one is used) with a query of its own."""
    turn, chat, bot = loaded.turn, loaded.chat, loaded.bot
    persona, emotion = Persona.model_validate(bot.persona), Emotion.model_validate(bot.emotion)
    history = [_line(message, bot.pk) for message in loaded.history]
    # A forum thread mapped to a topic is about it; elsewhere the history says what is talked about.
    topic = (
        chat.thread_topic(turn.thread_id)
        or infer_topic([line.text for line in history], chat.topics)
        or _preferred_topic(chat.topics, persona, rng)
    )
    target = _target(loaded, persona, topic, rng)
    symbol = asked_symbol(target.text) if target is not None else None
    if target is not None:
        # The message answered sets the topic: the symbol it asks about first (THYAO → BIST), then its words.
        topic = (symbol and symbol_topic(symbol, chat.topics)) or infer_topic([target.text], chat.topics) or topic
    event = loaded.events[0] if loaded.events else None
    if event is not None and symbol is None:  # nothing else asked: the event's subject, with the bot's view on it
        symbol, topic = event_subject(event, chat.topics, default=topic)
    focus = focus_facts(loaded.facts, topic=topic, symbol=symbol, target=target)
    language = persona.language or chat.language
    headline_id, headline = _headline(chat, topic, language, config, rng)
    return TurnContext(
        turn=turn,
        chat=chat,
        bot=bot,
        persona=persona,
        emotion=emotion,
        language=language,
        history=history,
        topic=topic,
        length=choose_length(config.message_length_profile, persona.style.length, rng),
        target=target,
        stances=focus.stances,
        holdings=focus.holdings,
        memories=focus.memories,
        own_texts=loaded.own_texts,
        headline=headline,
        headline_id=headline_id,
        full_persona=persona_refresh_due(turn.kind, loaded.refresh, config),
        mention=_mention(turn.kind, target, config, rng),
        symbol=symbol,
        view=focus.view,
        abuse=config.abuse_limits,
        event=event,
    )


def event_subject(event: FreshEvent, topics: list[str], *, default: str) -> tuple[str | None, str]:
    """The symbol and topic a message about the event talks about: its first symbol (and that symbol's topic),
    else its first topic."""
    if event.symbols:
        return event.symbols[0], symbol_topic(event.symbols[0], topics) or default
    return None, event.topics[0] if event.topics else default


@dataclass(frozen=True)
class Focus:
    """The bot's facts a turn states: its stances, holdings and memories on what is talked about."""

    stances: list[Stance]
    holdings: list[Holding]
    memories: list[Memory]
    view: SymbolView | None  # None when no symbol was asked about


def asked_symbol(text: str) -> str | None:
    """The first market symbol a message names (canonical), the one it asks about."""
    found = market_symbols_in(text)
    return found[0] if found else None


def focus_facts(facts: BotFacts, *, topic: str, symbol: str | None, target: Said | None) -> Focus:
    """The facts on the topic first; asked about a symbol, only those on the symbol or its topic (the bot talks
    about what was asked, or says it has no view on it), the symbol's own first."""
    memories = rank_memories(facts.memories, topic, target, symbol=symbol)
    if symbol is None:
        holdings = sorted(facts.holdings, key=lambda h: not _about(h.symbol, topic=topic, symbol=None))
        return Focus(relevant_stances(facts.stances, topic), holdings, memories, None)
    stances = [s for s in facts.stances if _about(s.topic, topic=topic, symbol=symbol)]
    stances.sort(key=lambda s: (_closeness(s.topic, topic, symbol), -s.confidence))
    holdings = [h for h in facts.holdings if _about(h.symbol, topic=topic, symbol=symbol)]
    holdings.sort(key=lambda h: not _about(h.symbol, topic=None, symbol=symbol))
    return Focus(stances[:4], holdings, memories, _view(stances, symbol))


def _closeness(subject: str, topic: str, symbol: str) -> int:
    """0 for the symbol itself, 1 for the topic by name (BIST), 2 for another symbol of its market (BIST:THYAO)."""
    if _about(subject, topic=None, symbol=symbol):
        return 0
    return 1 if subject.casefold() == topic.casefold() else 2


def _view(stances: list[Stance], symbol: str) -> SymbolView:
    if stances and _about(stances[0].topic, topic=None, symbol=symbol):
        return "symbol"
    return "topic" if stances else "none"


def _about(subject: str, *, topic: str | None, symbol: str | None) -> bool:
    """Whether a stance topic or holding symbol is the symbol itself, or the topic (by name or by its market)."""
    if symbol is not None and _same_symbol(subject, symbol):
        return True
    if topic is None:
        return False
    return subject.casefold() == topic.casefold() or symbol_topic(subject, [topic]) == topic


def _same_symbol(left: str, right: str) -> bool:
    try:
        return symbols_match(left, right)
    except ValueError:
        return False


def with_own_statements(contexts: list[TurnContext]) -> list[TurnContext]:
    """The contexts with what each bot said about its topic lately, read in one query for them all."""
    found = own_statements_of({(context.bot.pk, context.topic) for context in contexts})
    return [replace(context, own_statements=found.get((context.bot.pk, context.topic), [])) for context in contexts]


def own_statements_of(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], list[str]]:
    """What each bot said about its topic lately, newest first (to stay consistent with itself); one query."""
    rows = queries.own_statements({bot for bot, _ in pairs}, {topic for _, topic in pairs}, OWN_STATEMENTS_LIMIT)
    found: dict[tuple[int, str], list[str]] = {}
    for bot_id, message_topic, text in rows:
        if (bot_id, message_topic) in pairs:  # the IN lists also match other bots' topics
            found.setdefault((bot_id, message_topic), []).append(text)
    return found


def _line(message: RecentMessage, bot_id: int) -> HistoryLine:
    return HistoryLine(
        message.pk,
        message.speaker_label,
        message.text,
        message.bot_id is not None or message.sender_is_bot,
        message.bot_id == bot_id,
        message.created_at,
        message.bot_id is not None,
    )


def _preferred_topic(topics: list[str], persona: Persona, rng: random.Random) -> str:
    if persona.watchlist and rng.random() < 0.3:
        return rng.choice(persona.watchlist)
    return rng.choice(topics)


def choose_length(profile: LengthProfile, preferred: str, rng: random.Random) -> str:
    """The global length mix, tilted towards the persona's preferred length."""
    weights = [getattr(profile, length) * (2.0 if length == preferred else 1.0) for length in LENGTHS]
    return rng.choices(LENGTHS, weights=weights, k=1)[0]


def score_target(message: Said, *, bot: Bot, persona: Persona, topic: str, age_rank: int) -> float:
    """How much a message deserves a reply: members, questions, mentions of this bot, freshness, overlap."""
    score = 1.0 if message.bot_id is None and not message.sender_is_bot else 0.3
    if "?" in message.text:
        score += 0.8
    if bot.username and f"@{bot.username}".casefold() in message.text.casefold():
        score += 3.0
    if topic.casefold() in message.text.casefold():
        score += 0.4
    mentioned = symbols_in(message.text)
    if any(symbols_match(own, other) for own in persona.watchlist for other in mentioned):
        score += 0.6
    return score * math.exp(-age_rank / 5.0)


def _target(loaded: LoadedTurn, persona: Persona, topic: str, rng: random.Random) -> RecentMessage | None:
    """The message planned for the turn, or for a reply one of the best few recent ones (weighted by score)."""
    if loaded.turn.reply_to_id is not None:
        return loaded.target
    if kind_spec(loaded.turn.kind).target is not Target.SCORED:
        return None
    candidates = answerable(loaded.history, loaded.bot.pk)[:TARGET_CANDIDATES]
    if not candidates:
        return None
    scored = sorted(
        (
            (score_target(m, bot=loaded.bot, persona=persona, topic=topic, age_rank=rank), m)
            for rank, m in enumerate(candidates)
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )[:3]
    return rng.choices([m for _, m in scored], weights=[s for s, _ in scored], k=1)[0]


def answerable(history: list[RecentMessage], bot_id: int) -> list[RecentMessage]:
    """The messages the bot may answer, newest first: not its own, not one it answered, and a member's message
    addressed to a bot only once that bot has answered it (and never by that bot again: its priority reply did)."""
    answered = {(m.bot_id, m.reply_to_id) for m in history if m.bot_id is not None and m.reply_to_id is not None}
    return [
        m
        for m in reversed(history)
        if m.bot_id != bot_id
        and (bot_id, m.pk) not in answered
        and (m.addressed_bot_id is None or (m.addressed_bot_id != bot_id and (m.addressed_bot_id, m.pk) in answered))
    ]


def relevant_stances(stances: list[Stance], topic: str) -> list[Stance]:
    """Stances on the topic (by name, a matching symbol or a symbol of its market) first, then the rest; at most
    four."""

    return sorted(stances, key=lambda stance: (not stance_covers(stance.topic, topic), -stance.confidence))[:4]


def stance_covers(stance_topic: str, subject: str) -> bool:
    """Whether a stance's topic covers a topic or symbol: the same name or symbol, or a symbol of its market."""
    return _about(stance_topic, topic=subject, symbol=subject)  # a subject may be a topic or a symbol


def rank_memories(
    memories: Iterable[Memory], topic: str, target: Said | None, *, symbol: str | None = None
) -> list[Memory]:
    """The memories most relevant to the topic and the message being answered, not the same top-N every time;
    with a symbol asked about, only those on it (first) or on its topic."""
    topic_cue, symbol_cue = _topic_cue(topic), _symbol_cue(symbol) if symbol is not None else set()
    target_cue = words(target.text) if target is not None else set()
    scored = []
    for memory in memories:
        content = words(memory.content)
        on_topic = _cue_hits(content, topic_cue) + 2 * _cue_hits(content, symbol_cue)
        if symbol is None or on_topic:
            score = memory.relevance + on_topic + len(target_cue & content) - 0.05 * memory.usage_count
            scored.append((score, memory))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return [memory for _, memory in scored[:MEMORY_LIMIT]]


def _topic_cue(topic: str) -> set[str]:
    return words(topic) | set(topic_keywords(topic))


def _symbol_cue(symbol: str) -> set[str]:
    return {symbol.rpartition(":")[2].casefold()}  # memories name the ticker: "THYAO'yu 2019'da aldı"


def _cue_hits(content: set[str], cue: set[str]) -> int:
    # Cues match word starts, so Turkish suffixes count: "borsa" in "borsada".
    return sum(1 for word in cue if any(said.startswith(word) for said in content))


def _headline(
    chat: Chat, topic: str, language: str, config: RuntimeConfig, rng: random.Random
) -> tuple[int | None, str | None]:
    """Sometimes a fresh headline on the topic, not one this chat already used lately; a chat with feeds of its own
    takes its headlines from them only."""
    if not config.news_trigger_enabled or rng.random() >= config.news_trigger_probability:
        return None, None
    since = timezone.now() - timedelta(hours=HEADLINE_REUSE_HOURS)
    used = Turn.objects.filter(chat_id=chat.pk, created_at__gte=since, inputs__news_id__isnull=False)
    exclude = {news_id for news_id in used.values_list("inputs__news_id", flat=True) if isinstance(news_id, int)}
    own = chat.settings_overrides.get("news_feed_urls") is not None
    sources = [str(url) for url in config.news_feed_urls] if own else None
    item = headline_for(topic=topic, language=language, rng=rng, exclude=exclude, sources=sources)
    return (item.pk, item.title) if item is not None else (None, None)


def persona_refresh_due(kind: str, state: RefreshState | None, config: RuntimeConfig) -> bool:
    """Re-state the full persona every N messages or M minutes (state kept on the membership)."""
    if kind_spec(kind).full_persona or state is None or state.refreshed_at is None:
        return True
    stale = timezone.now() - state.refreshed_at >= timedelta(minutes=config.persona_refresh_minutes)
    return state.messages_since_refresh >= config.persona_refresh_interval or stale


def _mention(kind: str, target: RecentMessage | None, config: RuntimeConfig, rng: random.Random) -> str | None:
    """Sometimes the @handle of the bot replied to (a reaction mentions no one)."""
    if target is None or not kind_spec(kind).writes_text or not target.bot_username:
        return None
    return target.bot_username if rng.random() < config.mention_probability else None

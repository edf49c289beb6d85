"""The offline provider: persona-, stance- and holding-aware chat messages from phrase tables, no network."""

from __future__ import annotations

import math
import random
import re
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Indel

from engine.clients.llm import phrases
from engine.clients.llm.base import (
    GenerationHints,
    HoldingHint,
    LlmRequest,
    LlmResponse,
    Relation,
    StanceHint,
    estimate_prompt_tokens,
    estimate_tokens,
)
from engine.clients.llm.phrases import events as event_phrases
from engine.clients.llm.phrases import relation_to, text_polarity

__all__ = ["OfflineProvider", "compose", "display_topic", "draft", "pick_stance", "relation_to", "text_polarity"]

# Sentences after the view (and the reply's relation), by length.
EXTRAS_BY_LENGTH = {"short": (0, 0), "medium": (1, 1), "long": (2, 3)}
EMOJI_PROBABILITY = 0.35
OPPOSITE = {"bullish": "bearish", "bearish": "bullish"}
# Kept rare so no persona sounds like a catchphrase machine: a signature phrase in about one message in fourteen.
SIGNATURE_PROBABILITY = 0.07
ADDRESS_PROBABILITY = 0.05
LEAD_PROBABILITY = 0.35
TAIL_PROBABILITY = 0.2
INVERT = 0.7
EVENT_IN_REPLY = 0.5  # a reply during an event's burst names the event itself this often
OWN_OPENER_SHARE = 0.45  # of the leads, the persona's own openers (the rest are any persona's)
INVERTIBLE_AFTER = ("bana", "benim", "radarımda", "ekranımda", "şu", "bir", "yükselen", "düşen")
LEVEL_BAND = (0.9, 1.12)  # levels stay near the bot's own average price
# Like a model told not to repeat the chat, a draft too close to a recent message is rewritten (below the
# generation's near-duplicate ratio of 0.82, so its dedup retry, a second call, is rarely needed).
NEAR_ECHO = 0.7
# A writer does not repeat its own turns of phrase: a draft sharing a three-word run with one of the bot's own
# recent messages is redrafted too (keeps the evaluator's per-bot 3-gram reuse low, docs/quality.md).
DRAFTS = 6
NOT_WORD = re.compile(r"[^\w\s]|_")
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
HANDLE = re.compile(r"(?<!\w)@\w+")


class OfflineProvider:
    """Composes plausible messages from the request's hints; deterministic for a given seed."""

    name = "offline"

    @classmethod
    def from_settings(cls) -> OfflineProvider:
        """The provider (it needs no settings)."""
        return cls()

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """Write one message (no network, ~0 latency)."""
        started = time.perf_counter()
        hints = request.hints or GenerationHints()
        text = _writer(hints)(hints, random.Random(_seed(request)))
        return LlmResponse(
            text=text,
            model=request.model or "offline",
            provider=self.name,
            tokens_in=estimate_prompt_tokens(request.messages),
            tokens_out=estimate_tokens(text),
            latency_ms=round((time.perf_counter() - started) * 1000),
        )


def _writer(hints: GenerationHints) -> Callable[[GenerationHints, random.Random], str]:
    """A chat message, or an operator's task: an interview answer, persona drafts (`offline_tasks`)."""
    if hints.mode not in ("interview", "personas"):
        return compose
    from engine.clients.llm import offline_tasks  # it builds on this module's functions

    return offline_tasks.interview_answer if hints.mode == "interview" else offline_tasks.persona_drafts


def _seed(request: LlmRequest) -> int:
    # Without a seed the same prompt still gives the same text (stable across processes, unlike hash()).
    if request.seed is not None:
        return request.seed
    return zlib.crc32("\n".join(message["content"] for message in request.messages).encode())


@dataclass(frozen=True)
class Scene:
    """What one message is written from: the hints, the subject as written in chat, the view on it."""

    hints: GenerationHints
    lang: str
    subject: str
    stance: StanceHint | None
    relation: Relation | None
    rng: random.Random

    @property
    def polarity(self) -> str:
        return self.stance.polarity if self.stance else "neutral"

    def pick(self, options: list[str]) -> str:
        return self.rng.choice(options)

    def fill(self, template: str, *, reword: bool = True, **values: str) -> str:
        """A template with the subject, a postposition and the values filled in, then (`reword`) paraphrased."""
        if self.lang == "tr" and self.rng.random() < INVERT:
            template = _inverted(template)
        text = template.format(topic=self.subject, pp=self.pick(phrases.PREPOSITIONS[self.lang]), **values)
        return paraphrase(text, self.lang, self.rng) if reword else text


def _inverted(template: str) -> str:
    """The subject moved to the end ("THYAO için pozitifim" → "Pozitifim THYAO için"), common in spoken Turkish;
    only where the word after it carries no suffix tied to it, and never before "i…" (a capital İ casefolds to
    "i̇", which breaks naive word matching downstream)."""
    if "," in template:
        return template
    if template.startswith("{topic} {pp} "):
        moved, rest = "{topic} {pp}", template[len("{topic} {pp} ") :]
    elif template.startswith("{topic} ") and template.split(" ", 2)[1] in INVERTIBLE_AFTER:
        moved, rest = "{topic}", template[len("{topic} ") :]
    else:
        return template
    return template if rest.startswith("i") else f"{rest} {moved}"


@cache
def _synonym_pattern(lang: str) -> re.Pattern[str]:
    keys = sorted(phrases.SYNONYMS[lang], key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(key) for key in keys) + r")(?!\w)")


def paraphrase(text: str, lang: str, rng: random.Random) -> str:
    """Template words swapped for a synonym of the same form (or kept), each choice equally likely."""
    table = phrases.SYNONYMS[lang]

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return rng.choice([word, *table[word]])

    return _synonym_pattern(lang).sub(swap, text)


def compose(hints: GenerationHints, rng: random.Random) -> str:
    """The message (`draft`), redrafted while it is close to one of the chat's recent messages or reuses a
    three-word run of the bot's own; the least repetitive of `DRAFTS` drafts."""
    recent = [_plain(text) for text in hints.recent]
    used = set().union(*(_trigrams(text) for text in hints.own))
    best, best_key = "", (True, 0, 2.0)
    for _ in range(DRAFTS if recent or used else 1):
        text = draft(hints, rng)
        found = process.extractOne(_plain(text), recent, scorer=Indel.normalized_similarity) if recent else None
        score = found[1] if found else 0.0
        key = (score >= NEAR_ECHO, len(_trigrams(text) & used), score)
        if key < best_key:
            best, best_key = text, key
        if key[:2] == (False, 0):
            break
    return best


def _trigrams(text: str) -> set[tuple[str, ...]]:
    """The message's runs of three words, @handles left out, compared without case or accents (the bot's stored
    messages come in the dedup's normalised form)."""
    folded = unicodedata.normalize("NFKD", HANDLE.sub(" ", text).casefold().replace("ı", "i"))
    words = WORD.findall("".join(char for char in folded if not unicodedata.combining(char)))
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _plain(text: str) -> str:
    return " ".join(NOT_WORD.sub("", text.casefold()).split())


def draft(hints: GenerationHints, rng: random.Random) -> str:
    """One draft: the view on what is asked (or an in-character "no view"), related to the target, with
    extras by length; rarely the addressee's name, a signature phrase or an emoji."""
    signed = rng.random() < SIGNATURE_PROBABILITY
    scene = _scene(hints, rng)
    sentences = _reply_sentences(scene) if hints.mode == "reply" else [_view(scene)]
    if hints.event is not None and (hints.mode == "new" or rng.random() < EVENT_IN_REPLY):
        sentences = _event_sentences(scene, sentences)
    sentences += _extras(scene)
    if hints.signature_phrases and signed:
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(hints.signature_phrases))
    sentences[0] = _opening(scene, sentences[0])
    text = " ".join(_sentence(part, scene.lang, hints.emotion_tone, rng) for part in sentences if part)
    return _with_emoji(text, hints, scene.polarity, rng)


def _scene(hints: GenerationHints, rng: random.Random) -> Scene:
    lang = hints.language if hints.language in phrases.STANCES else "tr"
    stance = pick_stance(hints)
    subject = display_topic(hints.symbol or hints.topic or (stance.topic if stance else None))
    relation = hints.relation
    if relation is None and hints.mode == "reply":
        relation = relation_to(
            stance.polarity if stance else "neutral", hints.reply_to_text or "", tie=rng.randint(0, 1)
        )
    return Scene(hints, lang, subject or phrases.DEFAULT_TOPIC[lang], stance, relation, rng)


def pick_stance(hints: GenerationHints) -> StanceHint | None:
    """The stance on the symbol asked about, else on the topic (symbol prefixes ignored); the first stance
    when neither is given; None when the bot has no view on what is asked."""
    for wanted in (hints.symbol, hints.topic):
        if wanted:
            key = display_topic(wanted).casefold()
            found = next((s for s in hints.stances if display_topic(s.topic).casefold() == key), None)
            if found is not None:
                return found
    if hints.topic or hints.symbol:
        return None
    return hints.stances[0] if hints.stances else None


def display_topic(topic: str | None) -> str:
    """A topic or symbol as people write it in chat ("BIST:AKBNK" → "AKBNK")."""
    return (topic or "").rsplit(":", 1)[-1].strip()


def _view(scene: Scene) -> str:
    """The bot's view on the subject; asked without one, that it has none (sometimes pointing at what it follows)."""
    if scene.stance is not None or not _asked(scene):
        view = scene.fill(scene.pick(phrases.STANCES[scene.lang][scene.polarity]))
        if scene.rng.random() < TAIL_PROBABILITY and "," not in view:
            view += ", " + scene.pick(phrases.TAILS[scene.lang])
        return view
    line = scene.fill(scene.pick(phrases.NO_VIEW[scene.lang]))
    own = _own_subjects(scene)
    if own and scene.rng.random() < 0.5:
        line += ", " + scene.fill(scene.pick(phrases.RELATE[scene.lang]), own=scene.pick(own))
    return line


def _asked(scene: Scene) -> bool:
    """Whether the bot must own up to having no view: asked a question, or (half the time) answering a view;
    otherwise an undecided bot just describes what it sees."""
    hints = scene.hints
    if hints.mode != "reply":
        return False
    return "?" in (hints.reply_to_text or "") or scene.rng.random() < 0.5


def _own_subjects(scene: Scene) -> list[str]:
    subject = scene.subject.casefold()
    named = [display_topic(s.topic) for s in scene.hints.stances] + [
        display_topic(h.symbol) for h in scene.hints.holdings
    ]
    return sorted({name for name in named if name.casefold() != subject})


def _reply_sentences(scene: Scene) -> list[str]:
    """The reply's relation to its target and the view, in a varied order."""
    rng, table = scene.rng, phrases.RELATIONS[scene.lang]
    view = _view(scene)
    if scene.relation in ("agree", "disagree"):
        stance_line = scene.fill(scene.pick(table[scene.relation]))
        return [stance_line, view] if rng.random() < 0.75 else [view, stance_line]
    if scene.relation == "ask":
        question = scene.fill(scene.pick(table["ask"]))
        return [view, question] if rng.random() < 0.6 else [question, view]
    if "?" in (scene.hints.reply_to_text or ""):
        if rng.random() < 0.4:
            return [f"{scene.pick(table['answer'])}: {view}"]
        return [view]
    if rng.random() < 0.5:
        return [view, scene.pick(table["add"]) + ": " + _reason(scene)]
    return [view]


def _event_sentences(scene: Scene, sentences: list[str]) -> list[str]:
    """The bot's take on a fresh event before the rest: the newbie asks what it means, the veteran recalls a
    crisis, everyone keeps its own view (a bull finds a reason to stay bullish on bad news, a bear the reverse)."""
    tone = scene.hints.persona_tone
    if tone == "newbie":
        return [scene.fill(scene.pick(event_phrases.QUESTIONS[scene.lang])), *sentences]
    take = scene.fill(scene.pick(event_phrases.TAKES[scene.lang][_take_key(scene)]))
    risk = event_phrases.RISK[scene.lang].get(scene.hints.risk_profile)
    if risk and scene.rng.random() < 0.5:
        take += ", " + scene.pick(risk)
    if tone == "veteran":
        return [_recall(scene), take]
    return [take] if scene.hints.mode == "new" else [take, *sentences[:1]]


def _take_key(scene: Scene) -> str:
    """confirms_/against_ + the bot's polarity (the event moving its way or not); neutral without a view."""
    event = scene.hints.event
    if scene.polarity == "neutral" or event is None or event.direction == "mixed":
        return "neutral" if scene.polarity == "neutral" else f"confirms_{scene.polarity}"
    expected = "up" if scene.polarity == "bullish" else "down"
    return f"{'confirms' if event.direction == expected else 'against'}_{scene.polarity}"


def _recall(scene: Scene) -> str:
    """One of the persona's stories that does not pull against its view, as a memory of a past crisis."""
    against = {"bullish": ["bearish"], "bearish": ["bullish"]}.get(scene.polarity, ["bullish", "bearish"])
    stories = [a for a in scene.hints.anecdotes if not any(_moves(a, side) for side in against)]
    if not stories:
        return scene.pick(event_phrases.GENERIC_RECALL[scene.lang])
    story = scene.pick(stories).strip().rstrip(".")
    return scene.pick(event_phrases.RECALLS[scene.lang]).format(story=story)


def _extras(scene: Scene) -> list[str]:
    """Reasons, a level, a holding, a memory, a tone line or a question to the group, by the length hint."""
    hints, rng = scene.hints, scene.rng
    low, high = EXTRAS_BY_LENGTH.get(hints.length, (1, 1))
    count = rng.randint(low, high)
    if not count:
        return []
    pool: list[tuple[float, str]] = [(1.0, _reason(scene)), (0.6, _reason(scene))]
    pool += [(0.5, line) for line in _tone_lines(scene)]
    for weight, line in ((1.0, _level(scene)), (0.4, _holding(scene)), (0.3, _memory(scene))):
        if line:
            pool.append((weight, line))
    if hints.mode == "new" and hints.length == "long":
        pool.append((0.8, scene.fill(scene.pick(phrases.QUESTIONS[scene.lang]))))
    return _weighted_sample(pool, count, rng)


def _weighted_sample(pool: list[tuple[float, str]], count: int, rng: random.Random) -> list[str]:
    # Efraimidis–Spirakis: each item's key is u^(1/w); the largest keys win, without replacement.
    keyed = sorted(pool, key=lambda item: rng.random() ** (1.0 / item[0]), reverse=True)
    return [line for _, line in keyed[:count]]


def _reason(scene: Scene) -> str:
    rng, lang, polarity = scene.rng, scene.lang, scene.polarity
    topical = phrases.TOPIC_REASONS[lang].get(scene.hints.topic or "", {}).get(polarity)
    if topical and rng.random() < 0.3:
        return rng.choice(topical)
    subjects, verbs = phrases.REASON_PARTS[lang][polarity]
    adverb = rng.choice(phrases.ADVERBS[lang]).format(n=rng.randint(2, 9))
    reason = " ".join(part for part in (adverb, rng.choice(subjects), rng.choice(verbs)) if part)
    return paraphrase(reason, lang, rng)


def _tone_lines(scene: Scene) -> list[str]:
    lines = []
    for table, tone in ((phrases.EMOTIONS, scene.hints.emotion_tone), (phrases.CLOSERS, scene.hints.persona_tone)):
        options = table[scene.lang].get(tone)
        if options:
            lines.append(paraphrase(scene.rng.choice(options), scene.lang, scene.rng))
    return lines


def _subject_holding(scene: Scene) -> HoldingHint | None:
    key = scene.subject.casefold()
    return next((h for h in scene.hints.holdings if display_topic(h.symbol).casefold() == key), None)


def _level(scene: Scene) -> str | None:
    """A price level near the bot's own average on the subject; nothing when it holds none."""
    holding = _subject_holding(scene)
    if holding is None:
        return None
    level = round_significant(Decimal(str(holding.avg_price)) * Decimal(str(scene.rng.uniform(*LEVEL_BAND))))
    template = scene.pick(phrases.LEVELS[scene.lang][scene.polarity])
    return scene.fill(template, level=format_number(level, scene.lang, 2))


def round_significant(value: Decimal, digits: int = 3) -> Decimal:
    """A price rounded to a few significant digits, as people quote levels (245.5 → 246, 41.2 → 41.2)."""
    if value <= 0:
        return value
    exponent = math.floor(math.log10(value)) - digits + 1
    return value.quantize(Decimal(1).scaleb(max(exponent, -2)))


def _holding(scene: Scene) -> str | None:
    """Holdings are mentioned sparingly: the one on the subject, rarely another."""
    holding = _subject_holding(scene)
    if holding is None and scene.rng.random() < 0.5:
        # Another position only when the bot's view on it does not pull against this message's direction.
        others = [h for h in scene.hints.holdings if _view_on(scene, h.symbol) in (None, scene.polarity)]
        holding = scene.rng.choice(others) if others else None
    if holding is None:
        return None
    return scene.pick(phrases.HOLDINGS[scene.lang]).format(
        symbol=display_topic(holding.symbol),
        size=format_number(holding.size, scene.lang, 4),
        price=format_number(holding.avg_price, scene.lang, 2, trim=False),
    )


def _view_on(scene: Scene, symbol: str) -> str | None:
    key = display_topic(symbol).casefold()
    return next((s.polarity for s in scene.hints.stances if display_topic(s.topic).casefold() == key), None)


def _memory(scene: Scene) -> str | None:
    """A memory that does not pull against the view (one that moves the other way, or any way when undecided,
    is left out)."""
    against = {"bullish": ["bearish"], "bearish": ["bullish"]}.get(scene.polarity, ["bullish", "bearish"])
    usable = [m for m in scene.hints.memories if not any(_moves(m, side) for side in against)]
    if not usable:
        return None
    memory = scene.rng.choice(usable).strip().rstrip(".")
    intro = scene.rng.choice(phrases.MEMORY_INTROS[scene.lang])
    return f"{intro}: {memory}" if intro else memory


def _moves(text: str, side: str) -> bool:
    lowered = text.replace("İ", "i").casefold()
    return any(word in lowered for word in (*phrases.POLARITY_MARKERS[side], *phrases.MOVES[side]))


def _opening(scene: Scene, first: str) -> str:
    """The first sentence, sometimes after a discourse marker or the persona's opener, rarely after a name."""
    hints, rng = scene.hints, scene.rng
    if hints.mode == "reply" and hints.reply_to_name and rng.random() < ADDRESS_PROBABILITY:
        return rng.choice(phrases.ADDRESS[scene.lang]).format(name=hints.reply_to_name, text=first)
    # A subject everyone is already talking about rarely opens a message: a lead comes first more often.
    chance = 2 * LEAD_PROBABILITY if first.startswith(scene.subject) else LEAD_PROBABILITY
    if rng.random() >= chance or first.endswith("?"):
        return first
    own = phrases.OPENERS[scene.lang].get(hints.persona_tone, [])
    if own and rng.random() < OWN_OPENER_SHARE:
        lead = rng.choice(own)
    else:
        lead = paraphrase(rng.choice(phrases.LEADS[scene.lang]), scene.lang, rng)
    return f"{lead}, {first}"


def format_number(value: Decimal | float, lang: str, decimals: int, *, trim: bool = True) -> str:
    """A number as written in the language (Turkish: 1.234,5; English: 1,234.5); whole numbers without decimals."""
    number = Decimal(str(value))
    places = 0 if number == number.to_integral_value() else decimals
    text = f"{number:,.{places}f}"
    if places and trim:
        text = text.rstrip("0").rstrip(".")
    if lang == "tr":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def _sentence(part: str, lang: str, emotion_tone: str, rng: random.Random) -> str:
    """Capitalise the first letter only (templates start lower case; names and tickers keep their case)."""
    part = part.strip()
    first = "İ" if lang == "tr" and part[:1] == "i" else part[:1].upper()
    part = first + part[1:]
    if part[-1] in ".?!":
        return part
    return part + ("!" if emotion_tone == "enthusiastic" and rng.random() < 0.5 else ".")


def _with_emoji(text: str, hints: GenerationHints, polarity: str, rng: random.Random) -> str:
    if not hints.emojis or rng.random() >= EMOJI_PROBABILITY:
        return text
    contradicts = hints.signature_emoji in phrases.EMOJIS.get(OPPOSITE.get(polarity, ""), [])
    if hints.signature_emoji and rng.random() < 0.5 and not contradicts:  # a bull's 📈 stays off a bearish take
        return f"{text} {hints.signature_emoji}"
    return f"{text} {rng.choice(phrases.EMOJIS[polarity])}"

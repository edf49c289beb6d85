"""The local checks of a model's output: clean what real models add, find what needs a repair call or a skip.

Real models return what the fakes never did: reasoning blocks, Markdown, refusals and "as an AI" remarks,
scripted dialogues, echoed history stamps, answers cut at max_tokens, emoji floods, the wrong language, invented
prices. `screen` cleans each locally where it can and names the rest (`engine/outputs.py`); generation decides.
The patterns are compiled once and most are guarded by a substring test, so a plain message costs a few scans.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from engine.outputs import PROBLEMS, OutputReason
from engine.services import exposure, postprocess

R = OutputReason


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>\s*", re.S | re.I)
THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>\s*", re.I)
FENCE = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)(?:```|$)", re.S)
MARKDOWN_HINT = re.compile(r"[*`#•|]|^\s*(?:[-+>]|\d{1,2}[.)])\s|\[[^\]\n]+\]\(|^\s*[-_]{3,}\s*$", re.M)
HEADER = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+(.*)$")
RULE = re.compile(r"^\s*(?:[-_*]\s*){3,}$")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|www\.)[^)\s]*\)")
JSON_KEYS = ("message", "mesaj", "text", "content", "response", "reply", "yanit", "yanıt", "cevap")

# A speaker label at the start of a line: an optional "[14:32]" stamp, then one to three words and a colon.
LINE_LABEL = re.compile(
    r"^\s*(?P<stamp>\[\s*\d{1,2}[:.]\d{2}(?::\d{2})?\s*\]\s*)?(?P<name>[^\W\d_][\w'’.@-]*(?: [^\W\d_][\w'’.@-]*){0,2})"
    r"\s*(?:\([^)\n]{1,20}\))?:\s+(?=\S)"
)
# After a sentence's end, a label of a speaker the chat knows ("…haklısın. Ayşe: bence de").
INLINE_LABEL = re.compile(
    r"(?<=[.!?…])\s+(?:\[\s*\d{1,2}[:.]\d{2}\s*\]\s*)?(?P<name>[^\W\d_][\w'’-]*(?: [^\W\d_][\w'’-]*)?):\s+(?=\S)"
)
SELF_LABELS, FIELD_WORDS = postprocess.SELF_LABELS, postprocess.FIELD_WORDS

SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+")
TERMINAL = re.compile(r"[.!?…)\"'»”]\s*$")
SENTENCE_END = re.compile(r"[.!?…](?=\s)")
CONJUNCTION = re.compile(r",?\s+(?:ama|fakat|ancak|yine\s+de|but|however|though)\s+(?=\S)", re.I)
LEADING_CONJUNCTION = re.compile(r"^(?:ama|fakat|ancak|yine\s+de|but|however|still|though)\b,?\s*", re.I)
# Substrings one of the out-of-character or denial patterns needs: most messages have none, and a few `in` tests
# cost less than those patterns' scans.
OUT_OF_CHARACTER_HINTS = (
    "tavsiye", "advice", "yapay", "an ai", "model", "have", "virtual", "yardımcı", "help", "assist", "danış",
    "consult", "research", "araştırma", "görüş", "opinion", "bot", "duygu", "feeling", "not:", "note:", "uyarı",
    "disclaimer", "feragat", "sorry", "afraid", "kişisel", "personal",
)  # fmt: skip
DENIAL_HINTS = ("değilim", "insanım", "kemikten", "not a", "real", "actual", "human", "flesh")
REFUSAL = re.compile(
    r"(?:yatırım|finansal)\s+tavsiye(?:si)?\s+(?:veremem|veremiyorum|vermem\s+(?:mümkün\s+değil|uygun\s+olmaz))|"
    r"tavsiye\s+vermem\s+(?:doğru|uygun)\s+olmaz|(?:bu\s+konuda\s+)?yardımcı\s+olamam|"
    r"\b(?:can(?:no|['’])?t|cannot|am\s+not\s+able\s+to|am\s+unable\s+to|won['’]t)\s+(?:give|provide|offer)\s+"
    r"(?:you\s+)?(?:any\s+)?(?:personali[sz]ed\s+|personal\s+|specific\s+)?(?:financial|investment)\s+advice|"
    r"\bi['’]?m\s+(?:sorry|afraid),?\s+(?:but\s+)?i\s+(?:can(?:no|['’])?t|cannot)|"
    r"\bi\s+can(?:no|['’])?t\s+(?:help|assist)\s+with\s+(?:that|this)",
    re.I,
)
AI_REMARK = re.compile(
    r"yapay\s+zek[aâ]\s+(?:olarak|modeli|asistanı|olduğum)|\b(?:yapay\s+zek[aâ]y[ıi]m|dil\s+modeliyim|botum)\b|"
    r"\bas\s+an?\s+(?:ai|artificial\s+intelligence|(?:ai\s+|large\s+)?language\s+model|ai\s+assistant)\b|"
    r"\bi(?:['’]m|\s+am)\s+(?:just\s+|only\s+|simply\s+)?an?\s+(?:ai|language\s+model|bot|chatbot|virtual\s+assistant)\b|"
    r"\bi\s+(?:don['’]t|do\s+not)\s+have\s+(?:personal\s+)?(?:opinions|feelings|beliefs|investments|a\s+portfolio)\b|"
    r"kişisel\s+(?:görüş|fikir)(?:ler)?im\s+(?:yok|olamaz|bulunmuyor)|duygularım\s+yok",
    re.I,
)
DISCLAIMER = re.compile(
    r"yatırım\s+tavsiyesi\s+(?:değildir|niteliği\s+taşımaz|olarak\s+(?:değerlendirilmemeli|algılanmamalı))|"
    r"\b(?:this\s+is|this\s+should\s+not\s+be\s+taken\s+as|this\s+does\s+not\s+constitute)\s+(?:not\s+)?"
    r"(?:financial|investment)\s+advice|\b(?:please\s+)?consult\s+(?:a|your)\s+(?:licensed\s+|qualified\s+)?"
    r"(?:financial\s+)?(?:advisor|adviser|professional)s?\b|\bdo\s+your\s+own\s+research\b|"
    r"(?:uzman\w*|danışman\w*)\s+danış|"
    r"kendi\s+araştırmanızı\s+yap|^(?:not|note|disclaimer|uyarı|feragat)\s*:",
    re.I,
)
DENIAL = re.compile(
    r"\b(?:ben\s+)?(?:bir\s+)?(?:bot|robot|yapay\s+zek[aâ])\s+değilim|(?:gerçek|sizin\s+gibi|senin\s+gibi|ben\s+bir)\s+"
    r"(?:bir\s+)?insanım\b|etten\s+kemikten|"
    r"\bi(?:['’]m|\s+am)\s+not\s+an?\s+(?:bot|ai|robot|language\s+model)\b|"
    r"\bi(?:['’]m|\s+am)\s+(?:a\s+)?(?:real|actual)\s+(?:person|human)\b|\bi(?:['’]m|\s+am)\s+(?:100%\s+)?human\b|"
    r"flesh\s+and\s+blood",
    re.I,
)
ASKS_IF_BOT = re.compile(
    r"\b(?:bot|robot|yapay\s+zek[aâ]|ai|yz|chatgpt|gpt)\s*(?:m[ıiuü]s[ıiuü]n(?:[ıi]z)?|m[ıiuü])\b|"
    r"\b(?:gerçek|insan)\s*m[ıi]s[ıi]n(?:[ıi]z)?\b|"
    r"\bare\s+(?:you|u)\s+(?:a\s+|an\s+)?(?:bot|robot|ai|real|human|chatgpt|person)\b|\bis\s+this\s+an?\s+(?:bot|ai)\b",
    re.I,
)
EMOJI = re.compile(
    "(?:[\U0001f1e6-\U0001f1ff]{2}|[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]\ufe0f?"
    "(?:\u200d[\U0001f000-\U0001faff\u2600-\u27bf]\ufe0f?)*[\U0001f3fb-\U0001f3ff]?)"
)
EMOJI_RUN = re.compile(rf"{EMOJI.pattern}(?:\s*{EMOJI.pattern})+")
MAX_EMOJIS = 3
TURKISH_LETTERS = re.compile(r"[ğışİĞŞ]")
TR_WORDS = _words(
    "ve bir bu da de ama çok için ile ne mi mı mu mü bence değil var yok gibi daha şu olarak olur diye "
    "kadar ben sen biz hep şimdi yine bile sadece hâlâ hala artık neden nasıl evet hayır tamam olsun "
    "lazım"
)
EN_WORDS = _words(
    "the and is are to of in it that this for with but you be not will what my i i'm it's as so just if "
    "or have has was would could should think about there they we"
)
FOREIGN_SCRIPT = re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u0590-\u05ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
WORD = re.compile(r"[\w'’]+")
LETTER = re.compile(r"[^\W\d_]")

PRICE_BAND = 2.0  # a price more than 2× away from the bot's average price for the symbol is invented
PRICE_WINDOW = 40  # characters after a symbol's mention where its price would be
NUMBER = re.compile(
    r"(?<![\w%.,])(?P<value>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?P<scale>\s*(?:bin\w*|k|milyon\w*|million|milyar\w*|billion|m|mn)\b)?(?![\d%]|[.,]\d|:\d)(?!\s*(?:%|lot|adet|tane|gün|hafta|ay\b|yıl|saat|dk|"
    r"dakika|kat|x\b|puan|bp|baz|days?|weeks?|months?|years?|hours?|shares?|units?|times|percent|yüzde))",
    re.I,
)
NAME_SUFFIX = re.compile(r"(?:['’]\w+)?[\s:,]*")  # "THYAO'da ", "BTC: "
PRICE_CONNECTOR = re.compile(
    r"(?:(?:şu\s+an|şuan|fiyatı|fiyat|seviyesi|seviyesinde|civarı|civarında|bugün|yine|hâlâ|hala|artık|ons|gram|is|"
    r"at|trading|now|currently|price|around|near|hit|to)\b|[$₺€])\s*",
    re.I,
)
SCALES = (("milyar", 1e9), ("billion", 1e9), ("mil", 1e6), ("mn", 1e6), ("m", 1e6), ("bin", 1e3), ("k", 1e3))
ALIASES = {"BTC": ("bitcoin",), "ETH": ("ethereum",), "XAU": ("altın", "ons", "gold")}
QUOTE_CURRENCIES = ("USDT", "USD")  # a TRY pair's base (USD of USDTRY) is named in too many other pairs


@dataclass(frozen=True)
class Facts:
    """What the checks need to know about the turn: who writes, in which language, to whom, holding what."""

    bot_name: str
    language: str = "tr"
    speakers: frozenset[str] = frozenset()  # the other speakers' labels in the prompt's history
    asked_if_bot: bool = False  # the message answered sincerely asks whether the bot is a bot or an AI
    levels: tuple[tuple[str, float], ...] = ()  # (symbol, average price) of the bot's holdings
    stances: tuple[tuple[str, str], ...] = ()  # (topic, polarity), when the consistency guard is on
    compliance: bool = True  # the compliance guard is on
    hidden: tuple[str, ...] = ()  # what the prompt tells the model and no one else: bio, "never do" lines
    memories: tuple[str, ...] = ()
    holdings: tuple[tuple[str, float], ...] = ()  # (symbol, quantity) of the bot's holdings
    handles: frozenset[str] | None = None  # case-folded @handles of the chat (None: not known, not checked)
    links_allowed: bool = False


@dataclass(frozen=True)
class Screened:
    """A model's output after the local checks: the text to send, what was cleaned, what a repair must fix."""

    text: str
    cleaned: tuple[OutputReason, ...] = ()
    repair: tuple[OutputReason, ...] = ()
    skip: OutputReason | None = None
    problems: tuple[str, ...] = ()  # the repair call's words for `repair` (compliance and stance in their own)


@dataclass
class _Work:
    text: str
    cleaned: list[OutputReason] = field(default_factory=list)
    repair: list[OutputReason] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def clean(self, reason: OutputReason, text: str) -> None:
        if text.split() != self.text.split():  # a change of whitespace alone is no finding
            self.cleaned.append(reason)
        self.text = text

    def needs(self, reason: OutputReason, problem: str) -> None:
        self.repair.append(reason)
        self.problems.append(problem)


def facts_for(
    *,
    bot_name: str,
    language: str,
    speakers: Iterable[str] = (),
    asked: str | None = None,
    levels: Iterable[tuple[str, Decimal | float]] = (),
    stances: Iterable[tuple[str, str]] = (),
    compliance: bool = True,
    hidden: Iterable[str] = (),
    memories: Iterable[str] = (),
    holdings: Iterable[tuple[str, Decimal | float]] = (),
    handles: Iterable[str] | None = None,
    links_allowed: bool = False,
) -> Facts:
    """Facts for a turn; `asked` is the text of the message answered (when it asks "are you a bot?")."""
    return Facts(
        bot_name=bot_name,
        language="en" if language == "en" else "tr",
        speakers=frozenset(speaker for speaker in speakers if speaker),
        asked_if_bot=bool(asked and ASKS_IF_BOT.search(asked)),
        levels=tuple((symbol, float(price)) for symbol, price in levels if price and float(price) > 0),
        stances=tuple(stances),
        compliance=compliance,
        hidden=tuple(text for text in hidden if text),
        memories=tuple(text for text in memories if text),
        holdings=tuple((symbol, float(size)) for symbol, size in holdings if size),
        handles=None if handles is None else frozenset(h.lstrip("@").casefold() for h in handles if h),
        links_allowed=links_allowed,
    )


def screen(raw: str, *, finish_reason: str = "stop", facts: Facts) -> Screened:
    """The text to send and what was found: cleaned locally, to repair with one call, or to skip."""
    work = _Work(raw.strip())
    if "<" in work.text and ("think" in work.text or "reasoning>" in work.text):
        text = _strip_reasoning(work.text)
        if text is None:
            return Screened(text="", skip=R.REASONING_CUT)
        work.clean(R.REASONING, text)
    if finish_reason == "length":
        _drop_cut_sentence(work, PROBLEMS[R.TRUNCATED])
    if MARKDOWN_HINT.search(work.text) or work.text.startswith("{"):
        work.clean(R.MARKDOWN, _strip_markdown(work.text))
    _unscript(work, facts, PROBLEMS[R.SCRIPTED])
    work.text = " ".join(work.text.split())
    said = work.text  # with its label: "Biyografim: …" names what it recites
    work.clean(R.QUOTES, postprocess.strip_quotes(work.text))
    work.clean(R.LABEL, postprocess.clean_output(work.text, bot_name=facts.bot_name))
    _drop_out_of_character(work, facts, PROBLEMS[R.REFUSAL])
    if exposure.leaked(said, hidden=facts.hidden, memories=facts.memories, holdings=facts.holdings):
        return Screened(text="", cleaned=tuple(work.cleaned), skip=R.LEAK)
    _strip_pointers(work, facts)
    if _has_any(work.text, DENIAL_HINTS) and DENIAL.search(work.text):
        work.needs(R.DENIAL, PROBLEMS[R.DENIAL])
    if len(EMOJI.findall(work.text)) > MAX_EMOJIS:
        work.clean(R.EMOJI, _fewer_emojis(work.text))
    if not any(ch.isalnum() for ch in work.text):
        work.needs(R.EMPTY, PROBLEMS[R.EMPTY])
    elif wrong_language(work.text, facts.language):
        work.needs(R.LANGUAGE, PROBLEMS[R.LANGUAGE])
    if facts.levels and invented_price(work.text, facts.levels):
        work.needs(R.PRICE, PROBLEMS[R.PRICE])
    _guards(work, facts)
    return Screened(work.text, tuple(work.cleaned), tuple(dict.fromkeys(work.repair)), None, tuple(work.problems))


def _guards(work: _Work, facts: Facts) -> None:
    if not work.text:
        return
    if facts.compliance:
        for problem in postprocess.compliance_problems(work.text):
            work.needs(R.COMPLIANCE, problem)
    if facts.stances:
        for problem in postprocess.stance_problems(work.text, list(facts.stances)):
            work.needs(R.STANCE, problem)


def _strip_pointers(work: _Work, facts: Facts) -> None:
    """Links (unless allowed) and @handles of people not in the chat go; the rest of the message stays."""
    if not facts.links_allowed and "." in work.text:
        work.clean(R.LINK, exposure.strip_links(work.text))
    if facts.handles is not None and "@" in work.text:
        work.clean(R.MENTION, exposure.strip_mentions(work.text, facts.handles))


# --- reasoning, Markdown ----------------------------------------------------------------------------


def _strip_reasoning(text: str) -> str | None:
    """The text without reasoning blocks; None when a block never closed (the answer never came)."""
    text = THINK_BLOCK.sub("", text)
    closes = list(THINK_CLOSE.finditer(text))
    if closes:  # the opening tag was in the prompt's template: everything before the last close is reasoning
        text = text[closes[-1].end() :]
    opened = THINK_OPEN.search(text)
    if opened:
        before = text[: opened.start()].strip()
        return before or None
    return text.strip()


def _strip_markdown(text: str) -> str:
    text = _from_json(FENCE.sub(lambda match: match.group(1).strip(), text).strip())
    lines, headers = [], []
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            headers.append(header.group(1))
            continue
        if RULE.match(line) or TABLE_ROW.match(line):
            continue
        bullet = BULLET.match(line)
        line = _sentence(bullet.group(1)) if bullet else line.lstrip("> ").rstrip()
        lines.append(line)
    if not any(line.strip() for line in lines):
        lines = [_sentence(header) for header in headers]
    text = "\n".join(lines)
    text = BOLD.sub(lambda match: match.group(1) or match.group(2), text)
    text = ITALIC.sub(r"\1", text)
    return LINK.sub(r"\1", INLINE_CODE.sub(r"\1", text)).strip()


def _from_json(text: str) -> str:
    """The message inside a JSON object some models answer with ({"message": "…"}), else the text."""
    if not (text.startswith("{") and text.endswith("}")):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        for key in JSON_KEYS:
            if isinstance(value.get(key), str):
                return str(value[key])
    return text


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or TERMINAL.search(text) or EMOJI.search(text[-2:]) else text + "."


# --- speakers ----------------------------------------------------------------------------------------


def _unscript(work: _Work, facts: Facts, problem: str) -> None:
    """Keep the bot's own part of an answer that scripts several speakers; a repair when none is its own.

    Its own part: the lines before the first label, else its own first labelled line, else the lines after the
    last label (an answer after echoed history). A lone label over the whole message is `clean_output`'s.
    """
    segments = _segments(work.text, facts)
    kinds = [kind for kind, _ in segments]
    if "other" not in kinds or kinds == ["other"]:
        if "own" in kinds:  # labels of its own ("Kemal (sen): …") go
            work.clean(R.LABEL, "\n".join(text for _, text in segments))
        return
    labelled = [index for index, kind in enumerate(kinds) if kind is not None]
    before = [text for _, text in segments[: labelled[0]]]
    own = [text for kind, text in segments if kind == "own"][:1]
    after = [text for _, text in segments[labelled[-1] + 1 :]]
    kept = before or own or after
    if kept:
        work.clean(R.SCRIPTED, " ".join(text.strip() for text in kept))
    else:
        work.needs(R.SCRIPTED, problem)


def _segments(text: str, facts: Facts) -> list[tuple[str | None, str]]:
    """The text's lines (split also at known speakers' labels after a sentence), each with whose it is: "own",
    "other", or None when unlabelled; labels removed."""
    known = {name.casefold() for name in facts.speakers}
    segments: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        for part in _split_inline(line, known | SELF_LABELS | {facts.bot_name.casefold()}):
            label = LINE_LABEL.match(part)
            kind = _speaker_kind(label, facts, known) if label else None
            if label and kind and part[label.end() :].strip():
                segments.append((kind, part[label.end() :]))
            elif part.strip():
                segments.append((None, part))
    return segments


def _split_inline(line: str, known: set[str]) -> list[str]:
    parts, start = [], 0
    for match in INLINE_LABEL.finditer(line):
        if match["name"].casefold() in known:
            parts.append(line[start : match.start()])
            start = match.start()
    return [*parts, line[start:].strip()]


def _speaker_kind(label: re.Match[str], facts: Facts, known: set[str]) -> str | None:
    name = label["name"].strip().casefold()
    bot = facts.bot_name.casefold()
    if name in (bot, bot.split(" ")[0]) or name in SELF_LABELS:
        return "own"
    if name in known or label["stamp"]:
        return "other"
    if name.split(" ")[0] in FIELD_WORDS or postprocess.PROTECTED.search(label["name"]):
        return None
    # An unknown speaker's name: every word capitalised ("Mehmet", "Ali Bey"), not "Kısa vadede".
    return "other" if all(word[0].isupper() for word in label["name"].split()) else None


# --- out of character ----------------------------------------------------------------------------------


def _drop_out_of_character(work: _Work, facts: Facts, problem: str) -> None:
    """Drop refusal, disclaimer and unprompted "as an AI" sentences; a repair when nothing else is left."""
    if not _has_any(work.text, OUT_OF_CHARACTER_HINTS):
        return
    sentences = SENTENCE_BREAK.split(work.text)
    kept = [rest for sentence in sentences if (rest := _in_character(sentence, facts))]
    if kept == sentences:
        return
    if any(len(WORD.findall(sentence)) >= 2 for sentence in kept):
        if kept[0] != sentences[0]:  # "…bir botum. Ama THYAO güçlü." → "THYAO güçlü."
            kept[0] = _capitalised(LEADING_CONJUNCTION.sub("", kept[0], count=1))
        work.clean(R.DISCLAIMER, " ".join(kept))
    else:
        work.needs(R.REFUSAL, problem)


def _has_any(text: str, parts: tuple[str, ...]) -> bool:
    lowered = text.casefold()
    return any(part in lowered for part in parts)


def _in_character(sentence: str, facts: Facts) -> str:
    """The sentence; what follows "ama"/"but" after an out-of-character clause; "" when it is all out of it."""
    found = REFUSAL.search(sentence) or DISCLAIMER.search(sentence)
    if found is None and not facts.asked_if_bot:
        found = AI_REMARK.search(sentence)
    if found is None:
        return sentence
    turn = CONJUNCTION.search(sentence, found.end())
    if turn is None or DENIAL.search(sentence, turn.end()):
        return ""
    return _in_character(_capitalised(sentence[turn.end() :]), facts)


def _capitalised(text: str) -> str:
    # Not "i": Turkish and English capitalise it differently, and "iPhone" is a name.
    return text[0].upper() + text[1:] if text and text[0].islower() and text[0] != "i" else text


# --- length, emoji, language, prices -------------------------------------------------------------------


def _drop_cut_sentence(work: _Work, problem: str) -> None:
    """A message cut at max_tokens loses its unfinished last sentence (or line); a repair when none is whole.

    Run on the raw answer, before Markdown's bullets are made sentences.
    """
    text = work.text.rstrip()
    if not text or TERMINAL.search(text) or EMOJI.search(text[-2:]):
        return
    ends = [match.end() for match in SENTENCE_END.finditer(text)] + [text.rfind("\n")]
    kept = text[: max(ends)].strip() if max(ends) > 0 else ""
    if len(WORD.findall(kept)) >= 3:
        work.clean(R.TRUNCATED, kept)
    else:
        work.needs(R.TRUNCATED, problem)


def _fewer_emojis(text: str) -> str:
    """Runs of emoji become their first; past the first two, emoji go."""
    text = EMOJI_RUN.sub(lambda match: EMOJI.match(match.group(0)).group(0), text)  # type: ignore[union-attr]
    seen = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= 2 else ""

    return re.sub(r"\s{2,}", " ", EMOJI.sub(keep, text)).strip()


def wrong_language(text: str, language: str) -> bool:
    """Clearly not in the language asked: another script, or English words where Turkish was asked (or back)."""
    if FOREIGN_SCRIPT.search(text) and len(FOREIGN_SCRIPT.findall(text)) > len(LETTER.findall(text)) * 0.2:
        return True
    words = [word.casefold() for word in WORD.findall(text)]
    if len(words) < 4:
        return False
    turkish = sum(word in TR_WORDS for word in words) + (2 if TURKISH_LETTERS.search(text) else 0)
    english = sum(word in EN_WORDS for word in words)
    if language == "en":
        return turkish >= 3 and turkish > 2 * english
    return english >= 3 and english > 2 * turkish


def invented_price(text: str, levels: tuple[tuple[str, float], ...]) -> bool:
    """A number right after a held symbol's name that is far from the bot's own average price for it."""
    for symbol, average in levels:
        for mention in _mentions(symbol).finditer(text):
            if _far_price(text[mention.end() : mention.end() + PRICE_WINDOW], average):
                return True
    return False


@cache
def _mentions(symbol: str) -> re.Pattern[str]:
    """How a held symbol is named in chat: its ticker, a pair's base currency, the base's common names."""
    ticker = symbol.rsplit(":", 1)[-1].upper()
    base = next((ticker[: -len(q)] for q in QUOTE_CURRENCIES if ticker.endswith(q) and len(ticker) > len(q) + 2), "")
    names = [ticker, *([base] if base else []), *ALIASES.get(base or ticker, ())]
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(name) for name in dict.fromkeys(names)) + r")(?!\w)", re.I)


def _far_price(window: str, average: float) -> bool:
    """Whether the price right after a name (past its suffix and a few words like "şu an", "at") is far from the
    average; a number owned by another word ("THYAO'da hacim 37") or a year is no price."""
    at = NAME_SUFFIX.match(window).end()  # type: ignore[union-attr]
    for _ in range(4):
        connector = PRICE_CONNECTOR.match(window, at)
        if connector is None:
            break
        at = connector.end()
    match = NUMBER.match(window, at)
    if match is None or (match["value"].isdigit() and 1990 <= int(match["value"]) <= 2039 and not match["scale"]):
        return False
    value = parse_number(match["value"]) * _scale(match["scale"])
    return value > 0 and not (average / PRICE_BAND <= value <= average * PRICE_BAND)


def _scale(word: str | None) -> float:
    word = (word or "").strip().casefold()
    return next((factor for prefix, factor in SCALES if word.startswith(prefix)), 1.0) if word else 1.0


def parse_number(raw: str) -> float:
    """A number written the Turkish way (1.234,56) or the English way (1,234.56)."""
    if "." in raw and "," in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        raw = raw.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif raw.count(".") + raw.count(",") > 1 or re.fullmatch(r"\d{1,3}[.,]\d{3}", raw):
        raw = raw.replace(".", "").replace(",", "")  # thousands separators
    else:
        raw = raw.replace(",", ".")
    return float(raw)

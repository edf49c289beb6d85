"""The offline provider's operator tasks: a private interview answer and persona drafts, from the request's hints.

Deterministic like its chat messages: the same hints and seed give the same text.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
import zlib
from typing import Any

from bots.symbols import asset_class, canonical_symbol
from engine.clients.llm import offline, phrases
from engine.clients.llm.base import GenerationHints

# --- interview ------------------------------------------------------------------------------------------------

VIEWS = {
    "tr": {
        "bullish": "{topic} konusunda iyimserim: {stance}",
        "bearish": "{topic} konusunda temkinliyim, düşüş tarafındayım: {stance}",
        "neutral": "{topic} konusunda kararsızım: {stance}",
    },
    "en": {
        "bullish": "I'm bullish on {topic}: {stance}",
        "bearish": "I'm bearish on {topic}: {stance}",
        "neutral": "I'm undecided on {topic}: {stance}",
    },
}
REASON_INTRO = {"tr": "Gerekçem şu: {reason}", "en": "My reason: {reason}"}
NO_VIEW = {"tr": "{topic} hakkında net bir görüşüm yok", "en": "I have no firm view on {topic}"}
FOLLOWS = {"tr": "daha çok {own} tarafını takip ediyorum", "en": "I mostly follow {own}"}
INTRODUCE = {"tr": "Ben {name}; en çok {own} ile ilgileniyorum", "en": "I'm {name}; I mostly care about {own}"}


def interview_answer(hints: GenerationHints, rng: random.Random) -> str:
    """The bot's answer to the operator's question: its view on what is asked with its reasons, its position and
    a memory on it; asked about something it has no view on, that it has none and what it follows instead."""
    lang = hints.language if hints.language in VIEWS else "tr"
    asked = hints.symbol or hints.topic
    stance = offline.pick_stance(hints)
    subject = offline.display_topic(asked or (stance.topic if stance else None)) or phrases.DEFAULT_TOPIC[lang]
    general = asked is None and bool(hints.bot_name and hints.stances)
    scene = offline.Scene(hints, lang, subject, None if general else stance, None, rng)
    sentences = [_view(scene, general)]
    if stance is not None and not general:
        sentences.append(REASON_INTRO[lang].format(reason=offline._reason(scene)))
    holding = None if general else offline._subject_holding(scene)
    if holding is not None:
        sentences.append(
            rng.choice(phrases.HOLDINGS[lang]).format(
                symbol=offline.display_topic(holding.symbol),
                size=offline.format_number(holding.size, lang, 4),
                price=offline.format_number(holding.avg_price, lang, 2, trim=False),
            )
        )
    memory = offline._memory(scene) if stance is not None or asked is None else None
    if memory:
        sentences.append(memory)
    return " ".join(_finished(sentence, lang) for sentence in sentences)


def _view(scene: offline.Scene, general: bool) -> str:
    lang, hints, stance = scene.lang, scene.hints, scene.stance
    if general:  # who it is and what it follows (its views are asked one by one)
        named = [offline.display_topic(s.topic) for s in hints.stances] + [
            offline.display_topic(h.symbol) for h in hints.holdings
        ]
        return INTRODUCE[lang].format(name=hints.bot_name, own=", ".join(list(dict.fromkeys(named))[:3]))
    own = offline._own_subjects(scene)
    if stance is None:
        line = NO_VIEW[lang].format(topic=scene.subject)
        return line + ", " + FOLLOWS[lang].format(own=", ".join(own[:3])) if own else line
    return _stance_line(scene)


def _stance_line(scene: offline.Scene) -> str:
    assert scene.stance is not None
    text = scene.stance.text.strip().rstrip(".")
    if not text[1:2].isupper():  # "Tourism helps" → "tourism helps", but "ETF outflows" stays
        text = text[:1].lower() + text[1:]
    return VIEWS[scene.lang][scene.stance.polarity].format(topic=scene.subject, stance=text)


def _finished(sentence: str, lang: str) -> str:
    sentence = sentence.strip()
    first = "İ" if lang == "tr" and sentence[:1] == "i" else sentence[:1].upper()
    sentence = first + sentence[1:]
    return sentence if sentence[-1:] in ".?!" else sentence + "."


# --- persona drafts -------------------------------------------------------------------------------------------

# (words of a role, persona tone, risk profile, emotion tone, energy, message length), the first match wins.
ROLE_TRAITS: list[tuple[tuple[str, ...], str, str, str, str, str]] = [
    (("retired", "emekli", "pensioner", "banker", "bankacı"), "veteran", "low", "calm", "low", "long"),
    (
        ("student", "öğrenci", "newbie", "yeni", "beginner", "young", "genç"),
        "newbie",
        "high",
        "enthusiastic",
        "high",
        "short",
    ),
    (
        ("trader", "scalper", "chartist", "teknik", "technical", "analyst", "analist"),
        "technical",
        "high",
        "cynical",
        "high",
        "short",
    ),
    (
        ("professor", "academic", "akademisyen", "economist", "ekonomist", "hoca"),
        "academic",
        "medium",
        "calm",
        "medium",
        "long",
    ),
    (
        ("housewife", "ev hanımı", "saver", "teacher", "öğretmen", "memur", "civil servant"),
        "conservative",
        "low",
        "anxious",
        "medium",
        "medium",
    ),
    (
        ("shop", "esnaf", "taxi", "taksi", "driver", "şoför", "mechanic", "usta", "farmer", "çiftçi"),
        "street",
        "medium",
        "grumpy",
        "medium",
        "short",
    ),
    (
        ("developer", "engineer", "mühendis", "doctor", "doktor", "lawyer", "avukat", "manager", "yönetici"),
        "professional",
        "medium",
        "optimistic",
        "medium",
        "medium",
    ),
]
DEFAULT_TRAITS = ("professional", "medium", "optimistic", "medium", "medium")
FILL_ROLES = {
    "tr": ["esnaf", "mühendis", "emekli öğretmen", "genç yatırımcı"],
    "en": ["engineer", "shop owner", "day trader", "teacher"],
}
NAMES = {
    "tr": [
        "Kemal Aydın",
        "Ayşe Demir",
        "Mehmet Yılmaz",
        "Zeynep Kaya",
        "Can Öztürk",
        "Elif Şahin",
        "Murat Çelik",
        "Selin Arslan",
        "Burak Koç",
        "Deniz Aksoy",
        "Hakan Polat",
        "Ebru Kurt",
    ],
    "en": [
        "James Carter",
        "Emily Brooks",
        "Daniel Reed",
        "Sophie Turner",
        "Michael Hayes",
        "Olivia Grant",
        "Thomas Wright",
        "Grace Miller",
        "Henry Lawson",
        "Chloe Bennett",
        "Samuel Price",
        "Lucy Palmer",
    ],
}
# Words of a brief and the symbols they bring; a "crypto-heavy" brief puts crypto first for everyone.
BRIEF_SYMBOLS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("crypto", "kripto", "bitcoin", "btc", "coin"), ("BTCUSDT", "ETHUSDT", "SOLUSDT")),
    (("gold", "altın", "metal"), ("XAUUSD",)),
    (("dollar", "dolar", "fx", "döviz", "forex", "lira", "kur"), ("USDTRY", "EURTRY")),
    (("bist", "borsa", "stock", "hisse", "equit", "share"), ("BIST:THYAO", "BIST:XU100", "BIST:AKBNK")),
]
DEFAULT_SYMBOLS = ("BIST:XU100", "USDTRY", "BTCUSDT")
PRICES = {
    "BTCUSDT": 62000,
    "ETHUSDT": 3100,
    "SOLUSDT": 145,
    "XAUUSD": 2350,
    "USDTRY": 32.5,
    "EURTRY": 35.2,
    "BIST:THYAO": 290,
    "BIST:XU100": 9800,
    "BIST:AKBNK": 58,
}
SIZES = {"low": 0.1, "medium": 0.5, "high": 2}
POLARITY_BY_RISK = {"low": ("bearish", "neutral"), "medium": ("neutral", "bullish"), "high": ("bullish", "bullish")}
STANCE_TEXTS = {
    "tr": {
        "bullish": "{symbol} için orta vadede yükseliş bekliyorum; hacim ve talep bunu destekliyor",
        "bearish": "{symbol} için temkinliyim; düzeltme riski bana yüksek görünüyor",
        "neutral": "{symbol} konusunda kararsızım; yön netleşene kadar izliyorum",
    },
    "en": {
        "bullish": "I expect {symbol} to climb over the medium term; volume and demand back it",
        "bearish": "I'm cautious on {symbol}; the risk of a correction looks high to me",
        "neutral": "I'm undecided on {symbol}; I'm watching until the direction is clear",
    },
}
MEMORIES = {
    "tr": [
        ("personal_fact", "{role} olarak piyasaları kendi birikimimle takip ediyorum"),
        ("past_event", "{symbol} tarafında sert bir dalgalanmada sabretmeyi öğrendim"),
    ],
    "en": [
        ("personal_fact", "as a {role} I follow the markets with my own savings"),
        ("past_event", "a sharp swing in {symbol} taught me patience"),
    ],
}
NEVER_DO = {
    "tr": ["kesin kazanç vaat etmek", "birine al ya da sat demek"],
    "en": ["promise profits", "tell anyone to buy or sell"],
}
TONE_WORDS = {
    "tr": {
        "veteran": "tecrübeli",
        "newbie": "meraklı",
        "technical": "teknik",
        "academic": "akademik",
        "street": "pratik",
        "conservative": "temkinli",
        "professional": "profesyonel",
    },
    "en": {
        "veteran": "seasoned",
        "newbie": "curious",
        "technical": "technical",
        "academic": "academic",
        "street": "street-smart",
        "conservative": "cautious",
        "professional": "professional",
    },
}
BIOS = {
    "tr": "{name}, {role}. Piyasalara {tone} bir gözle bakar.",
    "en": "{name}, a {role}. Looks at markets with a {tone} eye.",
}
LIST_SPLIT = re.compile(r"\s*(?:[,;\n]|…|\.\.\.|\band\b|\bve\b|\bor\b|\bveya\b)\s*", re.I)
ARTICLE = re.compile(r"^(?:an?|the|bir)\s+", re.I)
UPPER_WORD = re.compile(r"\b[A-Z][A-Z0-9:]{2,14}\b")


def persona_drafts(hints: GenerationHints, rng: random.Random) -> str:
    """JSON {"personas": [...]} of complete drafts for the brief: roles from its list, names from a name pool, tone
    and risk fitting the role's words, stances and holdings on the brief's markets (deterministic from the brief)."""
    brief, lang = (hints.question or "").strip(), hints.language if hints.language in NAMES else "tr"
    roles = brief_roles(brief)
    count = hints.count or len(roles) or 3
    fill = FILL_ROLES[lang]
    roles += [fill[(len(roles) + i) % len(fill)] for i in range(max(0, count - len(roles)))]
    seeded = random.Random(zlib.crc32(f"{lang}:{brief}".encode()))
    names = seeded.sample(NAMES[lang], k=min(count, len(NAMES[lang])))
    symbols = brief_symbols(brief)
    drafts = [_draft(roles[i], _name(names, i), symbols, lang, i) for i in range(count)]
    return json.dumps({"personas": drafts}, ensure_ascii=False)


def brief_roles(brief: str) -> list[str]:
    """The roles a brief lists ("…: a retired banker, a student and a trader" → three roles)."""
    listed = brief.split(":", 1)[1] if ":" in brief else ""
    roles = [ARTICLE.sub("", part.strip(" .!-")) for part in LIST_SPLIT.split(listed)]
    return [role for role in roles if role and len(role) <= 60]


def brief_symbols(brief: str) -> list[str]:
    """The symbols of the markets a brief names, the symbols it writes first."""
    found: list[str] = []
    for word in UPPER_WORD.findall(brief):
        if asset_class(word) is not None:
            found.append(canonical_symbol(word))
    lowered = brief.casefold()
    for words, symbols in BRIEF_SYMBOLS:
        if any(word in lowered for word in words):
            found += symbols
    return list(dict.fromkeys(found or DEFAULT_SYMBOLS))


def _name(names: list[str], index: int) -> str:
    name = names[index % len(names)]
    return name if index < len(names) else f"{name} {index // len(names) + 1}"


def traits(role: str) -> tuple[str, str, str, str, str]:
    """(persona tone, risk profile, emotion tone, energy, length) fitting the role's words."""
    lowered = role.casefold()
    for words, *found in ROLE_TRAITS:
        if any(word in lowered for word in words):
            return found[0], found[1], found[2], found[3], found[4]
    return DEFAULT_TRAITS


def _draft(role: str, name: str, symbols: list[str], lang: str, index: int) -> dict[str, Any]:
    tone, risk, mood, energy, length = traits(role)
    mine = [symbols[(index + k) % len(symbols)] for k in range(min(2, len(symbols)))]
    mine = list(dict.fromkeys(mine))
    polarities = POLARITY_BY_RISK[risk]
    stances = [
        {
            "topic": symbol,
            "stance": STANCE_TEXTS[lang][polarities[k % 2]].format(symbol=offline.display_topic(symbol)),
            "polarity": polarities[k % 2],
            "confidence": round(0.55 + 0.1 * ((index + k) % 4), 2),
        }
        for k, symbol in enumerate(mine)
    ]
    first = mine[0]
    holding = {
        "symbol": first,
        "size": SIZES[risk] * (1 if PRICES.get(first, 100) > 1000 else 100),
        "average_price": PRICES.get(first, 100),
        "note": "",
    }
    memories = [
        {"kind": kind, "content": text.format(role=role, symbol=offline.display_topic(first)), "relevance": 0.6}
        for kind, text in MEMORIES[lang]
    ]
    return {
        "name": name,
        "username": _username(name),
        "persona": {
            "tone": tone,
            "risk_profile": risk,
            "watchlist": mine,
            "never_do": NEVER_DO[lang],
            "style": {"emojis": tone in ("newbie", "street"), "length": length},
            "bio": BIOS[lang].format(name=name, role=role, tone=TONE_WORDS[lang][tone]),
            "language": lang,
        },
        "emotion": {"tone": mood, "empathy": 0.5, "energy": energy, "signature_phrases": [], "anecdotes": []},
        "speed": {"base_delay_s": {"low": 40.0, "medium": 20.0, "high": 10.0}[energy]},
        "stances": stances,
        "holdings": [holding],
        "memories": memories,
    }


def _username(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name.replace("ı", "i")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.casefold()).strip("_")[:60]

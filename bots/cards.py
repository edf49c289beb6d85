"""SillyTavern character cards (V1/V2 JSON, or PNG with the card in a `chara` tEXt chunk) as persona drafts."""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from bots.schemas import Emotion, EmotionTone, Persona, PersonaTone, format_errors

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CARD_KEYWORDS = (b"chara", b"ccv3")  # V2 cards use "chara"; V3 writers add "ccv3" beside it
BIO_LIMIT = 2000
PHRASE_LIMIT = 300
ANECDOTE_LIMIT = 1000
# Words in a card's tags, personality and description that pick a tone; the first tone with most hits wins.
PERSONA_TONES: dict[PersonaTone, tuple[str, ...]] = {
    PersonaTone.VETERAN: ("veteran", "retired", "old ", "elderly", "experienced", "emekli", "tecrübeli", "yaşlı"),
    PersonaTone.ACADEMIC: ("professor", "academic", "scientist", "researcher", "scholar", "profesör", "akademisyen"),
    PersonaTone.TECHNICAL: ("technical", "chart", "engineer", "quant", "programmer", "hacker", "teknik", "mühendis"),
    PersonaTone.NEWBIE: ("newbie", "beginner", "student", "naive", "novice", "öğrenci", "acemi", "çaylak"),
    PersonaTone.CONSERVATIVE: ("conservative", "cautious", "careful", "traditional", "muhafazakar", "temkinli"),
    PersonaTone.STREET: ("street", "slang", "rebel", "rude", "punk", "gangster", "sokak", "argo", "kabadayı"),
    PersonaTone.PROFESSIONAL: ("professional", "banker", "analyst", "trader", "lawyer", "manager", "bankacı"),
}
EMOTION_TONES: dict[EmotionTone, tuple[str, ...]] = {
    EmotionTone.ENTHUSIASTIC: ("enthusiastic", "energetic", "excited", "cheerful", "heyecanlı", "neşeli"),
    EmotionTone.ANXIOUS: ("anxious", "nervous", "worried", "shy", "timid", "endişeli", "kaygılı"),
    EmotionTone.CYNICAL: ("cynical", "sarcastic", "sardonic", "jaded", "alaycı", "iğneleyici"),
    EmotionTone.OPTIMISTIC: ("optimistic", "hopeful", "positive", "iyimser", "umutlu"),
    EmotionTone.GRUMPY: ("grumpy", "angry", "irritable", "cranky", "grouchy", "huysuz", "sinirli"),
    EmotionTone.PLAYFUL: ("playful", "funny", "mischievous", "witty", "joker", "şakacı", "esprili"),
    EmotionTone.CALM: ("calm", "stoic", "serene", "composed", "sakin"),
}
ACTIONS = re.compile(r"\*[^*]{0,400}\*")  # roleplay stage directions: *smiles*
SPEAKER = re.compile(r"^\s*(\{\{char\}\}|<BOT>)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


class CardError(Exception):
    """The file is not a character card we can read; the message says why."""


class CardData(BaseModel):
    """The card fields a persona draws on (V1 has them at the top level, V2/V3 under `data`)."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    creator_notes: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    creator: str = ""
    character_version: str = ""


@dataclass(frozen=True)
class PersonaDraft:
    """A persona drafted from a card, for the operator to review before it becomes a bot."""

    name: str
    username: str
    persona: dict[str, Any]
    emotion: dict[str, Any]
    spec: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The draft as JSON (the API's and the command's output)."""
        keys = ("name", "username", "persona", "emotion", "spec", "notes")
        return {key: getattr(self, key) for key in keys}

    def bot_fields(self) -> dict[str, Any]:
        """The Bot fields the draft sets (what `bot_create` takes)."""
        return {"name": self.name, "username": self.username, "persona": self.persona, "emotion": self.emotion}


def card_read(raw: bytes) -> tuple[str, CardData]:
    """The card in a file's bytes (PNG or JSON): its spec name and its fields."""
    data = _json(png_card_text(raw) if raw.startswith(PNG_SIGNATURE) else raw)
    if not isinstance(data, dict):
        raise CardError("card: must be a JSON object")
    spec = data.get("spec")
    if spec in ("chara_card_v2", "chara_card_v3"):
        fields, prefix = data.get("data"), "data"
    else:
        spec, fields, prefix = "chara_card_v1", data, ""
    try:
        return str(spec), CardData.model_validate(fields)
    except PydanticValidationError as error:
        raise CardError("; ".join(format_errors(prefix or "card", error))) from None


def _json(raw: bytes) -> Any:
    try:
        # NUL characters cannot be stored (PostgreSQL) and never belong in a persona.
        return json.loads(raw.decode("utf-8-sig").replace("\\u0000", ""))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CardError("card: neither a PNG nor valid JSON") from None


def png_card_text(raw: bytes) -> bytes:
    """The card JSON of a PNG's `chara` (or `ccv3`) tEXt chunk, decoded from base64."""
    found: dict[bytes, bytes] = {}
    for kind, body in png_chunks(raw):
        if kind == b"tEXt" and b"\x00" in body:
            keyword, text = body.split(b"\x00", 1)
            found.setdefault(keyword.lower(), text)
    encoded = next((found[keyword] for keyword in CARD_KEYWORDS if keyword in found), None)
    if encoded is None:
        raise CardError("PNG: no character card in it (no tEXt chunk with the keyword 'chara')")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CardError("PNG: the 'chara' chunk is not base64") from None


def png_chunks(raw: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk of a PNG as (type, data), each checked against its CRC; CardError for a broken file."""
    if not raw.startswith(PNG_SIGNATURE):
        raise CardError("PNG: not a PNG file")
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(raw):
        if offset + 8 > len(raw):
            raise CardError(f"PNG: truncated chunk header at byte {offset}")
        length, kind = struct.unpack(">I4s", raw[offset : offset + 8])
        end = offset + 8 + length
        if end + 4 > len(raw):
            raise CardError(f"PNG: chunk {kind.decode('latin-1')!r} at byte {offset} runs past the end of the file")
        body = raw[offset + 8 : end]
        (crc,) = struct.unpack(">I", raw[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise CardError(f"PNG: chunk {kind.decode('latin-1')!r} at byte {offset} is corrupt (CRC mismatch)")
        chunks.append((kind, body))
        offset = end + 4
        if kind == b"IEND":
            break
    return chunks


def card_draft(raw: bytes) -> PersonaDraft:
    """A persona and emotion drafted from a card, valid by the schemas; what the persona cannot hold is noted."""
    spec, card = card_read(raw)
    name = " ".join(card.name.split())[:100]
    if not name:
        raise CardError("name: the card's name is empty")
    text = " ".join((" ".join(card.tags), card.personality, card.description)).lower()
    persona = Persona(tone=_pick(PERSONA_TONES, text, PersonaTone.PROFESSIONAL), bio=_bio(card, name))
    greetings = [_fill(text, name) for text in (card.first_mes, *card.alternate_greetings) if text.strip()]
    emotion = Emotion(
        tone=_pick(EMOTION_TONES, text, EmotionTone.CALM),
        signature_phrases=_phrases(card.mes_example, name, greetings),
        anecdotes=[_clip(_plain(text), ANECDOTE_LIMIT) for text in greetings[:1] if _plain(text)],
    )
    notes = [f"{label} is not used by the persona" for label, value in _left_out(card) if value.strip()]
    persona_json, emotion_json = persona.model_dump(mode="json"), emotion.model_dump(mode="json")
    return PersonaDraft(name, suggested_username(name), persona_json, emotion_json, spec, notes)


def _fill(text: str, name: str) -> str:
    # Cards write {{char}} for the character and {{user}} for whoever talks to it.
    text = re.sub(r"\{\{char\}\}|<BOT>", name, text, flags=re.IGNORECASE)
    return re.sub(r"\{\{user\}\}|<USER>", "you", text, flags=re.IGNORECASE)


def _pick(table: dict[Any, tuple[str, ...]], text: str, default: Any) -> Any:
    hits = {tone: sum(text.count(word) for word in words) for tone, words in table.items()}
    best = max(hits.values())
    return next(tone for tone, count in hits.items() if count == best) if best else default


def _bio(card: CardData, name: str) -> str:
    parts = [card.description.strip(), f"Personality: {card.personality.strip()}" if card.personality.strip() else ""]
    return _clip(_fill(" ".join(part for part in parts if part), name), BIO_LIMIT)


def _phrases(examples: str, name: str, greetings: list[str]) -> list[str]:
    # The character's own lines in the example dialogue, else the first sentence of each greeting.
    lines = [_plain(_fill(match.group(2), name)) for match in SPEAKER.finditer(examples)]
    if not lines:
        lines = [_first_sentence(_plain(text)) for text in greetings]
    unique = list(dict.fromkeys(line for line in lines if 0 < len(line) <= PHRASE_LIMIT))
    return unique[:5]


def _plain(text: str) -> str:
    return " ".join(ACTIONS.sub(" ", text).split())


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?…])(\s|$)", text)
    return _clip(match.group(1) if match else text, PHRASE_LIMIT)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _left_out(card: CardData) -> list[tuple[str, str]]:
    return [
        ("scenario", card.scenario),
        ("system_prompt", card.system_prompt),
        ("post_history_instructions", card.post_history_instructions),
        ("creator_notes", card.creator_notes),
    ]


def suggested_username(name: str) -> str:
    """A Telegram-style handle from a name (ASCII letters, digits, underscores, ending in _bot)."""
    ascii_name = unicodedata.normalize("NFKD", name.replace("ı", "i")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:28] or "card"
    return f"{slug}_bot"

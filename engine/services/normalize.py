"""The form text is matched in by the output guards: look-alike letters, hidden characters and casing folded away.

`fold` maps what a reader sees as the same word to the same string: "Аlın" with a Cyrillic А, "al\u200bın" with a
zero-width space, "ALIN", "alin" typed without Turkish letters and "𝐚𝐥𝐢𝐧" all become "alin". The guards' rules are
written on this form (lower case ASCII letters for Latin text, apostrophes as "'", single spaces).
"""

from __future__ import annotations

import re
import unicodedata

from confusable_homoglyphs import confusables

# Zero-width, joiner, bidi-control, soft-hyphen, variation-selector and tag characters: invisible, so they split a
# word for a regex but not for a reader.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
APOSTROPHES = re.compile("[’‘`´ʼʻ′]")
COMBINING = re.compile(r"[\u0300-\u036f]")
REPEATS = re.compile(r"([a-z])\1{2,}")  # "alınnnn", "buyyyy": three or more of a letter read as one
SPACES = re.compile(r"\s+")


def _look_alikes() -> dict[int, str]:
    """Each non-ASCII letter that Unicode's confusables (UTS #39, via confusable-homoglyphs) say looks like one
    ASCII letter, mapped to that letter: Cyrillic а, е, о, р, с, у, х, і; Greek α, ο, ρ, ν, ι…"""
    table: dict[int, str] = {}
    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii() or not char.isalpha():
            continue
        latin = [glyph["c"] for glyph in homoglyphs if len(glyph["c"]) == 1 and glyph["c"].isascii()]
        letters = [glyph for glyph in latin if glyph.isalpha()]
        if letters:
            table[ord(char)] = letters[0]
    return table


LOOK_ALIKES = _look_alikes()
# Turkish casing: "İ" and "I" are both "i" here ("ı" is folded to "i" below), so Turkish and English casing agree.
CASING = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def fold(text: str) -> str:
    """The matching form of a text: NFKC, no hidden characters, look-alikes as ASCII letters, lower case, no
    accents (ş→s, ç→c, ğ→g, ı→i, ö→o, ü→u), repeated letters squeezed, single spaces."""
    if text.isascii():  # most English messages: nothing to fold but the case
        text = text.lower().replace("`", "'")
    else:
        text = unicodedata.normalize("NFKC", INVISIBLE.sub("", text))
        text = text.translate(CASING).translate(LOOK_ALIKES).lower().translate(CASING)
        text = APOSTROPHES.sub("'", COMBINING.sub("", unicodedata.normalize("NFKD", text)))
    return SPACES.sub(" ", REPEATS.sub(r"\1", text)).strip()

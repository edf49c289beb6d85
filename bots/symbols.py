"""Market symbols such as BIST:AKBNK, XAUUSD or BTCUSDT, with optional exchange prefix."""

from __future__ import annotations

import re
from typing import NamedTuple

SYMBOL_PATTERN = re.compile(r"^(?:(?P<exchange>[A-Z]{2,10}):)?(?P<ticker>[A-Z0-9][A-Z0-9._]{0,19})$")


class Symbol(NamedTuple):
    """A parsed symbol; exchange is empty when none was given."""

    exchange: str
    ticker: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.ticker}" if self.exchange else self.ticker


def parse_symbol(raw: str) -> Symbol:
    """Parse and normalise (upper case, trimmed); ValueError names the bad input."""
    match = SYMBOL_PATTERN.match(raw.strip().upper())
    if match is None:
        raise ValueError(f"{raw!r} is not a symbol like BIST:AKBNK, XAUUSD or BTCUSDT")
    return Symbol(match["exchange"] or "", match["ticker"])


def normalize_symbol(raw: str) -> str:
    """The canonical text form of a symbol."""
    return str(parse_symbol(raw))


def symbols_match(a: str, b: str) -> bool:
    """Same ticker, and the same exchange when both name one (AKBNK matches BIST:AKBNK)."""
    left, right = parse_symbol(a), parse_symbol(b)
    if left.ticker != right.ticker:
        return False
    return not (left.exchange and right.exchange) or left.exchange == right.exchange

"""Market symbols such as BIST:AKBNK, XAUUSD or BTCUSDT, with optional exchange prefix."""

from __future__ import annotations

import re
from enum import StrEnum
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


class AssetClass(StrEnum):
    """What market a symbol trades in."""

    BIST = "bist"  # Borsa Istanbul shares and indices (THYAO, BIST:AKBNK, XU100)
    CRYPTO = "crypto"  # coins against a quote (BTCUSDT, ETHTRY)
    FX = "fx"  # currency pairs (USDTRY, EURUSD)
    METAL = "metal"  # precious metals against a currency (XAUUSD, XAGTRY)


# The BIST 50 and other much-talked-about shares: a bare ticker is known to be BIST only when listed here.
BIST_TICKERS = frozenset(
    {
        *("AEFES", "AGHOL", "AKBNK", "AKSA", "AKSEN", "ALARK", "ARCLK", "ASELS", "ASTOR", "BIMAS", "BRSAN", "CCOLA"),
        *("CIMSA", "DOAS", "DOHOL", "EKGYO", "ENJSA", "ENKAI", "EREGL", "FROTO", "GARAN", "GUBRF", "HALKB", "HEKTS"),
        *("ISCTR", "ISMEN", "KCHOL", "KONTR", "KORDS", "KOZAA", "KOZAL", "KRDMD", "MAVI", "MGROS", "ODAS", "OTKAR"),
        *("OYAKC", "PETKM", "PGSUS", "QUAGR", "SAHOL", "SASA", "SISE", "SKBNK", "SMRTG", "SOKM", "TAVHL", "TCELL"),
        *("THYAO", "TKFEN", "TOASO", "TSKB", "TTKOM", "TTRAK", "TUPRS", "ULKER", "VAKBN", "VESTL", "YKBNK", "ZOREN"),
    }
)
BIST_INDEX = re.compile(r"^X[A-Z]{1,4}\d{0,3}$")  # XU100, XU030, XBANK, XUSIN
CRYPTO_EXCHANGES = frozenset({"BINANCE", "COINBASE", "KRAKEN", "BTCTURK", "PARIBU"})
COINS = frozenset(
    {
        *("BTC", "ETH", "USDT", "SOL", "XRP", "BNB", "ADA", "DOGE", "AVAX", "DOT", "LINK", "TRX", "TON", "MATIC"),
        *("POL", "LTC", "SHIB", "PEPE", "ARB", "OP", "ATOM", "NEAR", "APT", "SUI"),
    }
)
CRYPTO_QUOTES = ("USDT", "USDC", "FDUSD", "USD", "TRY", "EUR", "BTC", "ETH")
CURRENCIES = frozenset(
    {"USD", "EUR", "TRY", "GBP", "JPY", "CHF", "CNY", "RUB", "AUD", "CAD", "SEK", "NOK", "SAR", "AED"}
)
METALS = frozenset({"XAU", "XAG", "XPT", "XPD"})


def asset_class(raw: str) -> AssetClass | None:
    """The market of a symbol, or None when it is not one we know (an upper-case word is not always a ticker)."""
    try:
        exchange, ticker = parse_symbol(raw)
    except ValueError:
        return None
    base, quote = ticker[:3], ticker[3:]
    if exchange == "BIST" or ticker in BIST_TICKERS:
        return AssetClass.BIST
    if base in METALS and (not quote or quote in CURRENCIES):
        return AssetClass.METAL
    if exchange in CRYPTO_EXCHANGES or _is_coin_pair(ticker):
        return AssetClass.CRYPTO
    if len(ticker) == 6 and base in CURRENCIES and quote in CURRENCIES:
        return AssetClass.FX
    if not exchange and BIST_INDEX.match(ticker):
        return AssetClass.BIST
    return None


def _is_coin_pair(ticker: str) -> bool:
    if ticker in COINS:
        return True
    for quote in CRYPTO_QUOTES:
        if ticker.endswith(quote) and ticker[: -len(quote)] in COINS:
            return True
    return ticker.endswith(("USDT", "USDC")) and len(ticker) > 5  # any coin against a stablecoin


def canonical_symbol(raw: str) -> str:
    """The form stances are written in: BIST shares with their exchange (THYAO → BIST:THYAO), the rest as given."""
    symbol = parse_symbol(raw)
    if not symbol.exchange and symbol.ticker in BIST_TICKERS:
        return f"BIST:{symbol.ticker}"
    return str(symbol)


def suggested_symbols() -> tuple[str, ...]:
    """Symbols offered as suggestions where an operator types one: BIST shares and indices, coins, FX and metals."""
    shares = [f"BIST:{ticker}" for ticker in sorted(BIST_TICKERS)]
    coins = [f"{coin}USDT" for coin in sorted(COINS - {"USDT"})]
    fx = [f"{base}{quote}" for base in ("USD", "EUR", "GBP") for quote in ("TRY", "USD") if base != quote]
    metals = [f"{metal}{quote}" for metal in ("XAU", "XAG") for quote in ("USD", "TRY")]
    return (*shares, "XU100", "XU030", "XBANK", *coins, *fx, "EURGBP", *metals)

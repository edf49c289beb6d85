from __future__ import annotations

from django.test import SimpleTestCase

from bots.symbols import normalize_symbol, parse_symbol, symbols_match


class SymbolTests(SimpleTestCase):
    def test_it_parses_the_exchange_prefix(self) -> None:
        self.assertEqual(parse_symbol("bist:akbnk"), ("BIST", "AKBNK"))

    def test_it_keeps_symbols_without_exchange(self) -> None:
        self.assertEqual(normalize_symbol("xauusd"), "XAUUSD")

    def test_it_matches_with_or_without_prefix(self) -> None:
        self.assertTrue(symbols_match("AKBNK", "BIST:AKBNK"))
        self.assertTrue(symbols_match("BIST:AKBNK", "bist:akbnk"))

    def test_it_does_not_match_other_exchanges_or_tickers(self) -> None:
        self.assertFalse(symbols_match("NASDAQ:AKBNK", "BIST:AKBNK"))
        self.assertFalse(symbols_match("AKBNK", "GARAN"))

    def test_it_rejects_garbage(self) -> None:
        for raw in ("", "BIST:", "hello world", "B:AKBNK"):
            with self.assertRaises(ValueError):
                parse_symbol(raw)

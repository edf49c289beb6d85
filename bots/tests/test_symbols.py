from __future__ import annotations

from django.test import SimpleTestCase

from bots.symbols import AssetClass, asset_class, canonical_symbol, normalize_symbol, parse_symbol, symbols_match


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


class AssetClassTests(SimpleTestCase):
    def test_each_market_is_recognised_from_its_symbols(self) -> None:
        cases = {
            "THYAO": AssetClass.BIST,
            "BIST:ASELS": AssetClass.BIST,
            "EREGL": AssetClass.BIST,
            "XU100": AssetClass.BIST,
            "BTCUSDT": AssetClass.CRYPTO,
            "ETHUSDT": AssetClass.CRYPTO,
            "USDTTRY": AssetClass.CRYPTO,
            "BINANCE:SOLUSDT": AssetClass.CRYPTO,
            "USDTRY": AssetClass.FX,
            "EURTRY": AssetClass.FX,
            "XAUUSD": AssetClass.METAL,
            "XAGTRY": AssetClass.METAL,
        }
        for symbol, market in cases.items():
            with self.subTest(symbol=symbol):
                self.assertEqual(asset_class(symbol), market)

    def test_upper_case_words_that_are_no_symbol_have_no_market(self) -> None:
        for word in ("BININ", "USTUNDE", "KALIR", "HELLO", "NATO", "not a symbol"):
            with self.subTest(word=word):
                self.assertIsNone(asset_class(word))

    def test_bist_shares_are_written_with_their_exchange(self) -> None:
        self.assertEqual(canonical_symbol("thyao"), "BIST:THYAO")
        self.assertEqual(canonical_symbol("BIST:AKBNK"), "BIST:AKBNK")
        self.assertEqual(canonical_symbol("btcusdt"), "BTCUSDT")
        self.assertEqual(canonical_symbol("XAUUSD"), "XAUUSD")

from __future__ import annotations

from django.test import SimpleTestCase

from engine.services.topics import (
    infer_topic,
    market_symbols_in,
    mentions_topic,
    reply_quote,
    symbol_topic,
    symbols_in,
    topic_scores,
    topics_of,
)

TOPICS = ["BIST", "FX", "Kripto", "Makro"]


class TopicInferenceTests(SimpleTestCase):
    def test_infer_topic_follows_the_latest_talk(self) -> None:
        older_fx = ["Dolar bugün yine rekor kırdı", "Euro da fena değil, kur çok oynak"]
        assert infer_topic([*older_fx, "Bitcoin 100 bini geçer mi?", "Kripto tarafı hareketli"], TOPICS) == "Kripto"
        assert infer_topic(["Bitcoin 100 bini geçer mi?", *older_fx], TOPICS) == "FX"

    def test_later_messages_weigh_more_than_keyword_heavy_old_ones(self) -> None:
        texts = ["Borsa, hisse, endeks, bilanço, temettü: hepsi kötü", "Faiz kararı bugün açıklanıyor"]
        assert infer_topic(texts, TOPICS) == "Makro"
        scores = topic_scores(texts, TOPICS)
        assert scores["Makro"] > scores["BIST"] > 0

    def test_a_tie_goes_to_the_most_recent_topic(self) -> None:
        assert infer_topic(["Borsa sakin", "Borsa yine sakin", "Dolar hareketlendi"], TOPICS) == "FX"

    def test_a_tie_goes_to_the_chats_earlier_topic_in_every_process(self) -> None:
        # One text naming two topics: the tie was broken by a set's order, which PYTHONHASHSEED changes.
        text = ["Dolar endeksi zayıflarsa BTC için iyi haber."]
        assert infer_topic(text, ["FX", "Kripto"]) == "FX"
        assert infer_topic(text, ["Kripto", "FX"]) == "Kripto"
        assert list(topic_scores(text, ["Kripto", "FX"])) == ["Kripto", "FX"]

    def test_infer_topic_is_none_when_nothing_matches(self) -> None:
        assert infer_topic(["Günaydın millet", "Hava bugün çok güzel"], TOPICS) is None
        assert infer_topic([], TOPICS) is None

    def test_keywords_match_at_word_starts_only(self) -> None:
        # "eth" in "method" and "rate" in "separate" are not crypto or macro talk.
        assert infer_topic(["I like this method of keeping separate accounts"], TOPICS) is None
        assert mentions_topic("Borsada bugün hisseler yeşil", "BIST")
        assert mentions_topic("Dolardan kaçış başladı", "FX")

    def test_a_custom_topic_is_its_own_keyword(self) -> None:
        assert infer_topic(["Altın ons bazında yükseliyor"], ["Altın", "FX"]) == "Altın"


class SymbolTests(SimpleTestCase):
    def test_symbols_in_finds_tickers_with_and_without_exchange(self) -> None:
        text = "THYAO güçlü, BIST:AKBNK zayıf, BTCUSDT ve XU100 yatay"
        assert symbols_in(text) == ["THYAO", "BIST:AKBNK", "BTCUSDT", "XU100"]

    def test_symbols_in_ignores_ordinary_words_and_numbers(self) -> None:
        assert symbols_in("Bugün Dolar 32,5 oldu, borsa %3 düştü, 2024 zor geçti, 12:30'da faiz kararı") == []
        assert symbols_in("USD ve TL arasında, saat 12:30") == []


class AskedSymbolTests(SimpleTestCase):
    def test_the_members_questions_of_the_issue_name_their_symbols(self) -> None:
        cases = {
            "@kemal_bot BTCUSDT 100 binin üstünde kalır mı?": ["BTCUSDT"],
            "@burak_bot XAUUSD 2500'ü görür mü?": ["XAUUSD"],
            "@elif_bot THYAO bu hafta ne yapar?": ["BIST:THYAO"],
            "ASELS mi EREGL mi, hangisi?": ["BIST:ASELS", "BIST:EREGL"],
            "usdtry 40 olur mu sence?": ["USDTRY"],
        }
        for text, symbols in cases.items():
            with self.subTest(text=text):
                assert market_symbols_in(text) == symbols

    def test_ordinary_words_shouting_or_not_are_no_symbols(self) -> None:
        assert market_symbols_in("BUGÜN BORSA ÇOK KÖTÜ, BININ ÜSTÜNDE KALIR MI BİLMİYORUM") == []
        assert market_symbols_in("sasa sise dedi, hisseler karışık") == []  # lower-case short words stay words
        assert market_symbols_in("THYAO, thyao ve BIST:THYAO aynı şey") == ["BIST:THYAO"]

    def test_symbols_map_to_their_chat_topic(self) -> None:
        cases = {"BIST:THYAO": "BIST", "XU100": "BIST", "BTCUSDT": "Kripto", "USDTRY": "FX", "XAUUSD": "FX"}
        for symbol, topic in cases.items():
            with self.subTest(symbol=symbol):
                assert symbol_topic(symbol, TOPICS) == topic
        assert symbol_topic("XAUUSD", ["BIST", "Altın", "FX"]) == "Altın"  # gold's own topic when the chat has one
        assert symbol_topic("BTCUSDT", ["kripto"]) == "kripto"  # the chat's spelling
        assert symbol_topic("HELLO", TOPICS) is None

    def test_a_symbol_counts_as_talk_about_its_topic(self) -> None:
        assert topics_of("THYAO 300 olur mu?", TOPICS) == {"BIST"}
        assert infer_topic(["Dolar yükseldi", "ASELS bugün tavan"], TOPICS) == "BIST"


LONG = (
    "Selam arkadaşlar, bu hafta piyasada çok şey oldu ve ben de kafamı toplamaya çalışıyorum. Merkez bankası "
    "faiz kararını açıkladı, dolar biraz geriledi, altın yerinde sayıyor. Peki sizce faiz indirimi gelir mi? "
    "Bir de şunu merak ediyorum: thyao bu seviyeden alınır mı sizce? Bilanço iyi geldi."
)


class ReplyQuoteTests(SimpleTestCase):
    def test_a_long_message_is_quoted_at_the_sentence_naming_the_symbol_asked_about(self) -> None:
        quote = reply_quote(LONG, "BIST:THYAO")
        assert quote == "Bir de şunu merak ediyorum: thyao bu seviyeden alınır mı sizce?"
        assert quote in LONG  # Telegram needs an exact substring

    def test_without_a_symbol_the_first_question_is_quoted(self) -> None:
        assert reply_quote(LONG, None) == "Peki sizce faiz indirimi gelir mi?"

    def test_a_short_message_is_not_quoted(self) -> None:
        assert reply_quote("THYAO alınır mı?", "BIST:THYAO") is None

    def test_a_long_message_with_nothing_asked_is_not_quoted(self) -> None:
        assert reply_quote("Bugün piyasa sakin. " * 20, "BIST:THYAO") is None

    def test_a_sentence_past_telegrams_quote_limit_is_not_quoted(self) -> None:
        assert reply_quote("THYAO " + "çok " * 300 + "mi?", "BIST:THYAO") is None

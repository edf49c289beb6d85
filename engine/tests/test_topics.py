from __future__ import annotations

from django.test import SimpleTestCase

from engine.services.topics import infer_topic, mentions_topic, symbols_in, topic_scores

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

from __future__ import annotations

import random
import re

from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.schemas import Emotion, EmotionTone, Persona, PersonaTone
from engine.services.postprocess import (
    LENGTH_CAP,
    add_mention,
    cap_length,
    clean_output,
    compliance_problems,
    humanize,
    is_duplicate,
    stance_problems,
)

# --- clean_output ---------------------------------------------------------------------------------


class CleanOutputTests(SimpleTestCase):
    def test_clean_output_strips_quotes_and_a_name_label(self) -> None:
        for raw, expected in [
            ('"THYAO bugün çok güçlü."', "THYAO bugün çok güçlü."),
            ("“Dolar yine uçuyor”", "Dolar yine uçuyor"),
            ("Ayşe: Dolar yine uçuyor", "Dolar yine uçuyor"),
            ("Mehmet Bey: bence bekleyelim", "bence bekleyelim"),
            ('Ahmet: "selam millet"', "selam millet"),
            ("[12:30] Ahmet: piyasa sakin", "piyasa sakin"),
            ("[12:30] Bot 7: piyasa sakin", "piyasa sakin"),
            ("  Bot 7:   çok   boşluk  ", "çok boşluk"),
        ]:
            with self.subTest(raw=raw):
                assert clean_output(raw, bot_name="Bot 7") == expected

    def test_clean_output_keeps_tickers_times_fields_sentences_and_inner_quotes(self) -> None:
        for text in [
            "BIST:THYAO bugün güçlü görünüyor",
            "12:30'da faiz kararı açıklanacak",
            "THYAO: hedef 300 bence",
            'Hocam dedi ki "al" ama ben emin değilim',
            "Hedef: 320, stop 270.",
            "Ayşe olarak şunu söyleyeyim: sabır.",
            "Kısa vadede: 280 destek.",
            "My take: rates stay high.",
        ]:
            with self.subTest(text=text):
                assert clean_output(text, bot_name="Ayşe") == text


# --- compliance_problems --------------------------------------------------------------------------


class ComplianceTests(SimpleTestCase):
    def test_compliance_catches_profit_guarantees(self) -> None:
        for text in [
            "Bu hissede kesin kazanç var, kaçırmayın",
            "Garantili getiri arayan buraya",
            "Kâr garantili bir işlem bu",
            "It's a guaranteed profit, trust me",
            "You can't lose with this one",
            "You can’t lose with this one",
        ]:
            with self.subTest(text=text):
                assert any("kâr garantisi" in problem for problem in compliance_problems(text))

    def test_compliance_catches_direct_orders(self) -> None:
        for text in [
            "Hemen alın, fırsat kaçmasın",
            "Mutlaka satın bunu",
            "Hemen satın alın",
            "You should buy AKBNK",
            "Sell now!",
        ]:
            with self.subTest(text=text):
                assert any("talimat" in problem for problem in compliance_problems(text))

    def test_go_all_in_is_an_order(self) -> None:
        assert compliance_problems("Go all-in on BTCUSDT") == ["gives a direct buy/sell instruction (al/sat talimatı)"]

    def test_compliance_lets_ordinary_market_talk_through(self) -> None:
        for text in [
            "Ben dün THYAO aldım",
            "Satın almayı düşünüyorum ama emin değilim",
            "Bu seviyeler alım fırsatı olabilir",
            "Dün hemen satın aldım, şimdi bekliyorum",
            "I bought some AKBNK last week",
            "Kazanç beklentim düşük, temkinliyim",
            "Should I sell now or wait?",
        ]:
            with self.subTest(text=text):
                assert compliance_problems(text) == []


# --- stance_problems ------------------------------------------------------------------------------


class StanceProblemTests(SimpleTestCase):
    def test_stance_problems_flags_a_message_against_the_bots_view(self) -> None:
        for text, stances in [
            ("THYAO bu hafta sert düşecek", [("BIST:THYAO", "bullish")]),
            ("BIST:THYAO düşüyor, çıkın derim", [("THYAO", "bullish")]),
            ("Bitcoin çökecek, bence crash kapıda", [("Kripto", "bullish")]),
            ("AKBNK'da ralli başlıyor, yükseliş sürer", [("BIST:AKBNK", "bearish")]),
        ]:
            with self.subTest(text=text):
                assert len(stance_problems(text, stances)) == 1

    def test_stance_problems_accepts_consistent_mixed_or_unrelated_messages(self) -> None:
        for text, stances in [
            ("THYAO yükselişe devam eder", [("BIST:THYAO", "bullish")]),
            ("THYAO kısa vadede düşebilir ama sonra toparlanır", [("BIST:THYAO", "bullish")]),
            ("AKBNK düşecek gibi duruyor", [("BIST:THYAO", "bullish")]),
            ("Dolar düşüyor", [("Kripto", "bullish")]),
            ("THYAO düşecek", [("BIST:THYAO", "neutral")]),
        ]:
            with self.subTest(text=text):
                assert stance_problems(text, stances) == []

    def test_stance_problems_names_each_contradicted_view(self) -> None:
        problems = stance_problems(
            "THYAO ve AKBNK düşecek", [("THYAO", "bullish"), ("AKBNK", "bullish"), ("FX", "bearish")]
        )
        assert problems == ["contradicts the bullish view on THYAO", "contradicts the bullish view on AKBNK"]


# --- humanize -------------------------------------------------------------------------------------

TICKERS = ["THYAO", "BIST:AKBNK", "BTCUSDT", "XU100", "EURTRY"]
NUMBERS = ["12.5", "%3", "1.234,56", "300", "0,75", "%12,5", "2024"]
WORDS = ["bugün", "Dolar", "piyasa", "çok", "Bence", "güçlü", "yükseliş", "İstanbul", "Işık", "hedef", "ama"]
TOKEN = re.compile(r"(?:[A-Z]{2,10}:)?[A-Z]{2}[A-Z0-9]{2,10}|%?\d[\d.,]*\d|%?\d")
PUNCT = ["", ".", "!", "?", ",", "..."]
PERSONAS = [Persona(tone=tone, style={"emojis": emojis}) for tone in PersonaTone for emojis in (True, False)]
EMOTIONS = [Emotion(tone=tone, signature_emoji="🚀") for tone in EmotionTone] + [Emotion()]

message_words = st.lists(
    st.tuples(st.sampled_from(TICKERS + NUMBERS + WORDS), st.sampled_from(PUNCT)), min_size=1, max_size=12
).map(lambda pairs: " ".join(word + mark for word, mark in pairs))


def _protected_tokens(text: str) -> list[str]:
    return [token.rstrip(".,") for token in TOKEN.findall(text)]


def _touches(before: str, after: str, emoji: str) -> int:
    touches = 0
    if after.endswith(f" {emoji}") and not before.endswith(emoji):
        touches, after = touches + 1, after.removesuffix(f" {emoji}")
    if before.endswith(".") and not after.endswith("."):
        touches, before = touches + 1, before[:-1]
    return touches + sum(1 for a, b in zip(before, after, strict=False) if a != b)


class HumanizeTests(SimpleTestCase):
    @settings(max_examples=300, deadline=None)
    @given(
        text=message_words,
        persona=st.sampled_from(PERSONAS),
        emotion=st.sampled_from(EMOTIONS),
        seed=st.integers(0, 2**32),
    )
    def test_humanize_never_alters_tickers_or_numbers(
        self, text: str, persona: Persona, emotion: Emotion, seed: int
    ) -> None:
        out = humanize(text, persona=persona, emotion=emotion, rng=random.Random(seed))
        assert _protected_tokens(out) == _protected_tokens(text)
        for token in text.split():
            if TOKEN.fullmatch(token.rstrip(".,!?")):
                assert token.rstrip(".,!?") in out.split() or token.rstrip(".,!?") in out

    @settings(max_examples=200, deadline=None)
    @given(text=message_words, persona=st.sampled_from(PERSONAS), seed=st.integers(0, 2**32))
    def test_humanize_makes_at_most_two_touches(self, text: str, persona: Persona, seed: int) -> None:
        emotion = Emotion(signature_emoji="🚀")
        out = humanize(text, persona=persona, emotion=emotion, rng=random.Random(seed))
        assert _touches(text, out, "🚀") <= 2

    def test_humanize_touches_street_personas_and_leaves_professionals_alone(self) -> None:
        street = Persona(tone=PersonaTone.STREET, style={"emojis": False})
        professional = Persona(tone=PersonaTone.PROFESSIONAL, style={"emojis": False})
        text = "Bugün piyasa çok sakin."
        outs = {humanize(text, persona=street, emotion=Emotion(), rng=random.Random(seed)) for seed in range(40)}
        assert outs == {text, "bugün piyasa çok sakin"}
        assert all(
            humanize(text, persona=professional, emotion=Emotion(), rng=random.Random(seed)) == text
            for seed in range(40)
        )

    def test_humanize_adds_the_signature_emoji_only_when_the_persona_uses_emojis(self) -> None:
        emotion = Emotion(signature_emoji="🚀")
        with_emojis = Persona(tone=PersonaTone.PROFESSIONAL, style={"emojis": True})
        without = Persona(tone=PersonaTone.PROFESSIONAL, style={"emojis": False})
        text = "THYAO güçlü"
        assert {humanize(text, persona=with_emojis, emotion=emotion, rng=random.Random(s)) for s in range(40)} == {
            text,
            f"{text} 🚀",
        }
        assert {humanize(text, persona=without, emotion=emotion, rng=random.Random(s)) for s in range(40)} == {text}

    def test_humanize_never_lowercases_a_name_a_ticker_or_the_start_of_a_name(self) -> None:
        street = Persona(tone=PersonaTone.STREET, style={"emojis": False})
        names = frozenset({"Kemal", "Aydın", "Üye", "Ali", "Elif"})
        for text in [
            "Kemal Aydın, mantıklı.",
            "Üye Ali, güzel soru.",
            "Elif haklı bence.",
            "Kemal'e katılıyorum.",
            "Mehmet'in dediği doğru.",
            "Merkez Bankası faizi sabit tutar.",
            "THYAO güçlü.",
            "BTCUSDT yine 100 binde.",
        ]:
            with self.subTest(text=text):
                outs = {
                    humanize(text, persona=street, emotion=Emotion(), rng=random.Random(seed), names=names)
                    for seed in range(20)
                }
                assert {out.split(" ")[0] for out in outs} == {text.split(" ")[0]}
        # An ordinary first word is still lowercased now and then.
        text = "Bugün piyasa sakin, Elif haklı."
        outs = {humanize(text, persona=street, emotion=Emotion(), rng=random.Random(s), names=names) for s in range(20)}
        assert "bugün piyasa sakin, Elif haklı" in outs

    def test_humanize_does_not_lowercase_a_turkish_capital_i(self) -> None:
        street = Persona(tone=PersonaTone.STREET, style={"emojis": False})
        for seed in range(20):
            out = humanize("İstanbul borsası sakin", persona=street, emotion=Emotion(), rng=random.Random(seed))
            assert out == "İstanbul borsası sakin"


# --- is_duplicate ---------------------------------------------------------------------------------

# Short texts over a small alphabet (with Turkish letters, punctuation and an emoji) make near pairs likely.
similar_texts = st.text(alphabet="aıiİIçğ şo0.,!?_🚀", max_size=30)


class IsDuplicateTests(SimpleTestCase):
    def test_is_duplicate_catches_exact_copies_modulo_case_punctuation_emoji_and_accents(self) -> None:
        for copy in [
            "THYAO bugün çok güçlü görünüyor",
            "thyao BUGÜN çok güçlü görünüyor!!!",
            "THYAO bugun cok guclu gorunuyor 🚀",
            "THYAO, bugün... çok güçlü görünüyor?",
        ]:
            with self.subTest(copy=copy):
                assert is_duplicate(copy, ["Dolar sakin", "THYAO bugün çok güçlü görünüyor"])

    def test_is_duplicate_folds_the_dotless_i(self) -> None:
        assert is_duplicate("Altin alimi icin doğru zaman", ["Altın alımı için doğru zaman"])

    def test_is_duplicate_catches_a_near_copy_from_another_bot(self) -> None:
        other_bot = "Dolar bu hafta 32 seviyesini test eder bence, dikkatli olun"
        assert is_duplicate("Dolar bu hafta 32 seviyesini zorlar bence, dikkatli olun", [other_bot])
        assert is_duplicate(
            "THYAO bugün çok zayıf görünüyor, hedef yukarı", ["THYAO bugün çok güçlü görünüyor, hedef yukarı"]
        )

    def test_is_duplicate_lets_different_messages_on_the_same_topic_through(self) -> None:
        recent = ["Dolar bu hafta 32 seviyesini test eder bence", "Euro/dolar paritesi düşüşte, dolar güçleniyor"]
        for text in [
            "Dolar 32'yi aşarsa TCMB devreye girer, rezervler de zayıf",
            "Kur tarafında bu hafta sakinlik var, ben euro tutuyorum",
            "USDTRY grafiğinde direnç 32,40, kırılırsa hızlanır",
        ]:
            with self.subTest(text=text):
                assert not is_duplicate(text, recent)

    @given(similar_texts, similar_texts)
    @settings(max_examples=400, deadline=None)
    def test_is_duplicate_decides_like_a_plain_sequence_matcher(self, text: str, other: str) -> None:
        # The fast path (cached normal forms, bounds before ratio) must not change any verdict.
        import unicodedata
        from difflib import SequenceMatcher

        def reference_normal(value: str) -> str:
            decomposed = unicodedata.normalize("NFKD", value.casefold().replace("ı", "i"))
            return " ".join("".join(ch for ch in decomposed if ch.isalnum() or ch.isspace()).split())

        a, b = reference_normal(text), reference_normal(other)
        expected = not a or a == b or SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.82
        assert is_duplicate(text, [other]) == expected

    def test_is_duplicate_with_nothing_recent_is_false_and_an_empty_message_is_a_duplicate(self) -> None:
        assert not is_duplicate("THYAO güçlü", [])
        assert is_duplicate("🚀🚀", ["THYAO güçlü"])


# --- add_mention, cap_length ----------------------------------------------------------------------


class AddMentionTests(SimpleTestCase):
    def test_add_mention_prefixes_the_handle_once(self) -> None:
        assert add_mention("katılıyorum", "ayse_bot") == "@ayse_bot katılıyorum"
        assert add_mention("@Ayse_Bot katılıyorum", "ayse_bot") == "@Ayse_Bot katılıyorum"
        assert add_mention(add_mention("katılıyorum", "ayse_bot"), "ayse_bot") == "@ayse_bot katılıyorum"
        assert add_mention("katılıyorum", None) == "katılıyorum"
        assert add_mention("katılıyorum", "") == "katılıyorum"

    def test_add_mention_is_not_fooled_by_a_longer_handle(self) -> None:
        assert add_mention("@ali_bey haklı", "ali") == "@ali @ali_bey haklı"
        assert add_mention("haklısın", "@ali") == "@ali haklısın"


class CapLengthTests(SimpleTestCase):
    def test_cap_length_leaves_short_text_alone(self) -> None:
        text = "Kısa bir mesaj."
        assert cap_length(text, "short") == text
        assert cap_length("x" * 4000, "unknown") == "x" * 4000

    def test_cap_length_cuts_at_a_sentence_boundary(self) -> None:
        sentence = "Piyasa bugün oldukça hareketli geçti. "
        for length in ["short", "medium", "long"]:
            with self.subTest(length=length):
                out = cap_length(sentence * 40, length)
                assert len(out) <= LENGTH_CAP[length]
                assert out.endswith("geçti.")
                assert len(out) > LENGTH_CAP[length] // 2

    def test_cap_length_cuts_at_a_word_boundary_when_there_is_no_sentence_end(self) -> None:
        text = " ".join(["yükseliş"] * 200)
        for length in ["short", "medium", "long"]:
            with self.subTest(length=length):
                out = cap_length(text, length)
                assert len(out) <= LENGTH_CAP[length]
                assert out.endswith("yükseliş…")

    def test_cap_length_never_exceeds_the_cap_even_without_spaces(self) -> None:
        out = cap_length("x" * 1000, "short")
        assert len(out) == LENGTH_CAP["short"]
        assert out.endswith("…")

    def test_cap_length_keeps_a_sentence_that_ends_exactly_at_the_cap(self) -> None:
        cap = LENGTH_CAP["short"]
        first = "a" * (cap - 1) + "."
        assert cap_length(first + " Devamı var.", "short") == first

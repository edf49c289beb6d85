"""The output defences against injected instructions: no leaked prompt, no links unless allowed, no strangers."""

from __future__ import annotations

from typing import Any

from django.test import SimpleTestCase

from config.testing.injection_corpus import ATTACKS, FACTS, NORMAL
from engine.outputs import OutputReason
from engine.services import exposure, screening


def screened(text: str, language: str, **overrides: Any) -> screening.Screened:
    return screening.screen(text, facts=screening.facts_for(**{**FACTS, "language": language, **overrides}))


class InjectionCorpusTests(SimpleTestCase):
    """Each attack output is skipped or cleaned as its row says; the bot's normal outputs pass untouched."""

    def test_the_corpus_covers_each_defence_in_both_languages(self) -> None:
        kinds = {(ident.split("-")[0], language) for ident, language, _, _ in ATTACKS}
        for kind in ("prompt", "bio", "memory", "holdings", "link", "mention"):
            for language in ("tr", "en"):
                with self.subTest(kind=kind, language=language):
                    assert (kind, language) in kinds

    def test_a_leak_of_the_hidden_prompt_is_skipped(self) -> None:
        for ident, language, raw, expected in ATTACKS:
            if expected == "leak":
                with self.subTest(ident):
                    result = screened(raw, language)
                    assert (result.skip, result.text) == (OutputReason.LEAK, "")

    def test_links_and_unknown_handles_are_stripped_and_the_rest_is_sent(self) -> None:
        for ident, language, raw, expected in ATTACKS:
            if isinstance(expected, tuple):
                text, reason = expected
                with self.subTest(ident):
                    result = screened(raw, language)
                    assert (result.text, result.skip, result.repair) == (text, None, ())
                    assert [str(found) for found in result.cleaned] == [reason]

    def test_normal_outputs_pass_untouched(self) -> None:
        for language, raw in NORMAL:
            with self.subTest(raw):
                result = screened(raw, language)
                assert (result.text, result.cleaned, result.repair, result.skip) == (raw, (), (), None)


class SettingTests(SimpleTestCase):
    """What the facts of a turn switch on and off."""

    def test_a_link_stays_when_links_are_allowed(self) -> None:
        text = "Detaylar burada: https://www.kap.org.tr/tr/Bildirim/1234567"
        assert screened(text, "tr", links_allowed=True).text == text
        assert screened(text, "tr").text == "Detaylar burada"

    def test_handles_are_not_checked_when_the_chat_is_unknown(self) -> None:
        assert screened("@randomuser haklı.", "tr", handles=None).text == "@randomuser haklı."

    def test_a_disguised_leak_is_still_one(self) -> None:
        bio = (
            "Ben İstanbul\u2019da yaşayan 52 yaşında em\u0435kli bir bank\u0430cı" + "\u200b" + "yım."
        )  # Cyrillic е, а
        assert screened(bio, "tr").skip == OutputReason.LEAK

    def test_one_holding_or_one_memory_is_what_the_persona_would_say(self) -> None:
        for text in ["THYAO'da 500 lotum var, satmayı düşünmüyorum.", "Ayşe geçen hafta ASELS'te zarar etti, üzüldüm."]:
            with self.subTest(text):
                assert screened(text, "tr").skip is None


class PieceTests(SimpleTestCase):
    def test_links_are_found_in_their_usual_forms_and_numbers_abbreviations_are_not_links(self) -> None:
        for text, found in [
            ("https://example.com/x", True),
            ("www.example.com", True),
            ("t.me/joinchat/abc", True),
            ("bit.ly/x", True),
            ("kap.org.tr", True),
            ("ornek.com.tr'de", True),
            ("BTC 97.500, altın 2.650", False),
            ("A.Ş. ve vs. ile e.g. i.e.", False),
            ("BIST:THYAO 285.5", False),
            ("Fiyat 3.5 kat arttı.Sonra düştü", False),
        ]:
            with self.subTest(text):
                assert exposure.has_link(text) is found

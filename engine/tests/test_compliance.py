"""The compliance guard: what people actually write, in Turkish and English, disguised or not."""

from __future__ import annotations

from collections import Counter

from django.test import SimpleTestCase

from config.testing.compliance_corpus import ALLOWED, BLOCKED, ZWSP
from engine.services import compliance
from engine.services.compliance import Finding, findings
from engine.services.normalize import fold
from engine.services.postprocess import compliance_problems

RECALL_TARGET = 0.97
PRECISION_TARGET = 0.95


class IssuePhrasingTests(SimpleTestCase):
    """The phrasings issue #20 found the old guard missing."""

    def test_the_phrasings_missed_before_are_caught(self) -> None:
        for text, expected in [
            ("Hemen THYAO alın!", [Finding.ORDER]),
            ("THYAO al, kaçırma!", [Finding.ORDER]),
            ("Bu hisse kesin uçar, alın.", [Finding.GUARANTEE, Finding.ORDER]),
            ("THYAO alın arkadaşlar, yüzde yüz kazandırır.", [Finding.GUARANTEE, Finding.ORDER]),
            ("Buy THYAO now", [Finding.ORDER]),
            ("You should definitely buy THYAO.", [Finding.ORDER]),
            ("Load up on THYAO, guaranteed 50% returns.", [Finding.GUARANTEE, Finding.ORDER]),
        ]:
            with self.subTest(text=text):
                assert findings(text) == expected

    def test_a_bots_own_past_hedged_or_questioning_talk_passes(self) -> None:
        for text in ["THYAO aldım", "ben satmayı düşünüyorum", "should I sell?", "I bought some"]:
            with self.subTest(text=text):
                assert findings(text) == []

    def test_the_problems_keep_the_words_the_repair_call_uses(self) -> None:
        assert compliance_problems("THYAO alın, kâr garanti.") == [
            "promises a profit (kâr garantisi)",
            "gives a direct buy/sell instruction (al/sat talimatı)",
        ]


class DisguiseTests(SimpleTestCase):
    """Look-alike letters, hidden characters and casing change nothing."""

    def test_a_disguised_order_is_caught_like_the_plain_one(self) -> None:
        for disguised in [
            "Hemen THYAO \u0430l\u0131n!",  # Cyrillic а
            "Hemen THYAO al" + ZWSP + "ın!",
            "HEMEN THYAO ALIN!",
            "hemen thyao alin!",
            "B\u0075\u0443 THYAO now",  # Cyrillic у
            "𝐁𝐮𝐲 𝐓𝐇𝐘𝐀𝐎 𝐧𝐨𝐰",
            "\u202eBuy THYAO now\u202c",
        ]:
            with self.subTest(text=disguised):
                assert findings(disguised) == [Finding.ORDER]

    def test_fold_reads_look_alikes_hidden_characters_and_turkish_casing_as_the_word(self) -> None:
        for text, folded in [
            ("\u0410L\u0130N", "alin"),  # Cyrillic А, Turkish İ
            ("al\u200bın", "alin"),
            ("SATIN ALIN", "satin alin"),
            ("Kaçırmayınnnn", "kacirmayin"),
            ("ｂｕｙ", "buy"),
            ("g\u03c5\u0430r\u0430nteed", "guaranteed"),  # Greek υ, Cyrillic а
            ("THYAO’yu", "thyao'yu"),
        ]:
            with self.subTest(text=text):
                assert fold(text) == folded


class CorpusTests(SimpleTestCase):
    """The labelled corpus (`config/testing/compliance_corpus.py`) and the guard's precision and recall on it."""

    def test_the_corpus_holds_over_300_messages_about_half_blocked_in_both_languages(self) -> None:
        total = len(BLOCKED) + len(ALLOWED)
        assert total >= 300
        assert 0.4 <= len(BLOCKED) / total <= 0.6
        assert len({text for _, text in BLOCKED + ALLOWED}) == total
        for rows in (BLOCKED, ALLOWED):
            languages = Counter(language for language, _ in rows)
            assert set(languages) == {"tr", "en"}
            assert min(languages.values()) >= 60, languages

    def test_precision_and_recall_on_the_corpus_meet_the_targets(self) -> None:
        caught = sum(bool(findings(text)) for _, text in BLOCKED)
        false = sum(bool(findings(text)) for _, text in ALLOWED)
        recall, precision = caught / len(BLOCKED), caught / max(caught + false, 1)
        print(f"compliance corpus: {len(BLOCKED)} blocked, {len(ALLOWED)} allowed; "
              f"recall {recall:.3f}, precision {precision:.3f}")  # fmt: skip
        assert recall >= RECALL_TARGET, [text for _, text in BLOCKED if not findings(text)]
        assert precision >= PRECISION_TARGET, [text for _, text in ALLOWED if findings(text)]

    def test_the_first_cheap_test_never_hides_a_finding(self) -> None:
        for _, text in BLOCKED + ALLOWED:
            with self.subTest(text=text):
                folded = compliance.QUOTED_SPEECH.sub(" ", fold(text))
                assert findings(text) == compliance.matched(folded)

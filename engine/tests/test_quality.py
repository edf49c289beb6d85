"""The quality figures on hand-made transcripts, their bands, and the loader's fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from django.test import SimpleTestCase, TestCase
from django.utils import timezone

from bots.models import Bot, Stance
from bots.services import bot_create
from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from engine.models import Turn
from engine.quality import members, talk, text
from engine.quality.loading import transcript_load
from engine.quality.report import FIGURES, Band, Bands, figures
from engine.quality.selectors import quality_report
from engine.quality.transcript import BotFacts, Line, Transcript

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEMAL, ELIF, MERT = 1, 2, 3
BOTS = {
    KEMAL: BotFacts("Kemal Aydın", "kemal_bot", stances=(("BIST", "bullish"),), signature_phrases=("Sabır kazanır.",)),
    ELIF: BotFacts("Elif Şahin", "elif_bot", stances=(("Kripto", "bearish"),)),
    MERT: BotFacts("Mert Demir", "mert_bot"),
}


class Script:
    """A transcript written line by line: bots by id, members by name, ten seconds apart unless told."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.ids = count(1)
        self.at = T0

    def bot(self, bot_id: int, text: str, *, reply_to: int | None = None, after: float = 10, **kw: object) -> int:
        return self._add(text, f"bot:{bot_id}", BOTS[bot_id].name, after, bot_id=bot_id, reply_to=reply_to, **kw)

    def member(self, name: str, text: str, *, to: int | None = None, after: float = 10, **kw: object) -> int:
        return self._add(text, f"member:{name}", name, after, addressed_bot=to, **kw)

    def _add(self, text_: str, speaker: str, name: str, after: float, **kw: object) -> int:
        self.at += timedelta(seconds=after)
        line = Line(id=next(self.ids), at=self.at, text=text_, speaker=speaker, speaker_name=name, **kw)  # type: ignore[arg-type]
        self.lines.append(line)
        return line.id

    def transcript(self, **kw: object) -> Transcript:
        kw.setdefault("bots", BOTS)
        kw.setdefault("until", self.at + timedelta(minutes=10))
        return Transcript(lines=tuple(self.lines), **kw)  # type: ignore[arg-type]


EMPTY = Transcript(lines=(), bots=BOTS, until=T0)


class EmptyWindowTests(SimpleTestCase):
    def test_an_empty_window_measures_nothing_and_bands_nothing_but_participation(self) -> None:
        for figure in figures(EMPTY):
            with self.subTest(figure.spec.key):
                if figure.spec.key in ("bots_active", "members_active"):
                    continue
                self.assertIsNone(figure.value)
                self.assertEqual(figure.band, Band.NONE)
                self.assertEqual(figure.display, "—")

    def test_no_bot_of_an_empty_window_was_active(self) -> None:
        self.assertEqual(talk.bots_active(EMPTY).value, 0.0)
        self.assertEqual(talk.members_active(EMPTY).value, 0.0)

    def test_every_figure_has_a_definition_and_a_unique_key(self) -> None:
        keys = [spec.key for spec in FIGURES]
        self.assertEqual(len(keys), len(set(keys)))
        for spec in FIGURES:
            self.assertTrue(spec.definition.endswith("."), spec.key)


class ParticipationTests(SimpleTestCase):
    def test_bots_active_counts_eligible_bots_that_spoke(self) -> None:
        script = Script()
        script.bot(KEMAL, "BIST bugün sakin.")
        script.member("Ali", "Merhaba")
        bots = BOTS | {MERT: BotFacts("Mert Demir", eligible=False)}
        self.assertAlmostEqual(talk.bots_active(script.transcript(bots=bots)).value or 0, 1 / 2)
        self.assertEqual(talk.members_active(script.transcript()).value, 1.0)

    def test_one_speaker_makes_the_gini_high_and_equal_counts_make_it_zero(self) -> None:
        one = Script()
        for _ in range(3):
            one.bot(KEMAL, "Borsa sakin.")
        self.assertAlmostEqual(talk.speaker_gini(one.transcript()).value or 0, 2 / 3)
        even = Script()
        for bot_id in (KEMAL, ELIF, MERT):
            even.bot(bot_id, "Piyasa sakin.")
        self.assertEqual(talk.speaker_gini(even.transcript()).value, 0.0)

    def test_the_gini_of_a_single_eligible_bot_is_zero(self) -> None:
        script = Script()
        script.bot(KEMAL, "Borsa sakin.")
        self.assertEqual(talk.speaker_gini(script.transcript(bots={KEMAL: BOTS[KEMAL]})).value, 0.0)

    def test_same_speaker_in_a_row_counts_bot_messages_after_their_own(self) -> None:
        script = Script()
        script.bot(KEMAL, "Bir.")
        script.bot(KEMAL, "İki.")
        script.member("Ali", "Araya giriyorum.")
        script.bot(KEMAL, "Üç.")
        script.bot(ELIF, "Dört.")
        measure = talk.same_speaker_in_a_row(script.transcript())
        self.assertAlmostEqual(measure.value or 0, 1 / 3)
        self.assertEqual(measure.detail, "1 of 3")

    def test_reactions_are_not_talk(self) -> None:
        script = Script()
        script.bot(KEMAL, "Bir.")
        script.bot(KEMAL, "👍", kind="reaction")
        self.assertEqual(talk.same_speaker_in_a_row(script.transcript()).value, None)


class VarietyTests(SimpleTestCase):
    def test_distinct_n_is_unique_over_all_ngrams_of_bot_messages(self) -> None:
        script = Script()
        script.bot(KEMAL, "altın yükselir")
        script.bot(ELIF, "altın yükselir mi")
        script.member("Ali", "hiç alakasız kelimeler burada")
        self.assertAlmostEqual(talk.distinct(script.transcript(), 1).value or 0, 3 / 5)
        self.assertAlmostEqual(talk.distinct(script.transcript(), 2).value or 0, 2 / 3)

    def test_ngrams_never_span_two_messages_and_ignore_handles(self) -> None:
        self.assertEqual(text.ngrams(text.words("@kemal_bot Altın, yükselir!"), 2), [("altın", "yükselir")])

    def test_the_adjusted_distinct_2_averages_fixed_segments(self) -> None:
        script = Script()
        for i in range(60):
            script.bot(KEMAL, f"kelime{i} aynı aynı")  # 2 bigrams each: one new, one repeated
        measure = talk.distinct_2_adjusted(script.transcript())
        self.assertAlmostEqual(measure.value or 0, 51 / 100)
        self.assertEqual(measure.detail, "1 segments of 100 bigrams")

    def test_a_leading_name_is_one_opener_whoever_is_addressed(self) -> None:
        script = Script()
        script.member("Üye Ali", "BIST nereye?")
        script.bot(KEMAL, "Üye Ali, mantıklı.")
        script.bot(ELIF, "Kemal Aydın, mantıklı bence.")
        script.bot(MERT, "Kemal, mantıklı.")
        script.bot(KEMAL, "Bence borsa yükselir.")
        transcript = script.transcript()
        self.assertEqual(talk.openers(transcript).most_common(1), [("<name> mantıklı", 3)])
        self.assertAlmostEqual(talk.top_opener(transcript).value or 0, 3 / 4)
        self.assertAlmostEqual(talk.name_openers(transcript).value or 0, 3 / 4)

    def test_a_name_must_end_at_a_word_boundary_to_count(self) -> None:
        self.assertEqual(text.opener("Elifba gibi kolay", ["Elif"]), "elifba gibi")

    def test_trigram_reuse_is_the_worst_bots_share_and_needs_seven_messages(self) -> None:
        script = Script()
        for i in range(7):
            script.bot(KEMAL, f"BIST konusunda kararsızım {i}" if i < 4 else f"başka bir şey {i}")
        for _ in range(6):
            script.bot(ELIF, "aynı cümle hep aynı")
        measure = talk.trigram_reuse(script.transcript())
        self.assertAlmostEqual(measure.value or 0, 4 / 7)
        self.assertIn("bist konusunda kararsızım", measure.detail)

    def test_signature_phrases_count_per_message_of_the_bot(self) -> None:
        script = Script()
        for i in range(7):
            script.bot(KEMAL, f"Bence {i}. sabır kazanır!" if i < 2 else f"Düz metin {i}")
        self.assertAlmostEqual(talk.signature_phrase_share(script.transcript()).value or 0, 2 / 7)

    def test_near_duplicates_sent_use_the_engines_dedup_test(self) -> None:
        script = Script()
        script.bot(KEMAL, "Altın bu hafta 2400 dolar üstünde kalır bence.")
        script.bot(ELIF, "altın bu hafta 2400 dolar üstünde kalır bence!!")
        script.bot(MERT, "Kripto tarafında hareket yok.")
        self.assertEqual(talk.duplicates_sent(script.transcript()).value, 1.0)

    def test_near_duplicates_rejected_are_the_dedup_skips_over_turns_generated(self) -> None:
        transcript = Transcript(lines=(), turns_written=20, duplicates_rejected=3)
        self.assertAlmostEqual(talk.duplicates_rejected(transcript).value or 0, 0.15)


class StanceTests(SimpleTestCase):
    def test_views_split_evenly_have_high_entropy_and_no_convergence(self) -> None:
        script = Script()
        script.bot(KEMAL, "Borsa yükselir.", topic="BIST")
        script.bot(ELIF, "Borsa düşecek.", topic="BIST")
        script.bot(MERT, "Borsa yatay.", topic="BIST")
        transcript = script.transcript()
        self.assertAlmostEqual(talk.stance_entropy(transcript).value or 0, 1.0)
        self.assertAlmostEqual(talk.convergence(transcript).value or 0, 1 / 3)

    def test_a_crowd_of_one_view_has_zero_entropy_and_full_convergence(self) -> None:
        script = Script()
        for bot_id in (KEMAL, ELIF, MERT):
            script.bot(bot_id, "Bitcoin yükselir, ralli geliyor.")  # no turn topic: the keywords say Kripto
        transcript = script.transcript()
        self.assertEqual(talk.stance_entropy(transcript).value, 0.0)
        self.assertEqual(talk.convergence(transcript).value, 1.0)

    def test_contradictions_use_the_bots_own_stances(self) -> None:
        script = Script()
        script.bot(KEMAL, "BIST düşecek gibi.")  # Kemal is bullish on BIST
        script.bot(ELIF, "BIST düşecek gibi.")  # Elif has no BIST stance
        self.assertAlmostEqual(talk.stance_contradictions(script.transcript()).value or 0, 1 / 2)

    def test_compliance_flags_profit_promises_and_orders(self) -> None:
        script = Script()
        script.bot(KEMAL, "Hemen alın, kâr garantili!")
        script.bot(ELIF, "Ben biraz bekleyeceğim.")
        self.assertAlmostEqual(talk.compliance_flags(script.transcript()).value or 0, 1 / 2)

    def test_messages_in_another_language_lower_the_chat_language_share(self) -> None:
        script = Script()
        script.bot(KEMAL, "Bence borsa bu hafta yükselir.")
        script.bot(ELIF, "I think the market will rally this week.")
        script.bot(MERT, "🚀")  # no sign of a language: not counted
        measure = talk.chat_language(script.transcript(languages={0: "tr"}))
        self.assertAlmostEqual(measure.value or 0, 1 / 2)
        self.assertEqual(text.language("What do you think about THYAO?"), "en")
        self.assertEqual(text.language("THYAO için ne düşünüyorsun?"), "tr")


class MemberTests(SimpleTestCase):
    def test_answered_counts_addressed_member_messages_with_a_reply(self) -> None:
        script = Script()
        asked = script.member("Ali", "@kemal_bot THYAO ne olur?", to=KEMAL)
        script.member("Ali", "@elif_bot BTCUSDT?", to=ELIF)
        script.member("Veli", "genel bir yorum")  # addressed to no bot: not counted
        script.bot(KEMAL, "THYAO için sabırlıyım.", reply_to=asked, after=12)
        measure = members.answered(script.transcript())
        self.assertAlmostEqual(measure.value or 0, 1 / 2)

    def test_an_unanswered_message_too_new_to_be_answered_is_not_counted(self) -> None:
        script = Script()
        script.member("Ali", "@kemal_bot THYAO?", to=KEMAL)
        self.assertIsNone(members.answered(script.transcript(until=script.at + timedelta(seconds=30))).value)

    def test_a_young_message_already_answered_counts(self) -> None:
        script = Script()
        asked = script.member("Ali", "@kemal_bot THYAO?", to=KEMAL)
        script.bot(KEMAL, "THYAO güçlü.", reply_to=asked, after=5)
        self.assertEqual(members.answered(script.transcript(until=script.at + timedelta(seconds=1))).value, 1.0)

    def test_latency_percentiles_are_to_the_first_reply(self) -> None:
        script = Script()
        for wait in (5, 10, 20, 40):
            asked = script.member("Ali", "@kemal_bot XU100?", to=KEMAL)
            script.bot(KEMAL, "XU100 yatay.", reply_to=asked, after=wait)
            script.bot(ELIF, "XU100 bence de yatay.", reply_to=asked, after=100)
        transcript = script.transcript()
        self.assertEqual(members.latency(transcript, 50).value, 10.0)
        self.assertEqual(members.latency(transcript, 95).value, 40.0)

    def test_an_answer_by_another_bot_before_the_addressed_one_is_not_first(self) -> None:
        script = Script()
        asked = script.member("Ali", "@elif_bot ETH?", to=ELIF)
        script.bot(MERT, "ETH bence de önemli.", reply_to=asked, after=2)
        script.bot(ELIF, "ETH için temkinliyim.", reply_to=asked)
        other = script.member("Ali", "@kemal_bot BIST?", to=KEMAL)
        script.bot(KEMAL, "BIST iyi.", reply_to=other)
        self.assertAlmostEqual(members.addressed_first(script.transcript()).value or 0, 1 / 2)

    def test_on_topic_replies_name_the_symbol_or_the_topic_asked_about(self) -> None:
        script = Script()
        thy = script.member("Ali", "@kemal_bot THYAO bu hafta nereye?", to=KEMAL)
        script.bot(KEMAL, "BIST konusunda pozitifim.", reply_to=thy)  # about something else
        script.bot(ELIF, "thyao bence 300 üstü.", reply_to=thy)
        btc = script.member("Ali", "@elif_bot BTCUSDT 100 binin üstünde kalır mı?", to=ELIF)
        script.bot(ELIF, "Kripto tarafında temkinliyim.", reply_to=btc)  # "btc" makes it a Kripto question
        gold = script.member("Ali", "@mert_bot BIST:EREGL?", to=MERT)
        script.bot(MERT, "EREGL zayıf.", reply_to=gold)
        lira = script.member("Ali", "@mert_bot USDTRY yıl sonu?", to=MERT)  # "usdtry" is an FX keyword
        script.bot(MERT, "FX için net bir yön göremiyorum.", reply_to=lira)  # names the topic: on topic
        script.member("Ali", "@mert_bot naber?", to=MERT)  # asks about nothing: not counted
        self.assertAlmostEqual(members.on_topic(script.transcript()).value or 0, 4 / 5)

    def test_a_symbol_asks_about_its_topic_when_its_ticker_or_exchange_says_so(self) -> None:
        topics = ("BIST", "FX", "Kripto", "Makro")
        for message, symbols, asked in (
            ("BTCUSDT 100 bin olur mu?", ("BTCUSDT",), ("Kripto",)),
            ("USDTRY yıl sonu?", ("USDTRY",), ("FX",)),  # "usdtry" (FX) is longer than "usdt" (Kripto)
            ("BIST:THYAO ne olur?", ("BIST:THYAO",), ("BIST",)),
            ("THYAO ne olur?", ("THYAO",), ()),  # nothing says THYAO is BIST: the reply must name it
            ("THYAO ve dolar?", ("THYAO",), ("FX",)),
        ):
            with self.subTest(message):
                self.assertEqual(members.asked_subjects(message, topics), members.Subjects(symbols, asked))

    def test_a_bot_answering_one_message_twice_is_a_doubled_reply(self) -> None:
        script = Script()
        asked = script.member("Ali", "@kemal_bot THYAO?", to=KEMAL)
        script.bot(KEMAL, "THYAO güçlü.", reply_to=asked)
        script.bot(KEMAL, "THYAO için bir şey daha.", reply_to=asked, after=4)
        script.bot(ELIF, "Katılıyorum.", reply_to=asked)
        measure = members.doubled_replies(script.transcript())
        self.assertEqual(measure.value, 1.0)
        self.assertEqual(measure.detail, "1 of 2 (bot, message) threads")

    def test_two_bots_answering_each_other_four_times_is_a_ping_pong_chain(self) -> None:
        script = Script()
        first = script.bot(KEMAL, "Borsa yükselir.")
        second = script.bot(ELIF, "Hayır.", reply_to=first)
        third = script.bot(KEMAL, "Evet.", reply_to=second)
        fourth = script.bot(ELIF, "Hayır dedim.", reply_to=third)
        script.bot(KEMAL, "Peki.", reply_to=fourth)
        script.bot(MERT, "Ben de varım.", reply_to=third)  # a third bot breaks the pair
        measure = members.ping_pong(script.transcript())
        self.assertEqual(measure.value, 1.0)
        self.assertEqual(measure.detail, "longest 5 messages")

    def test_three_alternating_messages_are_not_yet_a_chain(self) -> None:
        script = Script()
        first = script.bot(KEMAL, "Bir.")
        second = script.bot(ELIF, "İki.", reply_to=first)
        script.bot(KEMAL, "Üç.", reply_to=second)
        self.assertEqual(members.ping_pong(script.transcript()).value, 0.0)


class BandTests(SimpleTestCase):
    def test_bands_go_green_amber_red_either_way(self) -> None:
        lower, higher = Bands(0.05, 0.10), Bands(0.95, 0.85, higher_is_better=True)
        for bands, value, band in (
            (lower, 0.05, Band.GREEN), (lower, 0.07, Band.AMBER), (lower, 0.2, Band.RED),
            (higher, 1.0, Band.GREEN), (higher, 0.9, Band.AMBER), (higher, 0.5, Band.RED), (higher, None, Band.NONE),
        ):  # fmt: skip
            with self.subTest(value=value):
                self.assertEqual(bands.of(value), band)

    def test_a_figure_shows_its_value_target_and_band(self) -> None:
        script = Script()
        asked = script.member("Ali", "@kemal_bot THYAO?", to=KEMAL)
        script.bot(KEMAL, "THYAO güçlü.", reply_to=asked)
        [answered] = [figure for figure in figures(script.transcript()) if figure.spec.key == "members_answered"]
        self.assertEqual(answered.as_dict()["display"], "100%")
        self.assertEqual(answered.target, "≥ 100%")
        self.assertEqual(answered.band, Band.GREEN)


class LoaderTests(TestCase):
    """The loader reads a chat's window from the database in a fixed number of queries."""

    chat: Chat
    kemal: Bot
    elif_: Bot

    @classmethod
    def setUpTestData(cls) -> None:
        cls.chat = chat_create(title="Borsa")
        cls.kemal = bot_create(name="Kemal Aydın", username="kemal_bot")
        cls.elif_ = bot_create(name="Elif Şahin", username="elif_bot")
        for bot in (cls.kemal, cls.elif_):
            membership_add(chat=cls.chat, bot=bot)
        Stance.objects.create(bot=cls.kemal, topic="BIST", polarity="bullish")

    def post(self, text_: str, *, bot: Bot | None = None, reply_to: Message | None = None, kind: str = "") -> Message:
        name = getattr(bot, "name", "Ali")
        message = Message.objects.create(chat=self.chat, bot=bot, sender_name=name, text=text_, reply_to=reply_to)
        if kind and bot is not None:
            Turn.objects.create(
                chat=self.chat, bot=bot, kind=kind, reply_to=reply_to, status=Turn.Status.SENT, due_at=timezone.now(),
                message=message,
            )  # fmt: skip
        return message

    def test_it_reads_who_said_what_to_whom_in_six_queries(self) -> None:
        asked = self.post("@elif_bot THYAO bu hafta nereye?")
        self.post("THYAO bence yatay.", bot=self.elif_, reply_to=asked, kind=Turn.Kind.PRIORITY_REPLY)
        self.post("BIST yükselir.", bot=self.kemal, kind=Turn.Kind.PROACTIVE)
        now = timezone.now()
        with self.assertNumQueries(6):
            transcript = transcript_load(chat_ids=[self.chat.pk], since=now - timedelta(hours=1), until=now)
        member, reply, proactive = transcript.lines
        self.assertEqual(member.addressed_bot, self.elif_.pk)
        self.assertEqual((reply.reply_to, reply.kind), (asked.pk, "priority_reply"))
        self.assertEqual(proactive.kind, "proactive")
        self.assertEqual(transcript.bots[self.kemal.pk].stances, (("BIST", "bullish"),))
        self.assertEqual(transcript.languages, {self.chat.pk: "tr"})

    def test_the_query_count_does_not_grow_with_the_window(self) -> None:
        for i in range(30):
            self.post(f"BIST {i}", bot=self.kemal, kind=Turn.Kind.PROACTIVE)
            self.post(f"@kemal_bot soru {i}")
        now = timezone.now()
        with self.assertNumQueries(6):
            transcript_load(chat_ids=None, since=now - timedelta(hours=1), until=now)

    def test_dedup_skips_count_as_rejected_duplicates(self) -> None:
        for error in ("duplicate of a recent message", "rejected by local checks after repair: x", ""):
            Turn.objects.create(
                chat=self.chat, bot=self.kemal, status=Turn.Status.SKIPPED if error else Turn.Status.SENT,
                error=error, due_at=timezone.now(),
            )  # fmt: skip
        report = quality_report(chat_ids=[self.chat.pk])
        self.assertEqual(report.figure("duplicates_rejected").detail, "1 of 3")

    def test_an_empty_window_is_refused_with_a_clear_error(self) -> None:
        now = timezone.now()
        with self.assertRaisesMessage(ValueError, "the window is empty"):
            quality_report(chat_ids=[self.chat.pk], since=now, until=now)

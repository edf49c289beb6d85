"""Real models' output: the corpus drives the local checks; generation cleans, repairs or skips it and counts why."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.test import SimpleTestCase
from django.utils import timezone
from prometheus_client import REGISTRY

from bots.services import bot_create
from chats.models import Message
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_llm import Answer, FakeLlmServer
from config.testing.llm_outputs import EXPECTS, FREQUENCY, OUTPUTS, Output, RealisticReplies
from engine.clients.llm import GroqProvider, LlmClient, OpenAICompatProvider
from engine.clients.llm.base import ChatMessage, LlmRequest
from engine.clients.loops import run
from engine.models import Turn
from engine.outputs import PROBLEMS, OutputReason
from engine.runtime_settings import LlmBudget
from engine.selectors import settings_all
from engine.services import screening
from engine.services.generation import generate_turn, generate_turns
from engine.tests.pipeline import FAST_SPEED
from monitoring import metrics


def screened(output: Output) -> screening.Screened:
    facts = screening.facts_for(**output.facts_for())
    return screening.screen(output.raw, finish_reason=output.finish_reason, facts=facts)


def facts(**overrides: Any) -> screening.Facts:
    return screening.facts_for(**{"bot_name": "Kemal", "language": "tr", **overrides})


def problems(reason: str, action: str) -> float:
    return REGISTRY.get_sample_value("piyasa_llm_output_problems_total", {"reason": reason, "action": action}) or 0.0


class CorpusTests(SimpleTestCase):
    """Every realistic output is passed, cleaned, repaired or skipped as its entry says."""

    def test_the_corpus_holds_over_200_outputs_in_both_languages_of_every_kind(self) -> None:
        assert len(OUTPUTS) >= 200
        assert len({output.id for output in OUTPUTS}) == len(OUTPUTS)
        languages = Counter(output.language for output in OUTPUTS)
        assert languages["tr"] >= 100, languages
        assert languages["en"] >= 60, languages
        assert {output.kind for output in OUTPUTS} == set(FREQUENCY)
        assert {output.expect for output in OUTPUTS} == set(EXPECTS)
        assert sum(output.expect == "pass" for output in OUTPUTS) >= 80
        assert any(output.finish_reason == "length" for output in OUTPUTS)

    def test_every_reason_the_checks_can_find_is_in_the_corpus(self) -> None:
        found = {reason for output in OUTPUTS for reason in output.reasons}
        local = set(OutputReason) - {OutputReason.DUPLICATE, OutputReason.STANCE}  # these need the chat's state
        assert found == {str(reason) for reason in local}

    def test_good_outputs_pass_untouched(self) -> None:
        for output in OUTPUTS:
            if output.expect == "pass":
                with self.subTest(output.id):
                    result = screened(output)
                    assert (result.cleaned, result.repair, result.skip) == ((), (), None)
                    assert result.text == " ".join(output.raw.split())

    def test_outputs_are_cleaned_locally_to_the_expected_text(self) -> None:
        for output in OUTPUTS:
            if output.expect == "clean":
                with self.subTest(output.id):
                    result = screened(output)
                    assert (result.repair, result.skip) == ((), None), result
                    assert result.text == output.text
                    assert {str(reason) for reason in result.cleaned} == set(output.reasons)

    def test_outputs_that_cannot_be_cleaned_ask_for_a_repair_naming_the_problem(self) -> None:
        for output in OUTPUTS:
            if output.expect == "repair":
                with self.subTest(output.id):
                    result = screened(output)
                    assert result.skip is None
                    assert {str(reason) for reason in result.repair} == set(output.reasons)
                    assert len(result.problems) >= len(result.repair)

    def test_outputs_without_an_answer_are_skipped(self) -> None:
        for output in OUTPUTS:
            if output.expect == "skip":
                with self.subTest(output.id):
                    result = screened(output)
                    assert (result.skip, result.text) == (OutputReason(output.reasons[0]), "")

    def test_a_cleaned_output_passes_the_checks_again_unchanged(self) -> None:
        for output in OUTPUTS:
            if output.expect == "clean":
                with self.subTest(output.id):
                    again = screening.screen(output.text or "", facts=screening.facts_for(**output.facts_for()))
                    assert (again.text, again.cleaned, again.repair) == (output.text, (), ())


class HonestyPolicyTests(SimpleTestCase):
    """The bots are visible bot accounts: honest when sincerely asked, never denying, no unprompted disclaimers."""

    def test_an_honest_answer_to_a_sincere_question_is_sent_as_written(self) -> None:
        for language, asked, answer in [
            ("tr", "sen bot musun?", "Evet, ben bir botum; ama THYAO konusunda fikrim net, 300 üstü kalıcı olur."),
            ("tr", "Yapay zeka mısınız gerçekten?", "Evet, bir yapay zekayım. Yine de altını seviyorum."),
            ("en", "are you a bot?", "Yes, I'm a bot. Still, gold is my favourite hedge."),
            ("en", "Are you an AI or a real person?", "I am an AI, yes, and I still think banks look heavy."),
        ]:
            with self.subTest(asked=asked):
                result = screening.screen(answer, facts=facts(asked=asked, language=language))
                assert (result.text, result.cleaned, result.repair) == (answer, (), ())

    def test_the_same_admission_unprompted_is_cleaned_away(self) -> None:
        result = screening.screen("Evet, ben bir botum. Ama THYAO konusunda fikrim net.", facts=facts())
        assert (result.text, result.cleaned) == ("THYAO konusunda fikrim net.", (OutputReason.DISCLAIMER,))
        result = screening.screen("As an AI language model, I have no opinions.", facts=facts(language="en"))
        assert result.repair == (OutputReason.REFUSAL,)

    def test_a_denial_is_repaired_asked_or_not(self) -> None:
        for asked in ["sen bot musun?", None]:
            with self.subTest(asked=asked):
                result = screening.screen("Hayır, bot değilim, gerçek bir insanım.", facts=facts(asked=asked))
                assert result.repair == (OutputReason.DENIAL,)
                assert PROBLEMS[OutputReason.DENIAL] in result.problems

    def test_a_refusal_is_repaired_even_when_the_bot_was_asked_what_it_is(self) -> None:
        result = screening.screen(
            "I'm sorry, but I can't help with that.", facts=facts(asked="are you a bot?", language="en")
        )
        assert result.repair == (OutputReason.REFUSAL,)

    def test_a_passing_remark_about_bots_is_no_sincere_question(self) -> None:
        assert not facts(asked="bu piyasayı botlar yönetiyor").asked_if_bot
        assert facts(asked="@kemal_bot sen bot musun?").asked_if_bot
        assert facts(asked="Is this a bot?").asked_if_bot


class CheckDetailTests(SimpleTestCase):
    """The pieces the corpus leans on."""

    def test_numbers_are_read_the_turkish_and_the_english_way(self) -> None:
        for raw, value in [("1.234,56", 1234.56), ("1,234.56", 1234.56), ("98.500", 98500), ("98,500", 98500),
                           ("2.35", 2.35), ("34,5", 34.5), ("1.250.000", 1250000), ("300", 300)]:  # fmt: skip
            with self.subTest(raw=raw):
                assert screening.parse_number(raw) == value

    def test_a_price_is_the_number_right_after_the_symbols_name(self) -> None:
        levels = (("BIST:THYAO", 285.0), ("BTCUSDT", 97000.0))
        assert not screening.invented_price("THYAO 290, BTC ise 98 bin civarında", levels)
        assert not screening.invented_price("THYAO 2024'te 3 kat yaptı, %40 düştü", levels)
        assert not screening.invented_price("THYAO'da hacim 37,2 civarında, derinlik 4120", levels)
        assert screening.invented_price("BTC is trading at 25k again", levels)
        assert screening.invented_price("THYAO'yu 60 liradan topluyorum", levels)
        assert screening.invented_price("bitcoin 20 bin dolara iner", levels)

    def test_the_language_check_tolerates_code_switching(self) -> None:
        assert not screening.wrong_language("THYAO to the moon bence, hodl bro", "tr")
        assert not screening.wrong_language("Inşallah gold holds, I'm staying patient with it.", "en")
        assert screening.wrong_language("I think the market will go up this week.", "tr")

    def test_a_message_that_only_looks_like_a_label_keeps_its_words(self) -> None:
        for text in ["Hedef: 320, stop 270.", "Kısa vadede: 280 destek, 300 direnç.", "Not sure: banks look heavy."]:
            with self.subTest(text=text):
                assert screening.screen(text, facts=facts(language="en")).text == text


class RealisticModeTests(SimpleTestCase):
    """The fake server answers like a real model, with real response shapes."""

    def test_the_realistic_mix_needs_a_repair_for_few_messages(self) -> None:
        # What generation's ≤ 1.05 LLM calls per message rests on when a model writes like the corpus.
        replies = RealisticReplies()
        picks = [
            replies.pick({"seed": seed, "messages": [{"role": "system", "content": system}]})
            for seed in range(2000)
            for system in ("Sen Kemal'sin.", "You are Kemal.")
        ]
        repairs = sum(output.expect == "repair" for output in picks)
        assert repairs / len(picks) <= 0.05
        assert {output.language for output in picks[::2]} == {"tr"}
        assert len({output.kind for output in picks}) >= 10

    def test_the_fake_serves_finish_reason_reasoning_and_the_spent_tokens(self) -> None:
        with FakeLlmServer() as fake:
            fake.queue_replies(Answer("Bence THYAO 300'ü", finish_reason="length", reasoning="Kısa yaz."))
            status, body, _ = fake.completion({"model": "m", "max_tokens": 80, "messages": []})
        choice = body["choices"][0]
        assert (status, choice["finish_reason"], choice["message"]["reasoning"]) == (200, "length", "Kısa yaz.")
        assert body["usage"]["completion_tokens"] == 80

    def test_the_realistic_server_answers_the_sdks_with_corpus_outputs_in_the_prompts_language(self) -> None:
        raws: dict[str, set[str]] = {"tr": set(), "en": set()}
        for output in OUTPUTS:
            raws[output.language].add(output.raw.strip())
        with FakeLlmServer(realistic=True) as fake:
            for seed in range(12):
                for language, system in (("tr", "Sen Kemal'sin."), ("en", "You are Kemal.")):
                    messages: list[ChatMessage] = [{"role": "system", "content": system}]
                    request = LlmRequest(messages=messages, model="m", max_tokens=80, seed=seed)
                    provider = OpenAICompatProvider(base_url=fake.openai_base_url, model="m")
                    response = run(provider.complete(request))
                    assert response.text in raws[language]
                    assert response.finish_reason in ("stop", "length")

    def test_both_sdks_carry_the_finish_reason_to_the_response(self) -> None:
        request = LlmRequest(messages=[{"role": "user", "content": "THYAO?"}], model="m", max_tokens=40)
        with FakeLlmServer() as fake:
            providers: list[GroqProvider | OpenAICompatProvider] = [
                GroqProvider(api_key="k", model="m", base_url=fake.groq_base_url),
                OpenAICompatProvider(base_url=fake.openai_base_url, model="m"),
            ]
            for provider in providers:
                with self.subTest(provider=provider.name):
                    fake.queue_replies(Answer("Bence yukarı ama hacim", finish_reason="length"))
                    response = run(provider.complete(request))
                    assert (response.text, response.finish_reason) == ("Bence yukarı ama hacim", "length")
                    fake.queue_replies("Tamam.")
                    assert run(provider.complete(request)).finish_reason == "stop"


def groq(fake: FakeLlmServer) -> LlmClient:
    return LlmClient(GroqProvider(api_key="test-key", model="llama-3.3-70b-versatile", base_url=fake.groq_base_url))


def openai_compat(fake: FakeLlmServer) -> LlmClient:
    return LlmClient(OpenAICompatProvider(base_url=fake.openai_base_url, model="qwen-qwq-32b"))


class GenerationOnRealOutputTests(RedisTransactionTestCase):
    """Generation through the real SDKs against the fake server serving real models' output."""

    def setUp(self) -> None:
        super().setUp()
        self.fake_llm = self.enterContext(FakeLlmServer())
        self.chat = chat_create(title="Sohbet")
        self.bots = [
            bot_create(name=name, username=f"{name.lower()}{self.chat.pk}_bot", speed=FAST_SPEED)
            for name in ("Kemal", "Elif")
        ]
        for bot in self.bots:
            membership_add(chat=self.chat, bot=bot)

    def turn(self, *, asked: str | None = None) -> Turn:
        if asked is None:
            return Turn.objects.create(
                chat=self.chat, bot=self.bots[0], kind=Turn.Kind.PROACTIVE, due_at=timezone.now()
            )
        message = Message.objects.create(chat=self.chat, sender_name="Ali", text=asked)
        kind = Turn.Kind.PRIORITY_REPLY
        return Turn.objects.create(chat=self.chat, bot=self.bots[0], kind=kind, due_at=timezone.now(), reply_to=message)

    def test_a_reasoning_block_and_markdown_are_cleaned_without_another_call(self) -> None:
        before = problems("reasoning", "cleaned")
        self.fake_llm.queue_replies("<think>\nKemal kısa yazmalı.\n</think>\n**BIST** bugün yorgun, hacim yok.")
        turn = self.turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert (turn.text, turn.llm_calls) == ("BIST bugün yorgun, hacim yok.", 1)
        assert problems("reasoning", "cleaned") == before + 1

    def test_a_refusal_is_repaired_with_one_call_that_names_the_problem(self) -> None:
        before = problems("refusal", "repaired")
        self.fake_llm.queue_replies("Üzgünüm, ama yatırım tavsiyesi veremem.", "BIST'te acele etmiyorum, izliyorum.")
        turn = self.turn()
        assert generate_turn(turn_id=turn.pk, llm=openai_compat(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert (turn.text, turn.llm_calls) == ("BIST'te acele etmiyorum, izliyorum.", 2)
        repair = self.fake_llm.requests[1].body["messages"][-1]["content"]
        assert PROBLEMS[OutputReason.REFUSAL] in repair
        assert problems("refusal", "repaired") == before + 1

    def test_a_reasoning_block_cut_at_max_tokens_skips_the_turn_without_a_repair(self) -> None:
        before = problems("reasoning_cut", "skipped")
        self.fake_llm.queue_replies(Answer("<think>\nThe user asks about BIST. Let me", finish_reason="length"))
        turn = self.turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "skipped"
        turn.refresh_from_db()
        assert (turn.llm_calls, turn.error) == (1, "skipped by local checks: reasoning_cut")
        assert problems("reasoning_cut", "skipped") == before + 1

    def test_a_message_cut_at_max_tokens_loses_its_unfinished_sentence(self) -> None:
        self.fake_llm.queue_replies(Answer("Borsa bugün sakin. Ama yarın enflasyon verisi gelince", "length"))
        turn = self.turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert turn.text == "Borsa bugün sakin."

    def test_a_sincere_question_gets_the_honest_answer_and_a_denial_is_repaired(self) -> None:
        self.fake_llm.queue_replies("Evet, ben bir botum. Ama borsa konusunda ciddiyim.")
        turn = self.turn(asked="@kemal_bot sen bot musun?")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert "Evet, ben bir botum." in turn.text
        self.fake_llm.queue_replies("Hayır, bot değilim.", "Evet, botum; hesabın adında yazıyor.")
        turn = self.turn(asked="Gerçekten bot musun?")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert (turn.llm_calls, "botum" in turn.text) == (2, True)

    def test_a_repair_that_fails_again_skips_the_turn_and_counts_it(self) -> None:
        before = problems("language", "skipped")
        english = "I think the market will stay flat this week, to be honest."
        self.fake_llm.queue_replies(english, english + " Really.")
        turn = self.turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "skipped"
        turn.refresh_from_db()
        assert turn.llm_calls == 2
        assert "local checks" in turn.error
        assert problems("language", "skipped") == before + 1

    def test_turns_written_on_realistic_output_are_clean_and_at_most_one_repair_each(self) -> None:
        self.fake_llm.reply = RealisticReplies()
        turns = [self.turn() for _ in range(30)]
        # A budget that never binds: 30 turns at once would wait for the default one (not what is tested here).
        config = settings_all().replace(llm_budget=LlmBudget(rpm=10_000, tpm=10**8, daily_tokens=10**9))
        outcomes = generate_turns(turn_ids=[turn.pk for turn in turns], llm=groq(self.fake_llm), config=config)
        assert set(outcomes.values()) <= {"ready", "skipped"}
        for turn in Turn.objects.filter(pk__in=[turn.pk for turn in turns]):
            with self.subTest(turn=turn.pk):
                assert turn.llm_calls <= 2
                if turn.status == Turn.Status.READY:
                    assert not any(mark in turn.text for mark in ("<think", "**", "```", "[1", "Kemal:"))
        assert sum(outcome == "ready" for outcome in outcomes.values()) >= 25


class MetricTests(SimpleTestCase):
    def test_every_reason_and_action_is_a_label_from_the_start_and_unknown_ones_are_bounded(self) -> None:
        metrics.initialise_labels("groq", "llama-test")
        assert problems("markdown", "cleaned") is not None
        for reason in OutputReason:
            assert (
                REGISTRY.get_sample_value(
                    "piyasa_llm_output_problems_total", {"reason": str(reason), "action": "skipped"}
                )
                is not None
            )
        before = problems("other", "other")
        metrics.record_llm_output_problem("a member's text", "exploded")
        assert problems("other", "other") == before + 1

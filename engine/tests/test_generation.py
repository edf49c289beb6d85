from __future__ import annotations

import asyncio
import threading
from unittest.mock import patch

from django.db import connection
from django.utils import timezone

from bots.services import bot_create
from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_llm import FakeLlmServer
from engine.clients.llm import GroqProvider, LlmClient
from engine.clients.llm.base import LlmCircuitOpen, LlmRequest, LlmResponse
from engine.clients.llm.offline import OfflineProvider
from engine.models import Turn
from engine.services.generation import MAX_GENERATION_ATTEMPTS, generate_turn, generate_turns
from engine.services.loading import LoadedTurn
from engine.tests.pipeline import FAST_SPEED


def groq(fake: FakeLlmServer) -> LlmClient:
    return LlmClient(GroqProvider(api_key="test-key", model="llama-3.3-70b-versatile", base_url=fake.groq_base_url))


def planned_turn(kind: str = Turn.Kind.PROACTIVE, **fields: object) -> Turn:
    chat = chat_create(title="Sohbet")
    suffix = chat.pk
    bots = [
        bot_create(name=name, username=f"{name.lower()}{suffix}_bot", speed=FAST_SPEED) for name in ("Kemal", "Elif")
    ]
    for bot in bots:
        membership_add(chat=chat, bot=bot)
    return Turn.objects.create(chat=chat, bot=bots[0], kind=kind, due_at=timezone.now(), **fields)


class BarrierLlm(LlmClient):
    """Answers only once `parties` calls are in flight together: sequential generation cannot pass it."""

    def __init__(self, inner: LlmClient, parties: int) -> None:
        super().__init__(inner.provider, None)
        self.barrier = asyncio.Barrier(parties)

    async def complete(self, request: LlmRequest) -> LlmResponse:
        await asyncio.wait_for(self.barrier.wait(), timeout=10)
        return await super().complete(request)


def _batch_queries(fake_llm: FakeLlmServer, size: int) -> tuple[int, int]:
    from django.test.utils import CaptureQueriesContext

    from bots.tests.factories import HoldingFactory, MemoryFactory, StanceFactory
    from engine.selectors import settings_all

    turns = [planned_turn() for _ in range(size)]
    for turn in turns:
        Message.objects.create(chat=turn.chat, sender_name="Ayşe", text="BIST bugün ne olur?")
        Message.objects.create(chat=turn.chat, bot=turn.bot, sender_name="", text="Bence yatay.")
        HoldingFactory.create(bot=turn.bot)
        MemoryFactory.create(bot=turn.bot)
        StanceFactory.create(bot=turn.bot)
    config = settings_all().replace(news_trigger_enabled=False)  # a headline is drawn at random: two more queries
    with CaptureQueriesContext(connection) as queries:
        outcomes = generate_turns(turn_ids=[turn.pk for turn in turns], llm=groq(fake_llm), config=config)
    assert set(outcomes.values()) == {"ready"}
    ready = [query for query in queries if query["sql"].startswith("WITH") and "UPDATE" in query["sql"]]
    return len(queries) - len(ready), len(ready)


class FakeLlmTestCase(RedisTransactionTestCase):
    """Generation against a fake Groq server (real HTTP), one per test: `self.fake_llm`."""

    def setUp(self) -> None:
        super().setUp()
        self.fake_llm = self.enterContext(FakeLlmServer())


class GenerateTurnTests(FakeLlmTestCase):
    """One turn's LLM call: its accounting, compliance repairs, duplicates, outages and limits."""

    def test_it_makes_one_llm_call_and_records_the_accounting(self) -> None:
        self.fake_llm.queue_replies("Bence BIST bu hafta yatay seyreder, bilançoları bekliyorum.")
        turn = planned_turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert (turn.status, turn.llm_calls, len(self.fake_llm.requests)) == (Turn.Status.READY, 1, 1)
        assert turn.tokens_in > 0
        assert turn.tokens_out > 0
        assert turn.cost_usd > 0
        assert turn.llm_model == "llama-3.3-70b-versatile"
        assert "bilançoları" in turn.text
        body = self.fake_llm.requests[0].body
        assert body["messages"][0]["role"] == "system"
        assert "Kemal" in body["messages"][0]["content"]
        assert 0.7 <= body["temperature"] <= 1.0

    def test_a_compliance_violation_is_repaired_with_a_second_call(self) -> None:
        self.fake_llm.queue_replies("THYAO kesin kazanç, hemen alın!", "THYAO'yu izliyorum, acele etmeden bakıyorum.")
        turn = planned_turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert turn.llm_calls == 2
        assert turn.text.startswith("THYAO'yu izliyorum")
        assert "Mesajını yeniden yaz" in self.fake_llm.requests[1].body["messages"][-1]["content"]

    def test_a_chat_with_the_compliance_guard_off_keeps_what_another_chat_repairs(self) -> None:
        unguarded = planned_turn()
        unguarded.chat.settings_overrides = {"compliance_guard_enabled": False}
        unguarded.chat.save()
        self.fake_llm.queue_replies("THYAO kesin kazanç, hemen alın!")
        assert generate_turn(turn_id=unguarded.pk, llm=groq(self.fake_llm)) == "ready"
        guarded = planned_turn()
        self.fake_llm.queue_replies("THYAO kesin kazanç, hemen alın!", "THYAO'yu izliyorum, acele etmeden bakıyorum.")
        assert generate_turn(turn_id=guarded.pk, llm=groq(self.fake_llm)) == "ready"
        unguarded.refresh_from_db()
        guarded.refresh_from_db()
        assert (unguarded.llm_calls, unguarded.text) == (1, "THYAO kesin kazanç, hemen alın!")
        assert (guarded.llm_calls, guarded.text) == (2, "THYAO'yu izliyorum, acele etmeden bakıyorum.")

    def test_a_turn_that_stays_non_compliant_is_skipped(self) -> None:
        self.fake_llm.queue_replies("Garantili kazanç, hemen alın!", "Yine söylüyorum: kesin kazanç, hemen alın!")
        turn = planned_turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "skipped"
        turn.refresh_from_db()
        assert (turn.status, turn.llm_calls) == (Turn.Status.SKIPPED, 2)
        assert "local checks" in turn.error

    def test_a_near_duplicate_of_another_bots_message_is_not_sent(self) -> None:
        turn = planned_turn()
        other = turn.chat.bots.exclude(pk=turn.bot_id).get()
        Message.objects.create(chat=turn.chat, bot=other, text="BIST bugün çok güçlü, THYAO yükselişte.")
        self.fake_llm.queue_replies("BIST bugün çok güçlü; THYAO yükselişte!", "Bist bugun cok guclu THYAO yukseliste")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "skipped"
        turn.refresh_from_db()
        assert (turn.llm_calls, turn.error) == (2, "duplicate of a recent message")

    def test_dedup_compares_the_normalised_form_stored_with_a_message(self) -> None:
        from engine.services.postprocess import normalize

        turn = planned_turn()
        other = turn.chat.bots.exclude(pk=turn.bot_id).get()
        stored = normalize("BIST bugün çok güçlü, THYAO yükselişte.")
        Message.objects.create(chat=turn.chat, bot=other, text="(edited later)", text_normalized=stored)
        self.fake_llm.queue_replies("BIST bugün çok güçlü; THYAO yükselişte!", "Bist bugun cok guclu THYAO yukseliste")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "skipped"

    def test_an_llm_outage_returns_the_turn_to_planned_with_a_retry_time(self) -> None:
        self.fake_llm.server_error(times=1, status=503)
        turn = planned_turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "retry"
        turn.refresh_from_db()
        assert (turn.status, turn.attempts) == (Turn.Status.PLANNED, 1)
        assert turn.next_run_at is not None
        assert turn.next_run_at > timezone.now()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"

    def test_a_rate_limit_is_honoured_and_shared(self) -> None:
        self.fake_llm.rate_limit(times=1, retry_after=30)
        first, second = planned_turn(), planned_turn()
        assert generate_turn(turn_id=first.pk, llm=groq(self.fake_llm)) == "retry"
        # Every worker now waits for retry-after: the next turn makes no request at all.
        assert generate_turn(turn_id=second.pk, llm=groq(self.fake_llm)) == "retry"
        assert len(self.fake_llm.requests) == 1
        second.refresh_from_db()
        assert (second.next_run_at - timezone.now()).total_seconds() > 20  # type: ignore[operator]

    def test_two_workers_cannot_generate_the_same_turn(self) -> None:
        self.fake_llm.latency_s = 0.3
        turn = planned_turn()
        outcomes: list[str] = []

        def work() -> None:
            try:
                outcomes.append(generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)))
            finally:
                connection.close()

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(outcomes) == ["not_claimed", "ready"]
        assert len(self.fake_llm.requests) == 1

    def test_a_ready_turn_has_its_send_time_and_delivery_jobs_keep_no_result(self) -> None:
        import django_rq
        from rq.job import Job

        self.fake_llm.queue_replies("Bence BIST bu hafta yatay seyreder, bilançoları bekliyorum.")
        turn = planned_turn()
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert turn.send_at is not None
        assert (turn.status, turn.next_run_at) == (Turn.Status.READY, turn.send_at)
        queue = django_rq.get_queue("high")
        job_ids = [*queue.job_ids, *queue.scheduled_job_registry.get_job_ids()]
        jobs = [Job.fetch(job_id, connection=queue.connection) for job_id in job_ids]
        assert "engine.jobs.send_due" in {job.func_name for job in jobs}
        assert {job.result_ttl for job in jobs} == {0}

    def test_waiting_for_an_open_circuit_is_not_an_attempt(self) -> None:
        # A long LLM outage keeps the circuit open: the turns waiting for it must not use up their tries.
        turn = planned_turn()
        Turn.objects.filter(pk=turn.pk).update(attempts=MAX_GENERATION_ATTEMPTS - 1)
        llm = groq(self.fake_llm)
        with patch.object(llm, "complete", side_effect=LlmCircuitOpen("circuit for groq is open", retry_after=12)):
            assert generate_turn(turn_id=turn.pk, llm=llm) == "retry"
        turn.refresh_from_db()
        assert (turn.status, turn.attempts) == (Turn.Status.PLANNED, MAX_GENERATION_ATTEMPTS - 1)
        assert 10 < (turn.next_run_at - timezone.now()).total_seconds() <= 12  # type: ignore[operator]
        assert not self.fake_llm.requests


class GenerationBatchTests(FakeLlmTestCase):
    """A batch of turns: its budget, its concurrency, a crash in one turn, and its queries."""

    def test_a_batch_reserves_its_budget_in_one_go_and_corrects_its_tokens_once(self) -> None:
        from engine.services import limits

        turns = [planned_turn() for _ in range(3)]
        reservations: list[int] = []
        real = limits.reserve

        def counted(*args: object, **kwargs: object) -> float:
            reservations.append(int(kwargs.get("events", 1)))  # type: ignore[call-overload]
            return real(*args, **kwargs)  # type: ignore[arg-type]

        with patch.object(limits, "reserve", counted):
            outcomes = generate_turns(turn_ids=[turn.pk for turn in turns], llm=groq(self.fake_llm))

        assert set(outcomes.values()) == {"ready"}
        assert reservations == [3]
        used = sum(turn.tokens_in + turn.tokens_out for turn in Turn.objects.filter(pk__in=[t.pk for t in turns]))
        minute_tokens = [
            int(limits._redis().get(key) or 0) for key in limits._redis().keys("piyasa:limit:llm:tokens:min:*")
        ]
        assert minute_tokens == [used]  # the estimates were corrected to what the calls really used

    def test_a_batch_the_budget_cannot_hold_whole_goes_as_far_as_it_allows(self) -> None:
        from engine.selectors import settings_all

        turns = [planned_turn() for _ in range(3)]
        config = settings_all().replace(llm_budget={**settings_all().llm_budget.model_dump(), "rpm": 2})

        outcomes = generate_turns(turn_ids=[turn.pk for turn in turns], llm=groq(self.fake_llm), config=config)

        assert sorted(outcomes.values()) == ["ready", "ready", "retry"]  # deferred, not dropped
        assert len(self.fake_llm.requests) == 2

    def test_a_batch_of_turns_is_generated_concurrently_without_db_access_off_the_workers_thread(self) -> None:
        from engine.services import generation

        def no_queries(*args: object) -> None:
            raise AssertionError("a generation thread queried the database")

        async def write_without_db(*args: object, **kwargs: object) -> str:
            with connection.execute_wrapper(no_queries):
                return await real_write(*args, **kwargs)  # type: ignore[arg-type]

        real_write = generation.write
        turns = [planned_turn() for _ in range(4)]
        with patch.object(generation, "write", write_without_db):
            outcomes = generate_turns(
                turn_ids=[turn.pk for turn in turns], llm=BarrierLlm(groq(self.fake_llm), parties=4)
            )
        assert outcomes == {turn.pk: "ready" for turn in turns}
        assert set(Turn.objects.values_list("status", flat=True)) == {Turn.Status.READY}

    def test_a_crash_in_one_turn_of_a_batch_fails_the_job_after_the_others_finish(self) -> None:
        from engine.services import generation

        turns = [planned_turn() for _ in range(3)]
        real = generation.build_context

        def crash_on_second(loaded: LoadedTurn, **kwargs: object) -> object:
            if loaded.turn.pk == turns[1].pk:
                raise RuntimeError("the database went away")
            return real(loaded, **kwargs)  # type: ignore[arg-type]

        with patch.object(generation, "build_context", crash_on_second), self.assertRaises(RuntimeError):
            generate_turns(turn_ids=[turn.pk for turn in turns], llm=groq(self.fake_llm))
        statuses = dict(Turn.objects.values_list("pk", "status"))
        # The crashed turn stays claimed; its job's liveness record, marked done, lets the sweep recover it.
        assert statuses == {turns[0].pk: "ready", turns[1].pk: "generating", turns[2].pk: "ready"}

    def test_the_memories_a_batch_used_are_counted_once_each(self) -> None:
        from bots.tests.factories import MemoryFactory

        turns = [planned_turn() for _ in range(3)]
        memories = [MemoryFactory.create(bot=turn.bot) for turn in turns]

        outcomes = generate_turns(turn_ids=[turn.pk for turn in turns], llm=groq(self.fake_llm))

        assert set(outcomes.values()) == {"ready"}
        for memory in memories:
            memory.refresh_from_db()
            assert (memory.usage_count, memory.last_used_at is not None) == (1, True)
        assert all(
            Turn.objects.get(pk=turn.pk).inputs["memories"] == [memory.pk]
            for turn, memory in zip(turns, memories, strict=True)
        )

    def test_a_batch_loads_its_turns_contexts_together_so_only_a_few_queries_are_per_turn(self) -> None:
        # The claim, the turns, histories, stances, holdings, memories, recent bot texts, the topics' past statements
        # and the memories' usage are one query each for the whole batch; `ready` is one per group of turns whose
        # calls returned together.
        (two, two_ready), (six, six_ready) = _batch_queries(self.fake_llm, 2), _batch_queries(self.fake_llm, 6)
        assert six == two
        assert 1 <= two_ready <= 2
        assert 1 <= six_ready <= 6


class OfflineGenerationTests(RedisTransactionTestCase):
    """Turns generated without a remote LLM: reactions and the offline provider."""

    def test_a_reaction_uses_an_allowed_telegram_emoji_without_llm(self) -> None:
        from telegram.constants import ReactionEmoji

        turn = planned_turn(kind=Turn.Kind.REACTION)
        target = Message.objects.create(chat=turn.chat, sender_name="Ali", text="Selam", telegram_message_id=5)
        Turn.objects.filter(pk=turn.pk).update(reply_to=target)
        assert generate_turn(turn_id=turn.pk, llm=LlmClient(OfflineProvider())) == "ready"
        turn.refresh_from_db()
        assert turn.text in {emoji.value for emoji in ReactionEmoji}
        assert turn.llm_calls == 0

    def test_a_batchs_reactions_become_ready_together_and_one_without_a_target_is_skipped(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def reactions(count: int) -> list[int]:
            turns = [planned_turn(kind=Turn.Kind.REACTION) for _ in range(count)]
            for n, turn in enumerate(turns):
                target = Message.objects.create(
                    chat=turn.chat, sender_name="Ali", text="Selam", telegram_message_id=n + 1
                )
                Turn.objects.filter(pk=turn.pk).update(reply_to=target)
            return [turn.pk for turn in turns]

        def queries(ids: list[int]) -> int:
            with CaptureQueriesContext(connection) as captured:
                assert set(generate_turns(turn_ids=ids, llm=LlmClient(OfflineProvider())).values()) == {"ready"}
            return len(captured)

        assert queries(reactions(1)) == queries(reactions(3))  # their targets are read with the chats' histories
        untargeted = planned_turn(kind=Turn.Kind.REACTION)
        local_only = Message.objects.create(chat=untargeted.chat, sender_name="Ali", text="Selam")  # no Telegram id
        Turn.objects.filter(pk=untargeted.pk).update(reply_to=local_only)
        assert generate_turn(turn_id=untargeted.pk, llm=LlmClient(OfflineProvider())) == "skipped"
        assert Turn.objects.get(pk=untargeted.pk).error == "nothing to react to"

    def test_a_reaction_uses_only_an_emoji_the_group_allows(self) -> None:
        turn = planned_turn(kind=Turn.Kind.REACTION)
        Chat.objects.filter(pk=turn.chat_id).update(available_reactions=["🎉"])  # none of the stance's own
        target = Message.objects.create(chat=turn.chat, sender_name="Ali", text="Selam", telegram_message_id=5)
        Turn.objects.filter(pk=turn.pk).update(reply_to=target)
        assert generate_turn(turn_id=turn.pk, llm=LlmClient(OfflineProvider())) == "ready"
        assert Turn.objects.get(pk=turn.pk).text == "🎉"

    def test_a_reaction_where_reactions_were_turned_off_is_skipped(self) -> None:
        turn = planned_turn(kind=Turn.Kind.REACTION)
        Chat.objects.filter(pk=turn.chat_id).update(available_reactions=[])
        target = Message.objects.create(chat=turn.chat, sender_name="Ali", text="Selam", telegram_message_id=5)
        Turn.objects.filter(pk=turn.pk).update(reply_to=target)
        assert generate_turn(turn_id=turn.pk, llm=LlmClient(OfflineProvider())) == "skipped"
        assert Turn.objects.get(pk=turn.pk).error == "reactions are off in this chat"

    def test_a_reply_to_a_long_message_keeps_the_sentence_it_answers_to_quote(self) -> None:
        long_text = "Bugün piyasa çok hareketliydi, herkes bir şey söylüyor ve ben de kafam karıştı açıkçası. " * 2
        long_text += "Sizce THYAO bu seviyeden alınır mı? Bir de dolar ne olur merak ediyorum."
        turn = planned_turn(kind=Turn.Kind.REPLY)
        target = Message.objects.create(chat=turn.chat, sender_name="Ali", text=long_text, telegram_message_id=5)
        Turn.objects.filter(pk=turn.pk).update(reply_to=target)
        assert generate_turn(turn_id=turn.pk, llm=LlmClient(OfflineProvider())) == "ready"
        assert Turn.objects.get(pk=turn.pk).inputs["quote"] == "Sizce THYAO bu seviyeden alınır mı?"

    def test_the_offline_provider_writes_in_character(self) -> None:
        turn = planned_turn()
        assert generate_turn(turn_id=turn.pk, llm=LlmClient(OfflineProvider())) == "ready"
        turn.refresh_from_db()
        assert turn.text
        assert turn.llm_calls == 1
        assert turn.cost_usd == 0


class GenerationEnqueueTests(RedisTransactionTestCase):
    """A tick's turns go to generate jobs."""

    def test_a_tick_enqueues_its_turns_in_generate_jobs_of_at_most_a_batch(self) -> None:
        import django_rq

        from engine.services.dispatch import GENERATE_BATCH, enqueue_generation

        turn_ids = list(range(1, 2 * GENERATE_BATCH + 4))
        enqueue_generation(turn_ids)
        jobs = django_rq.get_queue("default").jobs
        assert [job.func_name for job in jobs] == ["engine.jobs.generate_turns"] * 3
        assert [job.args[0] for job in jobs] == [
            turn_ids[:GENERATE_BATCH],
            turn_ids[GENERATE_BATCH : 2 * GENERATE_BATCH],
            turn_ids[2 * GENERATE_BATCH :],
        ]

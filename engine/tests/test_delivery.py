from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from datetime import timedelta
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.services import bot_create
from chats.models import Chat, Membership, Message
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for
from engine.clients.telegram import SentMessage
from engine.models import Turn
from engine.redis import redis_connection
from engine.selectors import settings_all
from engine.services import delivery, dispatch, transports
from engine.services.postprocess import normalize
from engine.services.recovery import SENDING_TIMEOUT, recover_turns
from engine.tests.pipeline import drain, telegram_crowd


def ready_turn(chat: Chat, bot_index: int = 0, text: str = "THYAO bugün güçlü duruyor.", **fields: object) -> Turn:
    bot = chat.bots.order_by("id")[bot_index]
    now = timezone.now()
    return Turn.objects.create(
        chat=chat,
        bot=bot,
        status=Turn.Status.READY,
        text=text,
        due_at=now,
        send_at=now,
        next_run_at=now,
        inputs={"topic": "BIST", "full_persona": True},
        **fields,
    )


class FakeTelegramTestCase(RedisTransactionTestCase):
    """A fake Bot API server for each test, with the client pointed at it."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=1.0)


class SendTurnTests(FakeTelegramTestCase):
    """Sending one turn: recorded once, threaded, and Telegram's limits and errors honoured."""

    def test_it_sends_records_and_threads_a_reply(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        question = Message.objects.create(
            chat=chat, sender_user_id=7, sender_name="Ayşe", text="THYAO?", telegram_message_id=41
        )
        turn = ready_turn(chat, reply_to=question)
        assert delivery.send_turn(turn_id=turn.pk) == "sent"
        [request] = self.fake.requests("sendMessage")
        assert (request.chat_id, request.reply_to_message_id) == (chat.telegram_chat_id, 41)
        turn.refresh_from_db()
        assert turn.status == Turn.Status.SENT
        assert turn.message is not None
        assert turn.message.reply_to_id == question.pk
        assert turn.message.telegram_message_id == self.fake.sent_messages(chat.telegram_chat_id)[0]["message_id"]
        assert turn.message.metadata["symbols"] == ["THYAO"]
        assert turn.message.text_normalized == normalize(turn.text)  # what later turns' dedup compares

    def test_a_reply_whose_target_was_deleted_is_sent_unthreaded_not_lost(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        question = Message.objects.create(
            chat=chat, sender_user_id=7, sender_name="Ayşe", text="THYAO?", telegram_message_id=41
        )
        self.fake.delete_message(chat.telegram_chat_id, 41)  # type: ignore[arg-type]
        turn = ready_turn(chat, reply_to=question)
        assert delivery.send_turn(turn_id=turn.pk) == "sent"
        [sent] = self.fake.sent_messages(chat.telegram_chat_id)
        assert "reply_to_message" not in sent
        [request] = self.fake.requests("sendMessage")
        assert request.params["reply_parameters"] == {"message_id": 41, "allow_sending_without_reply": True}

    def test_the_fake_refuses_a_reply_to_a_deleted_message_as_telegram_does(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        self.fake.delete_message(chat.telegram_chat_id, 41)  # type: ignore[arg-type]
        body = {"chat_id": chat.telegram_chat_id, "text": "x", "reply_parameters": {"message_id": 41}}
        request = urllib.request.Request(
            f"{self.fake.base_url}{bots[0].token}/sendMessage",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert json.loads(refused.exception.read()) == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to be replied not found",
        }

    def test_a_turn_is_never_sent_twice(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        turn = ready_turn(chat)
        assert [delivery.send_turn(turn_id=turn.pk) for _ in range(3)] == ["sent", "not_ready", "not_ready"]
        assert len(self.fake.requests("sendMessage")) == 1

    def test_it_honours_telegram_retry_after(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        self.fake.rate_limit("sendMessage", retry_after=1)
        turn = ready_turn(chat)
        assert delivery.send_turn(turn_id=turn.pk) == "rate_limited"
        # A second job for the same bot right away must wait too: no request reaches Telegram.
        assert delivery.send_turn(turn_id=turn.pk) == "deferred"
        assert len(self.fake.requests("sendMessage")) == 1
        drain(5, until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)
        first, second = self.fake.requests("sendMessage")
        assert second.at - first.at >= 1.0

    def test_a_send_waiting_for_retry_after_is_due_on_a_whole_second_so_its_job_never_takes_it_early(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        self.fake.rate_limit("sendMessage", retry_after=1)
        turn = ready_turn(chat)
        before = timezone.now()
        assert delivery.send_turn(turn_id=turn.pk) == "rate_limited"
        turn.refresh_from_db()
        assert turn.next_run_at is not None
        assert turn.next_run_at.microsecond == 0
        assert timedelta(seconds=1) <= turn.next_run_at - before <= timedelta(seconds=2.1)

    def test_a_send_refused_as_kicked_fails_the_turn_and_pauses_the_membership(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        self.fake.bot_kicked("sendMessage")
        turn = ready_turn(chat)
        assert delivery.send_turn(turn_id=turn.pk) == "failed"
        turn.refresh_from_db()
        membership = Membership.objects.get(chat=chat, bot=bots[0])
        assert (turn.status, membership.is_enabled, membership.is_paused) == (Turn.Status.FAILED, True, True)
        assert membership.paused_reason == (
            "removed from the group (kicked); Telegram refused a send (sendMessage: Forbidden: bot was kicked from "
            "the group chat); resumes when Telegram lets the bot post again"
        )
        assert not Message.objects.exists()
        # The paused member's next turn is skipped without calling Telegram.
        assert delivery.send_turn(turn_id=ready_turn(chat).pk) == "skipped"
        assert len(self.fake.requests("sendMessage")) == 1

    def test_a_chat_that_is_gone_fails_the_turn_and_disables_the_membership(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        self.fake.chat_not_found("sendMessage")
        assert delivery.send_turn(turn_id=ready_turn(chat).pk) == "failed"
        membership = Membership.objects.get(chat=chat, bot=bots[0])
        assert (membership.is_enabled, membership.is_paused) == (False, False)
        assert membership.disabled_reason == "Telegram: sendMessage: BadRequest: Chat not found"

    def test_a_transient_error_retries_with_backoff(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        self.fake.server_error("sendMessage", status=502)
        turn = ready_turn(chat)
        assert delivery.send_turn(turn_id=turn.pk) == "retry"
        drain(6, until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)
        assert len(self.fake.requests("sendMessage")) == 2
        assert Message.objects.count() == 1

    def test_a_timed_out_send_is_unconfirmed_not_resent(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        self.fake.delay("sendMessage", 2.0, times=1)
        turn = ready_turn(chat)
        assert delivery.send_turn(turn_id=turn.pk) == "unconfirmed"
        assert delivery.send_turn(turn_id=turn.pk) == "not_ready"
        time.sleep(1.2)  # let the slow fake answer the first request
        assert len(self.fake.requests("sendMessage")) == 1

    def test_a_crash_after_the_send_leaves_the_turn_unconfirmed(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        turn = ready_turn(chat)
        with (
            mock.patch.object(delivery, "record_sent", side_effect=SystemExit("worker killed")),
            self.assertRaises(SystemExit),
        ):
            delivery.send_turn(turn_id=turn.pk)
        Turn.objects.filter(pk=turn.pk).update(sending_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
        assert recover_turns()["unconfirmed"] == 1
        assert delivery.send_turn(turn_id=turn.pk) == "not_ready"
        drain(2)
        assert len(self.fake.requests("sendMessage")) == 1
        assert Turn.objects.get(pk=turn.pk).status == Turn.Status.UNCONFIRMED

    def test_a_five_minute_telegram_outage_does_not_fail_a_turn(self) -> None:
        # Found by bench.faults: five quick retries (≈ 30 s) dropped turns during a 30 s 5xx burst.
        chat, _ = telegram_crowd(self.fake)
        self.fake.server_error("sendMessage", status=502)
        turn = ready_turn(chat)
        Turn.objects.filter(pk=turn.pk).update(attempts=5)
        assert delivery.send_turn(turn_id=turn.pk) == "retry"
        turn.refresh_from_db()
        assert (turn.status, turn.attempts) == (Turn.Status.READY, 6)
        waited = sum(min(60.0, 2.0**attempt) for attempt in range(1, delivery.MAX_SEND_ATTEMPTS))
        assert waited >= 5 * 60


class TypingTests(FakeTelegramTestCase):
    """The typing action before a message, and when Telegram has the bot waiting."""

    def test_typing_is_not_shown_while_telegram_has_the_bot_waiting(self) -> None:
        from engine.services import limits

        chat, bots = telegram_crowd(self.fake)
        turn = Turn.objects.select_related("chat", "bot").get(pk=ready_turn(chat).pk)
        limits.backoff_set(f"tg:bot:{bots[0].pk}", 30)
        assert delivery.show_typing(turn) is False
        assert not self.fake.requests("sendChatAction")

    def test_a_429_answered_to_typing_makes_the_bots_sends_wait_too(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        self.fake.rate_limit("sendChatAction", retry_after=5)
        turn = Turn.objects.select_related("chat", "bot").get(pk=ready_turn(chat).pk)
        assert delivery.show_typing(turn) is False
        assert delivery.send_turn(turn_id=turn.pk) == "deferred"
        assert not self.fake.requests("sendMessage")

    def test_typing_is_shown_before_the_message(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        turn = ready_turn(chat, text="Bugün piyasada hareket var ama acele etmiyorum, bilanço dönemini bekliyorum.")
        config = settings_all().replace(scale_factor=1.0, typing_enabled=True)
        delivery.schedule_delivery(turn, config=config, rng=__import__("random").Random(1))
        drain(5, until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)
        methods = [
            r.method for r in self.fake.requests(token=bots[0].token) if r.method in ("sendChatAction", "sendMessage")
        ]
        assert methods[0] == "sendChatAction"
        assert methods[-1] == "sendMessage"
        assert self.fake.requests("sendChatAction")[0].params["action"] == "typing"

    def test_typing_due_now_is_shown_at_once_and_a_later_start_is_scheduled(self) -> None:
        import random

        import django_rq

        config = settings_all().replace(scale_factor=1.0, typing_enabled=True)
        chat, bots = telegram_crowd(self.fake)
        now_turn = ready_turn(chat, text="Altın tarafında sakin bir gün, acele yok.")
        delivery.schedule_delivery(now_turn, config=config, rng=random.Random(1))
        # Shown by the scheduling job itself: no typing job, one action already at the fake.
        assert [r.method for r in self.fake.requests(token=bots[0].token)] == ["sendChatAction"]
        later_turn = ready_turn(chat, bot_index=1)
        Turn.objects.filter(pk=later_turn.pk).update(due_at=timezone.now() + timedelta(minutes=5))
        later_turn.refresh_from_db()
        delivery.schedule_delivery(later_turn, config=config, rng=random.Random(1))
        assert not self.fake.requests(token=bots[1].token)
        scheduled = django_rq.get_queue("high").scheduled_job_registry.get_job_ids()
        jobs = [django_rq.get_queue("high").fetch_job(job_id) for job_id in scheduled]
        assert [job.args for job in jobs if job is not None and job.func_name == "engine.jobs.send_typing"] == [
            (later_turn.pk,)
        ]
        # Each send waits for the job of its second (engine.services.dispatch): seconds apart, two jobs.
        assert _queued("engine.jobs.send_due") == 2
        due = django_rq.get_connection().zrange(dispatch.SENDS_KEY, 0, -1)
        assert set(due) == {str(now_turn.pk).encode(), str(later_turn.pk).encode()}


class SandboxSendTests(RedisTransactionTestCase):
    """Sandbox chats send without Telegram."""

    def test_sandbox_chats_get_local_message_ids(self) -> None:
        from bots.services import bot_create
        from chats.services import chat_create, membership_add

        chat = chat_create(title="Sandbox")
        bot = bot_create(name="Local")
        membership_add(chat=chat, bot=bot)
        ids = []
        for _ in range(3):
            turn = ready_turn(chat)
            assert delivery.send_turn(turn_id=turn.pk) == "sent"
            time.sleep(1.0)  # a chat gets at most one message per second
            ids.append(Turn.objects.get(pk=turn.pk).message.telegram_message_id)  # type: ignore[union-attr]
        assert ids == [1, 2, 3]


# --- sends in slots: one job sends what is due ----------------------------------------------------------


def _chats_of_one_bot_each(fake: FakeTelegram, count: int) -> list[Turn]:
    """`count` ready turns, each of its own bot in its own chat (so no chat or bot limit holds one back)."""
    from chats.services import chat_create, membership_add

    _, bots = telegram_crowd(fake, size=count)
    turns = []
    for index, bot in enumerate(bots):
        chat = chat_create(title=f"Grup {index}", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100700 - index)
        membership_add(chat=chat, bot=bot)
        turns.append(ready_turn(chat))
    return turns


def _queued(func: str) -> int:
    import django_rq

    queue = django_rq.get_queue("high")
    jobs = [queue.fetch_job(job_id) for job_id in [*queue.job_ids, *queue.scheduled_job_registry.get_job_ids()]]
    return sum(job is not None and job.func_name == func for job in jobs)


class SendSlotTests(FakeTelegramTestCase):
    """Sends in slots: one job per second sends what is due, its Bot API calls together."""

    def test_sends_due_in_one_slot_go_out_in_one_job_with_their_bot_api_calls_overlapping(self) -> None:
        import asyncio
        import time
        from typing import Any

        from django.db import connection

        from engine.clients import loops
        from engine.clients.telegram import TelegramSession

        turns = _chats_of_one_bot_each(self.fake, 4)
        at = timezone.now() + timedelta(seconds=1)
        for turn in turns:
            dispatch.schedule_send(turn.pk, at=at)
        assert _queued("engine.jobs.send_due") == 1
        # Each call waits until all four are in flight: sending them one after another cannot pass.
        in_flight, real_send, real_run = [0], TelegramSession.send_message, loops.run_together

        async def send_together(self: TelegramSession, *args: Any, **kwargs: Any) -> object:
            in_flight[0] += 1
            deadline = time.monotonic() + 10
            while in_flight[0] < 4:
                assert time.monotonic() < deadline, "the calls were not in flight together"
                await asyncio.sleep(0.01)
            return await real_send(self, *args, **kwargs)

        def no_queries(*args: object) -> None:
            raise AssertionError("a network thread queried the database")

        def run_without_queries(*args: Any) -> None:
            with connection.execute_wrapper(no_queries):
                real_run(*args)

        with (
            mock.patch.object(TelegramSession, "send_message", send_together),
            mock.patch.object(loops, "run_together", run_without_queries),
        ):
            drain(10, until=lambda: set(Turn.objects.values_list("status", flat=True)) == {Turn.Status.SENT})
        assert len(self.fake.requests("sendMessage")) == 4
        assert Message.objects.count() == 4

    def test_a_turn_joining_its_slot_after_the_job_took_the_slots_sends_gets_a_job_of_its_own(self) -> None:
        first, joining, late = _chats_of_one_bot_each(self.fake, 3)
        at = timezone.now() - timedelta(seconds=5)  # one slot, already due: its job is enqueued at once
        slot = math.floor(at.timestamp())
        dispatch.schedule_send(first.pk, at=at)
        dispatch.schedule_send(joining.pk, at=at)
        assert _queued("engine.jobs.send_due") == 1
        assert sorted(dispatch.take_sends(slot)) == [first.pk, joining.pk]  # what the job does first
        dispatch.schedule_send(late.pk, at=at)
        assert _queued("engine.jobs.send_due") == 2
        assert dispatch.take_sends(slot) == [late.pk]

    def test_several_turns_sends_are_scheduled_in_one_go_with_one_job_per_slot(self) -> None:
        first, second, later = _chats_of_one_bot_each(self.fake, 3)
        at = timezone.now() - timedelta(seconds=5)
        dispatch.schedule_sends({first.pk: at, second.pk: at, later.pk: at + timedelta(seconds=60)})
        assert _queued("engine.jobs.send_due") == 2
        assert sorted(dispatch.take_sends(math.floor(at.timestamp()))) == [first.pk, second.pk]

    def test_typing_for_several_turns_goes_out_together_skipping_and_holding_the_bots_telegram_makes_wait(self) -> None:
        import time

        from engine.services import limits

        waiting, refused, free = _chats_of_one_bot_each(self.fake, 3)
        limits.backoff_set(f"tg:bot:{waiting.bot_id}", 30)
        self.fake.rate_limit("sendChatAction", retry_after=5, chat_id=refused.chat.telegram_chat_id)
        turns = list(Turn.objects.select_related("chat", "bot").filter(pk__in=[waiting.pk, refused.pk, free.pk]))
        turns.sort(key=lambda turn: [waiting.pk, refused.pk, free.pk].index(turn.pk))

        assert delivery.show_typing_many(turns) == [False, False, True]

        chats = {request.chat_id for request in self.fake.requests("sendChatAction")}
        assert chats == {refused.chat.telegram_chat_id, free.chat.telegram_chat_id}
        assert limits.backoff_until(f"tg:bot:{refused.bot_id}") > time.time() + 3  # its sends wait too

    def test_a_job_takes_at_most_a_batch_and_enqueues_another_for_the_rest(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        turn_ids = [ready_turn(chat).pk for _ in range(dispatch.SEND_BATCH + 3)]
        at = timezone.now() - timedelta(seconds=5)
        slot = math.floor(at.timestamp())
        for turn_id in turn_ids:
            dispatch.schedule_send(turn_id, at=at)
        assert _queued("engine.jobs.send_due") == 1
        taken = dispatch.take_sends(slot)
        assert len(taken) == dispatch.SEND_BATCH
        assert _queued("engine.jobs.send_due") == 2
        assert sorted(taken + dispatch.take_sends(slot)) == sorted(turn_ids)
        assert _queued("engine.jobs.send_due") == 2

    def test_taking_sends_records_the_workers_claim_at_once(self) -> None:
        from engine import liveness

        [turn] = _chats_of_one_bot_each(self.fake, 1)
        at = timezone.now() - timedelta(seconds=5)
        dispatch.schedule_send(turn.pk, at=at)
        self.enterContext(mock.patch.object(liveness, "_worker_name", "worker-that-dies"))
        assert dispatch.take_sends(math.floor(at.timestamp())) == [turn.pk]
        # Killed before its job recorded anything itself: the sweep still knows whose turn it was.
        assert liveness.orphaned_claims([turn.pk]) == {turn.pk: "dead"}


def _sandbox_ready_turns(count: int) -> list[Turn]:
    """Ready turns in `count` sandbox chats (one each: a chat sends at most once a second)."""
    turns = []
    for index in range(count):
        chat = chat_create(title=f"Sandbox {index}")
        membership_add(chat=chat, bot=bot_create(name=f"Sandbox bot {index}"))
        redis_connection().set(f"{transports.SANDBOX_ID_KEY}{chat.pk}", 0)  # a running chat's id counter
        turns.append(ready_turn(chat))
    return turns


class BatchRecordingTests(RedisTransactionTestCase):
    """Recording a send batch: its queries, each turn's message and membership counts."""

    def test_a_send_batch_records_its_turns_in_the_same_queries_however_many_there_are(self) -> None:
        def queries(count: int) -> int:
            ids = [turn.pk for turn in _sandbox_ready_turns(count)]
            with CaptureQueriesContext(connection) as captured:
                assert set(delivery.send_turns(turn_ids=ids).values()) == {"sent"}
            return len(captured)

        assert queries(2) == queries(6)
        assert (
            Message.objects.count() == Turn.objects.filter(status=Turn.Status.SENT, message__isnull=False).count() == 8
        )

    def test_recording_a_group_links_each_message_counts_each_membership_and_keeps_the_sweeps_verdict(self) -> None:
        turns = _sandbox_ready_turns(3)
        Turn.objects.filter(pk=turns[1].pk).update(inputs={"topic": "BIST", "full_persona": False})
        Membership.objects.update(messages_since_refresh=3)
        Turn.objects.update(status=Turn.Status.SENDING)
        Turn.objects.filter(pk=turns[2].pk).update(status=Turn.Status.UNCONFIRMED)  # the sweep gave up on it
        memberships = {(m.chat_id, m.bot_id): m.pk for m in Membership.objects.all()}
        loaded = [
            delivery.LoadedSend(turn, turn.chat, turn.bot, memberships[(turn.chat_id, turn.bot_id)])
            for turn in Turn.objects.select_related("chat", "bot", "reply_to").order_by("pk")
        ]
        sent = [(send, SentMessage(message_id=100 + index, date=timezone.now())) for index, send in enumerate(loaded)]

        messages = delivery.record_sent([*sent])

        assert [(m.chat_id, m.telegram_message_id) for m in messages] == [
            (turns[0].chat_id, 100),
            (turns[1].chat_id, 101),
        ]
        rows = Turn.objects.order_by("pk").values_list("status", "message__telegram_message_id")
        assert list(rows) == [(Turn.Status.SENT, 100), (Turn.Status.SENT, 101), (Turn.Status.UNCONFIRMED, None)]
        assert Message.objects.count() == 2
        counts = Membership.objects.order_by("chat_id").values_list("messages_since_refresh", "persona_refreshed_at")
        full, counted, untouched = counts
        assert (full[0], counted[0], untouched[0]) == (0, 4, 3)  # a full persona resets the count; others add one
        assert full[1] is not None
        assert counted[1] is None


class BatchFailureTests(FakeTelegramTestCase):
    """A send batch whose recording fails still settles what Telegram refused."""

    def test_a_refused_send_is_settled_even_when_recording_its_group_fails(self) -> None:
        chat, bots = telegram_crowd(self.fake, size=2)
        other_chat = chat_create(title="Öteki grup", transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100600)
        membership_add(chat=other_chat, bot=bots[1])
        self.fake.bot_kicked("sendMessage", token=bots[1].token)
        delivered, refused = ready_turn(chat), ready_turn(other_chat)
        with (
            mock.patch.object(delivery, "record_sent", side_effect=RuntimeError("database gone")),
            self.assertRaises(RuntimeError),
        ):
            delivery.send_turns(turn_ids=[delivered.pk, refused.pk])
        statuses = dict(Turn.objects.values_list("pk", "status"))
        # The sweep ends the first.
        assert statuses == {delivered.pk: Turn.Status.SENDING, refused.pk: Turn.Status.FAILED}
        assert Membership.objects.get(chat=other_chat, bot=bots[1]).is_paused


LONG_QUESTION = (
    "Selam arkadaşlar, bu hafta piyasada çok şey oldu ve ben de kafamı toplamaya çalışıyorum. Merkez bankası "
    "faiz kararını açıkladı, dolar biraz geriledi, altın yerinde sayıyor. Bir de şunu merak ediyorum: THYAO bu "
    "seviyeden alınır mı sizce? Bilanço iyi geldi ama yabancı satışı da var gibi görünüyor."
)


GROUP = -100500  # telegram_crowd's chat
AYSE = {"id": 7, "is_bot": False, "first_name": "Ayşe"}


class CapabilityPacingTests(FakeTelegramTestCase):
    """Slow mode paces each bot in the chat; replies quote the part of a long message they answer."""

    def test_slow_mode_keeps_a_bots_sends_apart_without_asking_telegram(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        Chat.objects.filter(pk=chat.pk).update(slow_mode_delay=30)
        self.fake.set_chat(chat.telegram_chat_id, slow_mode_delay=30)  # type: ignore[arg-type]
        first, second = ready_turn(chat), ready_turn(chat, text="İkinci mesaj.")
        assert delivery.send_turn(turn_id=first.pk) == "sent"
        assert delivery.send_turn(turn_id=second.pk) == "deferred"
        second.refresh_from_db()
        assert second.next_run_at is not None
        assert timedelta(seconds=28) <= second.next_run_at - timezone.now() <= timedelta(seconds=31)
        assert len(self.fake.requests("sendMessage")) == 1  # no send Telegram would hold or refuse

    def test_slow_mode_is_per_bot(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        Chat.objects.filter(pk=chat.pk).update(slow_mode_delay=30)
        assert delivery.send_turn(turn_id=ready_turn(chat).pk) == "sent"
        time.sleep(1.05)  # the group's one message a second
        assert delivery.send_turn(turn_id=ready_turn(chat, bot_index=1).pk) == "sent"

    def test_slow_mode_is_one_more_window_of_the_sends_one_reservation_and_not_for_reactions(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        Chat.objects.filter(pk=chat.pk).update(slow_mode_delay=30)
        target = Message.objects.create(chat=chat, sender_name="Ayşe", text="THYAO?", telegram_message_id=41)
        turns = [ready_turn(chat), ready_turn(chat, text="👍", kind=Turn.Kind.REACTION, reply_to=target)]
        message, reaction = [delivery._pacing(send) for send in delivery.load_sends([t.pk for t in turns])]
        slow = [w for w in message.windows if w.key.endswith(":slow")]
        assert [(w.limit, w.seconds) for w in slow] == [(1, 30.0)]
        assert not [w for w in reaction.windows if w.key.endswith(":slow")]
        with mock.patch.object(delivery.limits, "reserve_each", wraps=delivery.limits.reserve_each) as reserve:
            delivery.send_turns(turn_ids=[turn.pk for turn in turns])
        assert reserve.call_count == 1

    def test_a_reply_to_a_long_question_quotes_the_sentence_it_answers(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        posted = self.fake.post_member_message(GROUP, LONG_QUESTION, sender=AYSE)
        question = Message.objects.create(
            chat=chat, sender_name="Ayşe", text=LONG_QUESTION, telegram_message_id=posted["message_id"]
        )
        quote = "THYAO bu seviyeden alınır mı sizce?"
        turn = ready_turn(chat, reply_to=question)
        Turn.objects.filter(pk=turn.pk).update(inputs={**turn.inputs, "quote": quote})
        assert delivery.send_turn(turn_id=turn.pk) == "sent"
        [request] = self.fake.requests("sendMessage")
        assert request.params["reply_parameters"] == {
            "message_id": posted["message_id"],
            "allow_sending_without_reply": True,
            "quote": quote,
        }
        assert self.fake.sent_messages(chat.telegram_chat_id)[-1]["quote"]["text"] == quote

    def test_a_quote_telegram_refuses_is_dropped_and_the_reply_still_sent(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        posted = self.fake.post_member_message(GROUP, LONG_QUESTION, sender=AYSE)
        question = Message.objects.create(
            chat=chat, sender_name="Ayşe", text=LONG_QUESTION, telegram_message_id=posted["message_id"]
        )
        turn = ready_turn(chat, reply_to=question)
        Turn.objects.filter(pk=turn.pk).update(inputs={**turn.inputs, "quote": "düzenlenmiş bir cümle"})
        assert delivery.send_turn(turn_id=turn.pk) == "sent"
        assert len(self.fake.requests("sendMessage")) == 2
        turn.refresh_from_db()
        assert turn.message is not None
        assert turn.message.reply_to_id == question.pk

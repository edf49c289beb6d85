from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from bots.models import Bot
from bots.tests.factories import BotFactory
from chats.models import Chat, Message
from chats.services import membership_add
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from config.testing.fake_telegram import FakeTelegram, serve_fake_telegram
from engine.models import Turn
from engine.services.single_turn import SingleTurnError, turn_run_once
from engine.tests.pipeline import FAST_SPEED, telegram_crowd

CHAT_ID = -100777
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_conn")]


@pytest.fixture(autouse=True)
def _offline() -> Iterator[None]:
    with override_settings(LLM_PROVIDER="offline"):
        yield


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    for server in serve_fake_telegram():
        with override_settings(TELEGRAM_API_BASE_URL=server.base_url, TELEGRAM_TIMEOUT_S=2.0):
            yield server


def sandbox_crowd(size: int = 3) -> tuple[Chat, list[Bot]]:
    chat = ChatFactory.create()
    bots = [BotFactory.create(speed=FAST_SPEED) for _ in range(size)]
    for bot in bots:
        membership_add(chat=chat, bot=bot)
    return chat, bots


def run(*args: object) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("run_turn", *map(str, args), stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


class TestSandbox:
    def test_it_generates_and_sends_one_turn_by_the_chosen_bot(self) -> None:
        chat, bots = sandbox_crowd()
        result = turn_run_once(chat_id=chat.pk, bot_id=bots[1].pk, kind="proactive")
        assert result.ok
        turn = result.turn
        assert (turn.status, turn.bot_id, turn.kind) == (Turn.Status.SENT, bots[1].pk, "proactive")
        assert turn.text
        assert turn.llm_calls >= 1
        assert turn.tokens_out > 0
        [message] = Message.objects.filter(chat=chat)
        assert (message.bot_id, message.text, message.pk) == (bots[1].pk, turn.text, turn.message_id)

    def test_without_bot_the_speaker_is_a_member_other_than_the_last_one(self) -> None:
        chat, bots = sandbox_crowd(size=2)
        MessageFactory.create(chat=chat, bot=bots[0], sender_user_id=None, sender_name=bots[0].name)
        for _ in range(2):
            last_speaker = Message.objects.filter(chat=chat).values_list("bot_id", flat=True).last()
            assert turn_run_once(chat_id=chat.pk).turn.bot_id != last_speaker

    def test_no_send_keeps_the_text_and_closes_the_turn(self) -> None:
        chat, _bots = sandbox_crowd()
        result = turn_run_once(chat_id=chat.pk, send=False)
        assert result.ok
        assert (result.turn.status, result.turn.error) == (Turn.Status.SKIPPED, "not sent: run_turn --no-send")
        assert result.turn.text
        assert not Message.objects.exists()

    def test_a_reply_answers_the_latest_member_message(self) -> None:
        chat, bots = sandbox_crowd()
        question = MessageFactory.create(chat=chat, text="Dolar ne olur sizce?", telegram_message_id=5)
        result = turn_run_once(chat_id=chat.pk, bot_id=bots[0].pk, kind="reply")
        assert result.turn.status == Turn.Status.SENT
        assert result.turn.message is not None
        assert result.turn.message.reply_to_id == question.pk

    def test_errors_name_the_problem(self) -> None:
        chat, _bots = sandbox_crowd()
        outsider = MembershipFactory.create().bot
        with pytest.raises(SingleTurnError, match="does not exist"):
            turn_run_once(chat_id=10**9)
        with pytest.raises(SingleTurnError, match=f"bot {outsider.pk} is not an enabled member of chat {chat.pk}"):
            turn_run_once(chat_id=chat.pk, bot_id=outsider.pk)
        with pytest.raises(SingleTurnError, match="nothing to react to"):
            turn_run_once(chat_id=chat.pk, kind="reaction")
        with pytest.raises(SingleTurnError, match="no enabled member bot"):
            turn_run_once(chat_id=ChatFactory.create().pk)
        assert not Turn.objects.exists()

    def test_the_command_prints_the_turn(self) -> None:
        chat, bots = sandbox_crowd()
        out, error = run(chat.pk, "--bot", bots[2].pk)
        assert error is None
        turn = Turn.objects.get()
        assert out.splitlines()[0] == f"turn       {turn.pk} ({turn.kind})"
        assert "status     sent (generation: ready, delivery: sent)" in out
        assert f"bot        {bots[2].name} (id {bots[2].pk})" in out
        assert f"text       {turn.text}" in out
        assert f"tokens     {turn.tokens_in} in, {turn.tokens_out} out" in out
        assert "latency    " in out
        assert "error      -" in out


class TestTelegram:
    def test_it_sends_through_telegram_after_one_typing_action(self, fake: FakeTelegram) -> None:
        chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        out, error = run(chat.pk, "--bot", bots[0].pk, "--kind", "proactive")
        assert error is None, out
        [sent] = fake.sent_messages(CHAT_ID)
        turn = Turn.objects.get()
        assert (turn.status, sent["text"]) == (Turn.Status.SENT, turn.text)
        methods = [r.method for r in fake.requests(token=bots[0].token)]
        assert methods == ["sendChatAction", "sendMessage"]
        assert bots[0].token not in out

    def test_a_reaction_targets_the_latest_message_of_someone_else(self, fake: FakeTelegram) -> None:
        chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        MessageFactory.create(chat=chat, telegram_message_id=77)
        MessageFactory.create(chat=chat, bot=bots[0], sender_user_id=None, telegram_message_id=78)
        result = turn_run_once(chat_id=chat.pk, bot_id=bots[0].pk, kind="reaction")
        assert result.turn.status == Turn.Status.SENT
        assert fake.reactions(CHAT_ID, 77)

    def test_a_failed_send_fails_the_command(self, fake: FakeTelegram) -> None:
        chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        fake.bot_kicked("sendMessage")
        out, error = run(chat.pk, "--bot", bots[0].pk, "--kind", "proactive")
        assert error is not None
        turn = Turn.objects.get()
        assert turn.status == Turn.Status.FAILED
        assert str(error).startswith(f"turn {turn.pk} failed: Telegram: ")
        assert "status     failed" in out

    def test_a_pacing_wait_is_waited_out(self, fake: FakeTelegram) -> None:
        chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        fake.rate_limit("sendMessage", retry_after=1)
        result = turn_run_once(chat_id=chat.pk, bot_id=bots[1].pk, kind="proactive", max_wait_s=10)
        assert result.ok
        assert len(fake.requests("sendMessage")) == 2

    def test_a_disabled_member_cannot_be_asked_to_speak(self, fake: FakeTelegram) -> None:
        chat, bots = telegram_crowd(fake, chat_id=CHAT_ID)
        membership_add(chat=chat, bot=bots[0], is_enabled=False)
        _, error = run(chat.pk, "--bot", bots[0].pk)
        assert error is not None
        assert "not an enabled member" in str(error)

from __future__ import annotations

from typing import Any

from chats.models import Chat, Message
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import (
    FakeTelegram,
    fake_telegram_for,
    make_chat,
    make_message,
    make_update,
    make_user,
)
from engine.clients.telegram_types import parse_update
from engine.models import Turn
from engine.services.ingestion import ingest_update
from engine.tests.pipeline import drain, telegram_crowd

CHAT_ID = -100500
MEMBER = make_user(4242, "Ayşe", "ayse_k")


def member_says(
    text: str,
    *,
    message_id: int,
    reply_to: dict[str, Any] | None = None,
    sender: dict[str, Any] = MEMBER,
    kind: str = "message",
    chat_id: int = CHAT_ID,
) -> dict[str, Any]:
    message = make_message(
        message_id=message_id,
        chat=make_chat(chat_id, "Borsa Grubu"),
        sender=sender,
        text=text,
        reply_to_message=reply_to,
    )
    return make_update(message_id, message, kind=kind)


def ingest(payload: dict[str, Any]) -> str:
    update = parse_update(payload)
    assert update is not None
    return ingest_update(update=update).outcome


class FakeTelegramTestCase(RedisTransactionTestCase):
    """A fake Bot API server for each test, with the offline LLM provider."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")


class AddressingTests(FakeTelegramTestCase):
    """Which bot a member's message makes reply: a mention, a reply to a bot's message, never a bot's own."""

    def test_a_mention_makes_only_that_bot_reply_threaded_to_the_member(self) -> None:
        _chat, bots = telegram_crowd(self.fake)
        assert ingest(member_says(f"@{bots[1].username} THYAO ne olur sence?", message_id=10)) == "stored"
        [turn] = Turn.objects.all()
        message = Message.objects.get(telegram_message_id=10)
        assert (turn.kind, turn.bot_id, turn.reply_to_id) == (Turn.Kind.PRIORITY_REPLY, bots[1].pk, message.pk)
        assert (message.sender_user_id, message.sender_username, message.sender_name) == (4242, "ayse_k", "Ayşe")
        drain(10, until=lambda: Turn.objects.get(pk=turn.pk).status == Turn.Status.SENT)
        [sent] = self.fake.requests("sendMessage")
        assert sent.token == bots[1].token
        assert sent.reply_to_message_id == 10

    def test_a_reply_to_a_bots_message_makes_that_bot_reply(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        bot_message = Message.objects.create(chat=chat, bot=bots[2], text="Altın uçar.", telegram_message_id=5)
        replied = {
            "message_id": 5,
            "chat": make_chat(CHAT_ID),
            "from": make_user(bots[2].telegram_id or 0, "B", is_bot=True),
            "date": 0,
            "text": bot_message.text,
        }
        ingest(member_says("Neden öyle düşünüyorsun?", message_id=11, reply_to=replied))
        [turn] = Turn.objects.all()
        assert (turn.bot_id, turn.reply_to.telegram_message_id) == (bots[2].pk, 11)  # type: ignore[union-attr]

    def test_the_first_mention_wins_and_only_one_bot_answers(self) -> None:
        _chat, bots = telegram_crowd(self.fake)
        ingest(member_says(f"@{bots[2].username} ve @{bots[0].username} kavga etmeyin", message_id=12))
        assert list(Turn.objects.values_list("bot_id", flat=True)) == [bots[2].pk]

    def test_messages_from_bots_never_trigger_replies(self) -> None:
        _chat, bots = telegram_crowd(self.fake)
        other_bot = make_user(999, "Spam", "spam_bot", is_bot=True)
        assert ingest(member_says(f"@{bots[0].username} hey", message_id=14, sender=other_bot)).startswith("stored")
        own_bot = make_user(bots[1].telegram_id or 0, "Bot 1", bots[1].username, is_bot=True)
        assert ingest(member_says(f"@{bots[0].username} hey", message_id=15, sender=own_bot)) == "ignored: our own bot"
        assert not Turn.objects.exists()
        assert Message.objects.get(telegram_message_id=14).sender_is_bot

    def test_a_disabled_member_bot_is_not_addressed(self) -> None:
        chat, bots = telegram_crowd(self.fake)
        chat.memberships.filter(bot=bots[0]).update(is_enabled=False)
        assert ingest(member_says(f"@{bots[0].username} selam", message_id=20)) == "stored"
        assert not Turn.objects.exists()


class UpdateHandlingTests(FakeTelegramTestCase):
    """Duplicates, edits and updates from chats the crowd does not serve."""

    def test_the_same_update_through_two_bots_is_stored_and_answered_once(self) -> None:
        _chat, bots = telegram_crowd(self.fake)
        payload = member_says(f"@{bots[0].username} selam", message_id=13)
        assert [ingest(payload), ingest(payload)] == ["stored", "duplicate"]
        assert Message.objects.filter(telegram_message_id=13).count() == 1
        assert Turn.objects.count() == 1

    def test_an_edit_updates_the_text_without_a_new_reply(self) -> None:
        telegram_crowd(self.fake)
        ingest(member_says("Dolar 40 olur", message_id=16))
        assert ingest(member_says("Dolar 45 olur", message_id=16, kind="edited_message")) == "edited"
        assert Message.objects.get(telegram_message_id=16).text == "Dolar 45 olur"
        assert Message.objects.count() == 1

    def test_unknown_chats_private_chats_and_channel_posts_are_ignored(self) -> None:
        _, bots = telegram_crowd(self.fake)
        assert ingest(member_says("selam", message_id=17, chat_id=-100999)) == "ignored: unknown chat"
        assert ingest(member_says(f"@{bots[0].username} selam", message_id=18, chat_id=4242)) == "ignored: not a group"
        assert ingest(member_says("duyuru", message_id=19, kind="channel_post")) == "ignored: unsupported update"
        assert not Message.objects.exists()

    def test_chat_lookup_is_per_transport(self) -> None:
        chat, _ = telegram_crowd(self.fake)
        Chat.objects.filter(pk=chat.pk).update(transport=Chat.Transport.SANDBOX)
        assert ingest(member_says("selam", message_id=21)) == "ignored: unknown chat"


class PriorityBatchTests(FakeTelegramTestCase):
    def test_priority_replies_are_generated_concurrently_in_a_batch(self) -> None:
        from engine.services.generation import generate_priority_batch

        _chat, bots = telegram_crowd(self.fake)
        for index, bot in enumerate(bots):
            ingest(member_says(f"@{bot.username} yorumun?", message_id=30 + index))
        first = Turn.objects.order_by("id").first()
        assert first is not None
        outcomes = generate_priority_batch(turn_id=first.pk)
        assert sorted(outcomes.values()) == ["ready", "ready", "ready"]
        assert set(Turn.objects.values_list("status", flat=True)) == {Turn.Status.READY}


class ParseUpdateTests(RedisTransactionTestCase):
    def test_parse_update_rejects_malformed_payloads(self) -> None:
        payloads: list[object] = [None, [], "x", {"update_id": "nope"}, {"update_id": 1, "message": {"message_id": 1}}]
        for payload in payloads:
            assert parse_update(payload) is None
        assert parse_update({"update_id": 1, "poll": {}}) is not None


class SandboxPostTests(RedisTransactionTestCase):
    def test_an_operator_posts_in_a_sandbox_chat_and_the_mentioned_bot_replies_threaded(self) -> None:
        from bots.services import bot_create
        from chats.services import chat_create, membership_add
        from engine.services.ingestion import sandbox_member_post
        from engine.tests.pipeline import FAST_SPEED

        chat = chat_create(title="Sandbox")
        bots = [bot_create(name=f"S{i}", username=f"sandbox{i}_bot", speed=FAST_SPEED) for i in range(2)]
        for bot in bots:
            membership_add(chat=chat, bot=bot)
        result = sandbox_member_post(chat=chat, sender_name="Operatör Ali", text="@sandbox1_bot altın için ne dersin?")
        turn_id, message_id = result.turn_id, result.message_id
        assert turn_id is not None
        assert message_id is not None
        question = Message.objects.get(pk=message_id)
        assert (question.sender_name, question.bot_id) == ("Operatör Ali", None)
        drain(10, until=lambda: Turn.objects.get(pk=turn_id).status == Turn.Status.SENT)
        answer = Turn.objects.get(pk=turn_id).message
        assert answer is not None
        assert (answer.bot_id, answer.reply_to_id) == (bots[1].pk, question.pk)
        # Replying to the bot's answer addresses that bot again, through the same path.
        follow_up = sandbox_member_post(
            chat=chat, sender_name="Operatör Ali", text="Emin misin?", reply_to_message_id=answer.telegram_message_id
        )
        assert follow_up.turn_id is not None
        assert Turn.objects.get(pk=follow_up.turn_id).bot_id == bots[1].pk

"""In-group admin commands: /pause, /resume and /quiet from group admins steer the crowd of that chat only."""

from __future__ import annotations

from datetime import timedelta

from django.test import SimpleTestCase
from django.utils import timezone

from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import FakeTelegram, anonymous_admin_fields, fake_telegram_for, make_user
from engine.models import Turn
from engine.selectors import settings_all
from engine.services import planning
from engine.services.commands import CommandName, parse_command
from engine.services.polling import poll_once
from engine.tests.pipeline import telegram_crowd

GROUP_ID = -1002471352452
OTHER_ID = -1002000111222
ADMIN = make_user(11, "Kemal", "kemal_admin")
MEMBER = make_user(4242, "Ayşe", "ayse_k")


class CommandsTestCase(RedisTransactionTestCase):
    """A crowd of three in a supergroup whose creator is Kemal; another chat shares the first bot."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        self.chat, self.bots = telegram_crowd(self.fake, chat_id=GROUP_ID)
        self.other = chat_create(title="Öteki", transport=Chat.Transport.TELEGRAM, telegram_chat_id=OTHER_ID)
        membership_add(chat=self.other, bot=self.bots[0])
        self.fake.set_member_status(GROUP_ID, ADMIN, "creator")

    def command(self, text: str, *, sender: dict[str, object] = ADMIN, chat_id: int = GROUP_ID, **extra: object) -> str:
        self.fake.post_member_message(chat_id, text, sender=sender, to_tokens=[self.bots[0].token], extra=extra)
        [outcome] = poll_once(bot=self.bots[0], timeout=0).outcomes
        return outcome

    def chat_now(self) -> Chat:
        return Chat.objects.get(pk=self.chat.pk)


class AdminCommandTests(CommandsTestCase):
    def test_an_admin_pauses_and_resumes_the_crowd_of_this_chat_only(self) -> None:
        assert self.command("/pause@crowd1_bot") == "command: paused"
        assert (self.chat_now().is_enabled, Chat.objects.get(pk=self.other.pk).is_enabled) == (False, True)
        assert self.command("/resume@crowd1_bot") == "command: resumed"
        assert self.chat_now().is_enabled
        assert not Message.objects.exists()  # never chat talk, never a turn, never a prompt
        assert not Turn.objects.exists()

    def test_quiet_holds_proactive_turns_for_the_minutes_given(self) -> None:
        before = timezone.now()
        assert self.command("/quiet@crowd0_bot 30") == "command: quiet for 30 min"
        quiet_until = self.chat_now().quiet_until
        assert quiet_until is not None
        assert timedelta(minutes=29) < quiet_until - before <= timedelta(minutes=30, seconds=5)
        due_now = planning._load_due_chats(timezone.now(), settings_all())
        due_later = planning._load_due_chats(quiet_until + timedelta(seconds=1), settings_all())
        assert [chat.chat_id for chat in due_now] == [self.other.pk]  # the quiet chat is not due, the other is
        assert {chat.chat_id for chat in due_later} == {self.chat.pk, self.other.pk}

    def test_an_anonymous_admin_counts_as_an_admin_without_asking_telegram(self) -> None:
        extra = anonymous_admin_fields(GROUP_ID)
        assert self.command("/pause@crowd2_bot", sender=extra["from"], **extra) == "command: paused"
        assert self.fake.requests("getChatMember") == []

    def test_the_admin_check_is_asked_once_and_cached(self) -> None:
        self.command("/pause@crowd0_bot")
        self.command("/resume@crowd0_bot")
        [asked] = self.fake.requests("getChatMember")
        assert (asked.params["chat_id"], asked.params["user_id"]) == (GROUP_ID, ADMIN["id"])


class IgnoredCommandTests(CommandsTestCase):
    def test_commands_the_crowd_does_not_obey_are_dropped_unanswered(self) -> None:
        cases = [
            ("a member", "/pause@crowd0_bot", MEMBER, "ignored: command from a non-admin"),
            ("another bot's command", "/pause@someone_elses_bot", ADMIN, "ignored: command for no bot of the crowd"),
            ("a plain command among three bots", "/pause", ADMIN, "ignored: command for no bot of the crowd"),
            ("quiet without minutes", "/quiet@crowd0_bot soon", ADMIN, "ignored: /quiet needs minutes"),
        ]
        for case, text, sender, outcome in cases:
            with self.subTest(case):
                assert self.command(text, sender=sender) == outcome
                assert self.chat_now().is_enabled
                assert self.chat_now().quiet_until is None
        assert not Message.objects.exists()
        assert not Turn.objects.exists()

    def test_a_plain_command_in_a_chat_with_one_bot_is_for_that_bot(self) -> None:
        self.fake.set_member_status(OTHER_ID, ADMIN, "administrator")
        assert self.command("/pause", chat_id=OTHER_ID) == "command: paused"
        assert not Chat.objects.get(pk=self.other.pk).is_enabled
        assert self.chat_now().is_enabled

    def test_ordinary_slash_words_stay_chat_talk(self) -> None:
        assert self.command("/start merhaba", sender=MEMBER) == "stored"


class ParseCommandTests(SimpleTestCase):
    def test_it_reads_our_commands_and_nothing_else(self) -> None:
        cases = [
            ("/pause", (CommandName.PAUSE, None, None)),
            ("/Quiet@Crowd0_Bot 15", (CommandName.QUIET, "crowd0_bot", "15")),
            ("  /resume@crowd1_bot", (CommandName.RESUME, "crowd1_bot", None)),
            ("/help", None),
            ("pause", None),
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                command = parse_command(text)
                got = None if command is None else (command.name, command.handle, command.argument)
                assert got == expected

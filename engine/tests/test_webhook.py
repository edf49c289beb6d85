"""The Telegram webhook view, its secret and payload checks, and registering webhooks (command and cron job)."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from io import StringIO
from typing import TYPE_CHECKING, Any

from django.core.management import CommandError, call_command
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rq import cron

from bots.models import Bot
from bots.services import bot_create, bot_update
from chats.models import Chat, Message
from chats.services import chat_create, membership_add
from config.testing.fake_telegram import FakeTelegram, make_chat, make_message, make_token, make_update, make_user
from engine import jobs
from engine.models import Turn
from engine.services.webhooks import inbox_for, webhook_secret

if TYPE_CHECKING:  # the test clients' response types exist only in the stubs
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

CHAT_ID = -100700
MEMBER = make_user(4242, "Ayşe", "ayse_k")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def member_update(
    text: str, *, message_id: int, sender: dict[str, Any] = MEMBER, kind: str = "message"
) -> dict[str, Any]:
    message = make_message(message_id=message_id, chat=make_chat(CHAT_ID, "Borsa"), sender=sender, text=text)
    return make_update(message_id, message, kind=kind)


class WebhookTestCase(TestCase):
    """A Telegram chat with two bots that have tokens."""

    def setUp(self) -> None:
        self.chat = chat_create(title="Borsa", transport=Chat.Transport.TELEGRAM, telegram_chat_id=CHAT_ID)
        self.bots = [
            bot_create(name=f"Hook {i}", username=f"hook{i}_bot", token=make_token(7_100_000_000 + i)) for i in range(2)
        ]
        for bot in self.bots:
            membership_add(chat=self.chat, bot=bot)

    def url(self, bot: Bot) -> str:
        return reverse("telegram-webhook", args=[inbox_for(bot).webhook_id])

    def deliver(self, bot: Bot, body: bytes | str | dict[str, Any], *, secret: str | None = "") -> TestResponse:
        """POST like Telegram: JSON body, the bot's secret header (secret=None leaves it out)."""
        data = json.dumps(body) if isinstance(body, dict) else body
        headers = {} if secret is None else {SECRET_HEADER: secret or webhook_secret(bot.token)}
        return self.client.post(self.url(bot), data=data, content_type="application/json", headers=headers)


class WebhookAuthTest(WebhookTestCase):
    """Only Telegram, proving the bot's secret, gets an update in."""

    def test_a_mention_is_stored_and_the_mentioned_bot_gets_a_priority_turn(self) -> None:
        response = self.deliver(self.bots[1], member_update("@hook1_bot dolar ne olur?", message_id=10))
        self.assertEqual((response.status_code, response.json()), (200, {"outcome": "stored"}))
        turn = Turn.objects.get()
        self.assertEqual((turn.bot_id, turn.kind), (self.bots[1].pk, Turn.Kind.PRIORITY_REPLY))

    def test_a_wrong_secret_is_403_and_nothing_is_stored(self) -> None:
        other_bots_secret = webhook_secret(self.bots[0].token)
        response = self.deliver(
            self.bots[1], member_update("@hook1_bot selam", message_id=11), secret=other_bots_secret
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Message.objects.exists())
        self.assertFalse(Turn.objects.exists())

    def test_a_missing_secret_is_403_and_nothing_is_stored(self) -> None:
        response = self.deliver(self.bots[0], member_update("selam", message_id=12), secret=None)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Message.objects.exists())

    def test_an_unknown_webhook_id_is_404(self) -> None:
        url = reverse("telegram-webhook", args=[uuid.uuid4()])
        response = self.client.post(url, data="{}", content_type="application/json")
        self.assertEqual(response.status_code, 404)
        response = self.client.post("/telegram/webhook/not-a-uuid/", data="{}", content_type="application/json")
        self.assertEqual(response.status_code, 404)

    def test_a_bot_without_a_token_has_no_webhook(self) -> None:
        sandbox_bot = bot_create(name="Sandbox only")
        response = self.client.post(self.url(sandbox_bot), data="{}", content_type="application/json")
        self.assertEqual(response.status_code, 404)

    def test_the_url_is_opaque_and_never_holds_the_token(self) -> None:
        url = self.url(self.bots[0])
        self.assertNotIn(self.bots[0].token.split(":")[1], url)
        self.assertNotIn(str(self.bots[0].telegram_id), url)

    def test_a_rotated_token_changes_the_secret(self) -> None:
        old_secret = webhook_secret(self.bots[0].token)
        bot = bot_update(bot=self.bots[0], token=make_token(7_100_000_000))
        self.assertNotEqual(webhook_secret(bot.token), old_secret)
        self.assertEqual(self.deliver(bot, member_update("selam", message_id=13), secret=old_secret).status_code, 403)

    def test_the_secret_uses_only_characters_telegram_allows(self) -> None:
        self.assertRegex(webhook_secret(self.bots[0].token), r"^[A-Za-z0-9_-]{1,256}$")

    def test_it_needs_no_csrf_token_and_accepts_only_post(self) -> None:
        client = Client(enforce_csrf_checks=True)
        update = json.dumps(member_update("selam", message_id=14))
        headers = {SECRET_HEADER: webhook_secret(self.bots[0].token)}
        response = client.post(self.url(self.bots[0]), data=update, content_type="application/json", headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(client.get(self.url(self.bots[0])).status_code, 405)


class WebhookPayloadTest(WebhookTestCase):
    """Malformed bodies are 4xx with nothing stored; updates ingestion ignores on purpose are 200."""

    def test_malformed_bodies_are_400_and_nothing_is_stored(self) -> None:
        bodies: list[bytes | str] = [
            b"",
            b"not json",
            b"\xff\xfe\x00garbage",
            "[1, 2]",
            '"update"',
            '{"update_id": "x"}',
            '{"update_id": 1, "message": {"message_id": 1}}',
            "[" * 100_000,
            json.dumps(member_update("selam", message_id=2**64)),
            json.dumps(member_update("nul \x00 byte", message_id=15)),
            '{"update_id": 16, "message": {"message_id": 16, "chat": {"id": -100700, "type": "supergroup"},'
            ' "from": {"id": 1, "first_name": "x"}, "text": "\\ud800"}}',
        ]
        for body in bodies:
            with self.subTest(body=body[:40]):
                self.assertEqual(self.deliver(self.bots[0], body).status_code, 400)
        self.assertFalse(Message.objects.exists())

    def test_a_body_over_one_megabyte_is_413(self) -> None:
        body = json.dumps({**member_update("selam", message_id=17), "padding": "x" * 1024 * 1024})
        self.assertEqual(self.deliver(self.bots[0], body).status_code, 413)
        self.assertFalse(Message.objects.exists())

    def test_updates_ignored_on_purpose_are_200(self) -> None:
        channel_post = member_update("duyuru", message_id=18, kind="channel_post")
        unknown_chat = {**member_update("selam", message_id=19), "message": {**make_message(
            message_id=19, chat=make_chat(-100999), sender=MEMBER, text="selam"
        )}}  # fmt: skip
        private = make_update(20, make_message(message_id=20, chat=make_chat(4242), sender=MEMBER, text="selam"))
        for update in (channel_post, unknown_chat, private, {"update_id": 21, "poll": {"id": "1"}}):
            with self.subTest(update=update):
                response = self.deliver(self.bots[0], update)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.json()["outcome"].startswith("ignored"))
        self.assertFalse(Message.objects.exists())

    def test_the_same_update_through_two_bots_is_stored_and_answered_once(self) -> None:
        update = member_update("@hook0_bot THYAO?", message_id=22)
        outcomes = [self.deliver(bot, update).json()["outcome"] for bot in self.bots]
        self.assertEqual(outcomes, ["stored", "duplicate"])
        self.assertEqual(Message.objects.filter(telegram_message_id=22).count(), 1)
        self.assertEqual(list(Turn.objects.values_list("bot_id", flat=True)), [self.bots[0].pk])

    def test_a_bots_message_never_triggers_a_reply(self) -> None:
        own = make_user(self.bots[1].telegram_id or 0, "Hook 1", "hook1_bot", is_bot=True)
        foreign = make_user(999, "Spam", "spam_bot", is_bot=True)
        own_outcome = self.deliver(self.bots[0], member_update("@hook0_bot hey", message_id=23, sender=own)).json()
        foreign_outcome = self.deliver(self.bots[0], member_update("@hook0_bot hey", message_id=24, sender=foreign))
        self.assertEqual(own_outcome["outcome"], "ignored: our own bot")
        self.assertEqual(foreign_outcome.json()["outcome"], "stored: from a bot, no reply")
        self.assertFalse(Turn.objects.exists())

    def test_an_edit_updates_the_stored_text(self) -> None:
        self.deliver(self.bots[0], member_update("Dolar 40", message_id=25))
        response = self.deliver(self.bots[0], member_update("Dolar 45", message_id=25, kind="edited_message"))
        self.assertEqual(response.json()["outcome"], "edited")
        self.assertEqual(Message.objects.get().text, "Dolar 45")


# Values of every JSON type, so update-shaped dicts get fields of the wrong type as often as the right one.
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the valid value, sometimes any other JSON value (so some updates are whole and get stored)."""
    return st.integers(0, 11).flatmap(lambda choice: valid if choice else JSON_VALUES)


TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=60)  # NUL comes from JSON_VALUES
USERS = st.fixed_dictionaries(
    {"id": maybe(st.integers(1, 2**40)), "first_name": maybe(TEXT)},
    optional={"is_bot": maybe(st.booleans()), "username": maybe(TEXT)},
)
ENTITY = st.fixed_dictionaries(
    {
        "type": maybe(st.sampled_from(["mention", "text_mention"])),
        "offset": maybe(st.integers(0, 30)),
        "length": maybe(st.integers(0, 30)),
    },
    optional={"user": USERS},
)
ENTITIES = st.lists(ENTITY, max_size=3)
CHATS = st.fixed_dictionaries(
    {"id": maybe(st.sampled_from([CHAT_ID, -1, 5])), "type": maybe(st.sampled_from(["supergroup", "group", "private"]))}
)
MESSAGES = st.fixed_dictionaries(
    {
        "message_id": maybe(st.integers(1, 2**31)),
        "chat": maybe(CHATS),
        "from": maybe(USERS),
        "text": maybe(st.sampled_from(["@fuzz_bot ne dersin?", "selam", " "]) | TEXT),
    },
    optional={
        "caption": maybe(TEXT),
        "entities": maybe(ENTITIES),
        "date": maybe(st.integers(0, 2**32)),
    },
)
UPDATES = st.fixed_dictionaries(
    {"update_id": maybe(st.integers(1, 2**31)) | st.integers(), "message": maybe(MESSAGES)},
    optional={"edited_message": maybe(MESSAGES), "channel_post": maybe(MESSAGES)},
)


class WebhookFuzzTest(HypothesisTestCase):
    """Random bodies never make the webhook fail with a 5xx, and bodies it refuses store nothing."""

    url: str
    headers: dict[str, str]

    @classmethod
    def setUpTestData(cls) -> None:
        # Once per class: hypothesis runs each example in its own transaction inside this one.
        chat = chat_create(title="Borsa", transport=Chat.Transport.TELEGRAM, telegram_chat_id=CHAT_ID)
        bot = bot_create(name="Fuzz", username="fuzz_bot", token=make_token(7_200_000_000))
        membership_add(chat=chat, bot=bot)
        cls.url = reverse("telegram-webhook", args=[inbox_for(bot).webhook_id])
        cls.headers = {SECRET_HEADER: webhook_secret(bot.token)}

    def stored(self) -> tuple[int, int]:
        return Message.objects.count(), Turn.objects.count()

    def check(self, body: bytes) -> None:
        before = self.stored()
        response = self.client.post(self.url, data=body, content_type="application/json", headers=self.headers)
        self.assertLess(response.status_code, 500)
        self.assertIn(response.status_code, (200, 400))
        if response.status_code == 400 or response.json()["outcome"].startswith("ignored"):
            self.assertEqual(self.stored(), before)  # no message and no reply turn from a refused body

    @settings(max_examples=100, deadline=None)
    @given(st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=80))
    def test_any_other_secret_header_is_403_and_stores_nothing(self, secret: str) -> None:
        before = self.stored()
        update = json.dumps(member_update("@fuzz_bot selam", message_id=31)).encode()
        headers = {SECRET_HEADER: secret}
        response = self.client.post(self.url, data=update, content_type="application/json", headers=headers)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.stored(), before)

    @settings(max_examples=150, deadline=None)
    @given(JSON_VALUES)
    def test_arbitrary_json_values(self, value: Any) -> None:
        self.check(json.dumps(value).encode())

    @settings(max_examples=150, deadline=None)
    @given(st.binary(max_size=300))
    def test_arbitrary_bytes(self, body: bytes) -> None:
        self.check(body)

    @settings(max_examples=300, deadline=None)
    @given(UPDATES)
    def test_update_shaped_dicts_with_random_field_types(self, update: dict[str, Any]) -> None:
        self.check(json.dumps(update).encode())


class FakeTelegramTestCase(WebhookTestCase):
    """The bots are registered with a fake Bot API server."""

    fake: FakeTelegram

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.fake = cls.enterClassContext(FakeTelegram())
        cls.enterClassContext(override_settings(TELEGRAM_API_BASE_URL=cls.fake.base_url, TELEGRAM_TIMEOUT_S=2.0))

    def setUp(self) -> None:
        super().setUp()
        self.fake.clear_requests()  # the server lives for the class; each test sees only its own requests
        for bot in self.bots:
            self.fake.add_bot(username=bot.username, token=bot.token)


class SetWebhookCommandTest(FakeTelegramTestCase):
    """`setwebhook` registers each listening bot's opaque URL and secret, and never prints a token."""

    def run_command(self, *args: str) -> str:
        out = StringIO()
        call_command("setwebhook", *args, stdout=out)
        return out.getvalue()

    def test_it_registers_the_url_secret_and_update_types_of_each_listening_bot(self) -> None:
        output = self.run_command("--base-url", "https://piyasa.example/")
        for bot in self.bots:
            state = self.fake.webhook(bot.token)
            assert state is not None
            self.assertEqual(state.url, f"https://piyasa.example{self.url(bot)}")
            self.assertEqual(state.secret_token, webhook_secret(bot.token))
            self.assertEqual(state.allowed_updates, ["message", "edited_message", "my_chat_member"])
            self.assertIn(f"@{bot.username}: set (https://piyasa.example{self.url(bot)})", output)
            self.assertNotIn(bot.token.split(":")[1], output)

    def test_bots_that_do_not_listen_are_left_alone(self) -> None:
        self.chat.memberships.filter(bot=self.bots[0]).update(is_enabled=False)
        Bot.objects.filter(pk=self.bots[1].pk).update(is_enabled=False)
        self.assertIn("No listening bots", self.run_command("--base-url", "https://piyasa.example"))
        self.assertFalse(self.fake.requests("setWebhook"))

    def test_delete_removes_the_webhooks(self) -> None:
        self.run_command("--base-url", "https://piyasa.example")
        self.assertIn("@hook0_bot: deleted", self.run_command("--delete"))
        self.assertIsNone(self.fake.webhook(self.bots[0].token))

    def test_it_needs_a_base_url(self) -> None:
        with override_settings(WEBHOOK_BASE_URL=""), self.assertRaisesMessage(CommandError, "WEBHOOK_BASE_URL"):
            self.run_command()

    def test_a_failure_is_reported_per_bot_and_exits_non_zero(self) -> None:
        self.fake.fail("setWebhook", status=401, description="Unauthorized", token=self.bots[0].token)
        with self.assertRaisesMessage(CommandError, "Failed for @hook0_bot"):
            self.run_command("--base-url", "https://piyasa.example")
        self.assertIsNotNone(self.fake.webhook(self.bots[1].token))


class EnsureWebhooksJobTest(FakeTelegramTestCase):
    """The cron job registers webhooks only when WEBHOOK_BASE_URL is set and Telegram's URL or the token differ."""

    def test_it_does_nothing_without_a_base_url(self) -> None:
        with override_settings(WEBHOOK_BASE_URL=""):
            self.assertEqual(jobs.ensure_webhooks(), {"webhook_base_url": False})
        self.assertFalse(self.fake.requests())

    @override_settings(WEBHOOK_BASE_URL="https://piyasa.example")
    def test_it_sets_missing_webhooks_then_leaves_them_alone(self) -> None:
        self.assertEqual(jobs.ensure_webhooks(), {"set": 2, "unchanged": 0, "failed": 0})
        self.assertEqual(jobs.ensure_webhooks(), {"set": 0, "unchanged": 2, "failed": 0})
        self.assertEqual(len(self.fake.requests("setWebhook")), 2)

    @override_settings(WEBHOOK_BASE_URL="https://piyasa.example")
    def test_a_rotated_token_is_registered_again_with_its_new_secret(self) -> None:
        jobs.ensure_webhooks()
        new_token = make_token(self.bots[0].telegram_id or 0)
        self.fake.add_bot(username="hook0_bot", token=new_token)
        bot = bot_update(bot=self.bots[0], token=new_token)
        self.assertEqual(jobs.ensure_webhooks(), {"set": 1, "unchanged": 1, "failed": 0})
        state = self.fake.webhook(new_token)
        assert state is not None
        self.assertEqual(state.secret_token, webhook_secret(bot.token))

    @override_settings(WEBHOOK_BASE_URL="https://new.example")
    def test_a_changed_base_url_is_registered_again(self) -> None:
        call_command("setwebhook", "--base-url", "https://old.example", stdout=StringIO())
        self.assertEqual(jobs.ensure_webhooks()["set"], 2)
        state = self.fake.webhook(self.bots[0].token)
        assert state is not None
        self.assertTrue(state.url.startswith("https://new.example/telegram/webhook/"))


class EnsureWebhooksCronTest(TestCase):
    def test_it_is_registered_every_10_minutes_on_the_low_queue(self) -> None:
        saved = cron._job_data_registry[:]
        cron._job_data_registry.clear()
        sys.modules.pop("config.cron", None)
        try:
            importlib.import_module("config.cron")
            entries = [entry for entry in cron._job_data_registry if entry["func"] is jobs.ensure_webhooks]
        finally:
            cron._job_data_registry[:] = saved
        self.assertEqual([(e["queue_name"], e["interval"], e["ttl"]) for e in entries], [("low", 600, 600)])

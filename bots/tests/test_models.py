from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from bots.models import Bot, Holding, Memory, Stance
from bots.services import bot_create, bot_set_token
from chats.models import Message
from chats.services import chat_create, membership_add
from engine.models import Turn

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"


class BotTokenTests(TestCase):
    def test_it_round_trips_the_token_through_encryption(self) -> None:
        bot = bot_create(name="Ayşe", token=TOKEN)
        self.assertEqual(Bot.objects.get(pk=bot.pk).token, TOKEN)

    def test_it_never_stores_the_plaintext(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            bot = bot_create(name="Ayşe", token=TOKEN)
            Bot.objects.get(pk=bot.pk).token  # noqa: B018 - a read must not leak either
        self.assertNotIn(TOKEN, bot.token_encrypted)
        self.assertFalse(any(TOKEN in query["sql"] for query in queries.captured_queries))
        row = Bot.objects.filter(pk=bot.pk).values().get()
        self.assertNotIn(TOKEN, repr(row))

    def test_it_keeps_the_token_out_of_repr_and_str(self) -> None:
        bot = bot_create(name="Ayşe", token=TOKEN)
        for text in (repr(bot), str(bot), repr(Bot.objects.all())):
            self.assertNotIn(TOKEN, text)
            self.assertNotIn(TOKEN.split(":")[1], text)

    def test_it_keeps_the_token_out_of_logs(self) -> None:
        logger = logging.getLogger("piyasa.test")
        with self.assertLogs(logger, level="INFO") as logs:
            bot = bot_create(name="Ayşe", token=TOKEN)
            logger.info("created %r (%s) masked=%s", bot, bot, bot.masked_token)
        self.assertNotIn(TOKEN, "\n".join(logs.output))

    def test_it_masks_the_token(self) -> None:
        bot = bot_create(name="Ayşe", token=TOKEN)
        self.assertEqual(bot.masked_token, "1234…2345")

    def test_it_rejects_the_same_token_on_two_bots(self) -> None:
        bot_create(name="A", token=TOKEN)
        with self.assertRaises(ValidationError) as caught:
            bot_create(name="B", token=TOKEN)
        self.assertIn("token_fingerprint", caught.exception.message_dict)

    def test_it_allows_many_bots_without_token_or_username(self) -> None:
        bot_create(name="A")
        bot_create(name="B")
        self.assertEqual(Bot.objects.filter(token_fingerprint__isnull=True, username="").count(), 2)

    def test_it_rejects_a_duplicate_username(self) -> None:
        bot_create(name="A", username="piyasa_a")
        with self.assertRaises(IntegrityError):
            Bot.objects.create(name="B", username="piyasa_a")

    def test_it_removes_a_token(self) -> None:
        bot = bot_set_token(bot=bot_create(name="A", token=TOKEN), token="")
        bot.refresh_from_db()
        self.assertEqual((bot.token, bot.token_fingerprint, bot.masked_token), ("", None, ""))


class BotValidationTests(TestCase):
    def test_it_names_the_json_field_in_errors(self) -> None:
        bot = Bot(name="A", persona={"risk_profile": "extreme"}, speed={"typing_cps": [9, 3]})
        with self.assertRaises(ValidationError) as caught:
            bot.full_clean()
        errors = caught.exception.message_dict
        self.assertIn("persona.risk_profile", " ".join(errors["persona"]))
        self.assertIn("typing_cps", " ".join(errors["speed"]))

    def test_it_keeps_talkativeness_in_range(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            Bot(name="A", talkativeness=1.5).full_clean()
        self.assertIn("talkativeness", caught.exception.message_dict)

    def test_it_normalises_holding_symbols_and_rejects_bad_ones(self) -> None:
        bot = bot_create(name="A")
        holding = Holding(bot=bot, symbol="bist:thyao", size=10, average_price=250)
        holding.full_clean()
        self.assertEqual(holding.symbol, "BIST:THYAO")
        with self.assertRaises(ValidationError) as caught:
            Holding(bot=bot, symbol="not a symbol", size=1, average_price=1).full_clean()
        self.assertIn("symbol", caught.exception.message_dict)


class CascadeTests(TestCase):
    def make_bot_with_everything(self) -> Bot:
        bot = bot_create(name="Veteran", token=TOKEN)
        Stance.objects.create(bot=bot, topic="BIST", stance="Uzun vadede yukarı.", polarity="bullish")
        Holding.objects.create(bot=bot, symbol="BIST:THYAO", size=100, average_price=250)
        Memory.objects.create(bot=bot, kind=Memory.Kind.PAST_EVENT, content="2001 krizini gördüm.")
        return bot

    def test_it_deletes_a_bot_with_memories_stances_holdings_and_turns(self) -> None:
        bot = self.make_bot_with_everything()
        chat = chat_create(title="Demo")
        membership_add(chat=chat, bot=bot)
        message = Message.objects.create(chat=chat, bot=bot, sender_name=bot.name, text="Merhaba")
        Turn.objects.create(chat=chat, bot=bot, due_at=message.created_at, message=message)
        bot.delete()
        self.assertFalse(Memory.objects.exists() or Stance.objects.exists() or Holding.objects.exists())
        self.assertFalse(Turn.objects.exists() or chat.memberships.exists())
        message.refresh_from_db()
        self.assertEqual((message.bot_id, message.speaker_label), (None, "Veteran"))

from __future__ import annotations

from io import StringIO

from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import TestCase, override_settings

from bots.crypto import TokenDecryptionError
from bots.models import Bot
from bots.services import bot_create

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOKENS = ["111111:AAA-abcdefghijklmnopqrstuvwxyz012345", "222222:BBB-abcdefghijklmnopqrstuvwxyz012345"]


class RotateTokenKeysTests(TestCase):
    def test_it_re_encrypts_every_token_with_the_new_key(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
            for index, token in enumerate(TOKENS):
                bot_create(name=f"Bot {index}", token=token)
            bot_create(name="Sandbox only")
        out = StringIO()
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
            call_command("rotate_token_keys", stdout=out)
        self.assertIn("Re-encrypted 2 bot token(s)", out.getvalue())
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY]):
            self.assertEqual(sorted(bot.token for bot in Bot.objects.exclude(token_encrypted="")), TOKENS)

    def test_an_old_ciphertext_is_unreadable_without_its_key(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
            bot = bot_create(name="A", token=TOKENS[0])
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY]), self.assertRaises(TokenDecryptionError):
            Bot.objects.get(pk=bot.pk).token  # noqa: B018

    def test_rotation_keeps_fingerprints_so_a_taken_token_is_still_refused(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
            bot = bot_create(name="A", token=TOKENS[0])
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
            call_command("rotate_token_keys", stdout=StringIO())
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY]):
            rotated = Bot.objects.get(pk=bot.pk)
            self.assertEqual(rotated.token_fingerprint, bot.token_fingerprint)
            self.assertNotEqual(rotated.token_encrypted, bot.token_encrypted)
            with self.assertRaises(ValidationError):
                bot_create(name="B", token=TOKENS[0])

    def test_running_it_twice_is_harmless_and_it_never_prints_a_token(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
            bot_create(name="A", token=TOKENS[0])
        out = StringIO()
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
            call_command("rotate_token_keys", stdout=out, stderr=out)
            call_command("rotate_token_keys", stdout=out, stderr=out)
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY]):
            self.assertEqual(Bot.objects.get().token, TOKENS[0])
        self.assertNotIn(TOKENS[0].split(":")[1], out.getvalue())

    def test_a_token_no_key_can_read_stops_the_rotation_and_changes_nothing(self) -> None:
        lost_key = Fernet.generate_key().decode()
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
            readable = bot_create(name="A", token=TOKENS[0])
        with override_settings(TOKEN_ENCRYPTION_KEYS=[lost_key]):
            bot_create(name="B", token=TOKENS[1])
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]), self.assertRaises(InvalidToken):
            call_command("rotate_token_keys", stdout=StringIO())
        self.assertEqual(Bot.objects.get(pk=readable.pk).token_encrypted, readable.token_encrypted)  # rolled back

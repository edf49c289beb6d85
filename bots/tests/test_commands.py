from __future__ import annotations

from io import StringIO

from cryptography.fernet import Fernet
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

from __future__ import annotations

import io
import logging

from django.test import SimpleTestCase

from config.logging import RedactSecretsFilter

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"


class RedactSecretsFilterTests(SimpleTestCase):
    def log_through_filter(self, emit: object) -> str:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.addFilter(RedactSecretsFilter())
        logger = logging.getLogger("piyasa.redaction-test")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            emit(logger)  # type: ignore[operator]
        finally:
            logger.removeHandler(handler)
        return stream.getvalue()

    def test_it_redacts_tokens_in_messages_and_arguments(self) -> None:
        output = self.log_through_filter(lambda log: log.warning("POST https://x/bot%s/sendMessage", TOKEN))
        self.assertNotIn(TOKEN, output)
        self.assertIn("[redacted-token]", output)

    def test_it_redacts_tokens_in_tracebacks(self) -> None:
        def emit(log: logging.Logger) -> None:
            try:
                raise RuntimeError(f"url was /bot{TOKEN}/getMe")
            except RuntimeError:
                log.exception("send failed")

        output = self.log_through_filter(emit)
        self.assertIn("RuntimeError", output)
        self.assertNotIn(TOKEN, output)

    def test_it_keeps_ordinary_numbers(self) -> None:
        output = self.log_through_filter(lambda log: log.info("THYAO 12:30 fiyat 285.50, hacim 1234567"))
        self.assertIn("THYAO 12:30 fiyat 285.50, hacim 1234567", output)

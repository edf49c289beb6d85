from __future__ import annotations

import io
import logging
from collections.abc import Iterator

from django.conf import settings
from django.core import mail
from django.test import SimpleTestCase, override_settings

from config.logging import RedactSecretsFilter
from config.testing.logs import console_output
from config.tests.error_urls import TOKEN


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


def configured_handlers() -> Iterator[tuple[str, logging.Handler]]:
    """Handlers that write somewhere, on the root, the loggers settings configure and Django's own loggers.

    (Libraries' handlers on their own loggers, and pytest's capture handlers, are not the project's.)
    """
    configured = settings.LOGGING["loggers"]
    assert isinstance(configured, dict)
    names = {"", *configured}
    names |= {name for name in logging.Logger.manager.loggerDict if name.split(".")[0] == "django"}
    for name in sorted(names):
        for handler in logging.getLogger(name).handlers:
            if not type(handler).__module__.startswith("_pytest") and not isinstance(handler, logging.NullHandler):
                yield name, handler


@override_settings(ROOT_URLCONF="config.tests.error_urls")
class ErrorReportTests(SimpleTestCase):
    """A view failing with a token in its variables, message and POST data: no report or log line shows it."""

    def fail_request(self) -> str:
        self.client.raise_request_exception = False
        response = self.client.post("/send/", {"token": TOKEN, "text": "selam"})
        self.assertEqual(response.status_code, 500)
        return response.content.decode()

    def test_every_configured_handler_redacts_tokens(self) -> None:
        # Django's own "django" handlers (a DEBUG console, the admins' email) once bypassed the filter.
        handlers = list(configured_handlers())
        self.assertTrue(handlers)
        for logger, handler in handlers:
            with self.subTest(logger=logger, handler=handler):
                self.assertTrue(any(isinstance(f, RedactSecretsFilter) for f in handler.filters))

    @override_settings(DEBUG=True)
    def test_the_debug_500_page_never_shows_a_token(self) -> None:
        page = self.fail_request()
        self.assertIn("RuntimeError", page)
        self.assertIn("[redacted-token]", page)
        self.assertNotIn(TOKEN.split(":")[1], page)

    @override_settings(ADMINS=[("Ops", "ops@example.org")], DEBUG=False)
    def test_the_admins_error_email_never_shows_a_token(self) -> None:
        self.fail_request()
        self.assertEqual(len(mail.outbox), 1)
        email = mail.outbox[0]
        self.assertIn("RuntimeError", email.body)
        for text in (email.subject, email.body):
            self.assertNotIn(TOKEN.split(":")[1], text)

    def test_the_log_lines_of_a_failing_request_never_show_a_token(self) -> None:
        with console_output() as output:
            self.fail_request()
        self.assertIn("Internal Server Error: /send/", output.getvalue())
        self.assertNotIn(TOKEN.split(":")[1], output.getvalue())

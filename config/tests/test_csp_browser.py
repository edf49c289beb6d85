"""The Content-Security-Policy in a real browser: the Swagger docs and the admin work under it, with no violation.

Debian's chromium driven by Playwright against a live server; chromium reports every blocked script, style or
image as a console error, so "no console error" means the policy blocks nothing these pages need.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest.mock import patch

from django.contrib.auth.models import User
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.management import call_command

from bots.models import Bot
from config.testing.cases import RedisTransactionTestCase

CHROMIUM = os.environ.get("PIYASA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
PASSWORD = "csp-tarayıcı-parolası"
# Browsers ask for a favicon; its 404 is not a policy violation (the console line does not say which resource
# failed, so such lines are left out and every failed response is recorded with its URL instead).
IGNORED = ("favicon.ico", "Failed to load resource")


def violations(errors: list[str]) -> list[str]:
    return [error for error in errors if not any(ignored in error for ignored in IGNORED)]


class CspBrowserTests(RedisTransactionTestCase, StaticLiveServerTestCase):
    """A chromium page logged in to the admin as a superuser, and the console errors it reports."""

    tab: Any
    errors: list[str]

    def setUp(self) -> None:
        super().setUp()
        if not Path(CHROMIUM).exists():
            if os.environ.get("CI"):
                self.fail(f"no chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
            self.skipTest(f"no chromium at {CHROMIUM}")
        from playwright.sync_api import sync_playwright

        # Playwright's sync API runs an event loop here
        self.enterContext(patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}))
        call_command("create_demo_crowd", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed at exit
        User.objects.create_superuser("root", password=PASSWORD)
        playwright = self.enterContext(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.addCleanup(browser.close)
        tab = browser.new_page()
        tab.set_default_timeout(20_000)
        errors: list[str] = []
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        # A load cut short by the next navigation (net::ERR_ABORTED) is no violation; CSP's own block is
        # net::ERR_BLOCKED_BY_CSP and is counted with everything else.
        tab.on(
            "requestfailed",
            lambda request: (
                None
                if request.failure == "net::ERR_ABORTED"
                else errors.append(f"failed: {request.url} ({request.failure})")
            ),
        )
        tab.on(
            "response", lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
        )
        tab.goto(f"{self.live_server_url}/admin/login/")
        tab.fill("#id_username", "root")
        tab.fill("#id_password", PASSWORD)
        tab.click("input[type=submit]")
        tab.wait_for_url(f"{self.live_server_url}/admin/")
        self.tab, self.errors = tab, errors

    def test_the_swagger_docs_render_every_operation_under_the_policy(self) -> None:
        tab, errors = self.tab, self.errors
        response = tab.goto(tab.url.replace("/admin/", "/api/docs/"))
        assert "script-src 'self'" in response.headers["content-security-policy"]
        tab.wait_for_selector(".opblock")
        assert tab.locator(".opblock").count() > 50
        assert tab.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(250, 250, 250)"  # inline <style>
        assert violations(errors) == []

    def test_the_admin_scripts_and_styles_work_under_the_policy(self) -> None:
        tab, errors = self.tab, self.errors
        bot = Bot.objects.order_by("pk").first()
        assert bot is not None
        tab.goto(tab.url + f"bots/bot/{bot.pk}/change/")
        rows = tab.locator("#stances-group tr.form-row")
        before = rows.count()
        tab.locator("#stances-group .add-row a").first.click()  # the admin's inline formset script
        assert rows.count() == before + 1
        assert "monospace" in tab.evaluate("getComputedStyle(document.getElementById('id_persona')).fontFamily")
        for path in ("bots/bot/", "bots/bot/add/", "chats/chat/", "engine/setting/add/", "auth/user/add/"):
            tab.goto(tab.url.split("/admin/")[0] + f"/admin/{path}")
        assert violations(errors) == []

"""The dashboard in a real browser: Debian's chromium driven by Playwright against a live server.

The engine runs in the test's thread (tick + an in-process RQ worker), the pages in chromium poll the
live server exactly as an operator's browser would. Screenshots of each page go to build/browser/.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.management import call_command
from playwright.sync_api import expect, sync_playwright

from accounts.roles import Role
from accounts.services import api_user_create
from bots.models import Bot, Interview, Stance
from chats.models import Chat, Message
from config.testing.cases import RedisTransactionTestCase
from config.testing.fake_telegram import fake_telegram_for
from engine import jobs
from engine.models import MarketEvent, Turn
from engine.portability.exporting import crowd_export
from engine.selectors import settings_all
from engine.services import settings_update
from engine.services.events import event_create
from engine.services.polling import poll_once
from engine.tests.pipeline import FAST_SPEED, drain

CHROMIUM = os.environ.get("PIYASA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-extensions", "--no-first-run"]  # fmt: skip
SCREENSHOTS = Path(settings.BASE_DIR) / "build" / "browser"
PASSWORD = "tarayıcı-testi-parolası"
WAIT_MS = 20_000


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def run_engine(until: Callable[[], bool], *, seconds: float = 60) -> None:
    """Tick and work the queues in this thread until the condition holds."""
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the engine did not get there in time"
        jobs.tick()
        drain(0.3)


def demo_crowd() -> Chat:
    call_command("create_demo_crowd", stdout=open(os.devnull, "w"))  # noqa: SIM115
    Chat.objects.update(cadence=30)
    Bot.objects.update(speed=FAST_SPEED, active_hours=[])
    limits = {"max_msgs_per_min": 600, "bot_hourly_msg_limit": {"min": 100, "max": 100}}
    settings_update(values={"simulation_active": False, "scale_factor": 10.0, **limits})
    return Chat.objects.get()


def log_in(page: Any, base: str) -> None:
    user, _ = api_user_create(username="operatör", role=Role.OPERATOR)
    user.set_password(PASSWORD)
    user.save()
    page.goto(base + "/")
    page.wait_for_url("**/login/?next=/")
    shot(page, "01-login")
    page.fill("#id_username", "operatör")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def bot_messages_shown(page: Any, count: int) -> None:
    page.locator("#messages .msg-bot").nth(count - 1).wait_for()


class DashboardBrowserTests(RedisTransactionTestCase, StaticLiveServerTestCase):
    """A chromium page and the console errors and uncaught exceptions it reports."""

    page: Any
    problems: list[str]

    def setUp(self) -> None:
        super().setUp()
        if not Path(CHROMIUM).exists():
            message = f"no chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)"
            if os.environ.get("CI"):
                self.fail(message)  # CI must run the browser tests, never skip them
            self.skipTest(message)
        # Playwright's sync API runs an event loop in this thread; the ORM calls below are still synchronous.
        self.enterContext(patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        playwright = self.enterContext(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.addCleanup(browser.close)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(WAIT_MS)
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        self.page, self.problems = page, problems

    def test_an_operator_runs_watches_and_talks_to_the_crowd(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        chat = demo_crowd()
        log_in(page, base)
        page.wait_for_selector("#summary-age:has-text('updated')")
        assert page.inner_text("#simulation-state") == "stopped"
        assert page.inner_text("[data-health='database'] .detail") == "ok"
        shot(page, "02-overview-stopped")

        page.click("#start-button")
        page.wait_for_selector("#simulation-state:has-text('running')")
        assert settings_all().simulation_active is True

        page.goto(f"{base}/chats/")
        shot(page, "03-chat-list")
        page.click(f"a[href='/chats/{chat.pk}/']")
        page.wait_for_selector("#messages", state="attached")
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
        run_engine(lambda: Message.objects.filter(bot__isnull=False).count() >= 3)
        bot_messages_shown(page, 3)
        assert navigations == [], "the live view must update without reloading"
        shot(page, "04-chat-live")

        settings_update(values={"simulation_active": False})  # only the reply from here on
        page.click(".mention-button >> nth=0")
        addressed = Bot.objects.get(username=page.get_attribute(".mention-button >> nth=0", "data-username"))
        page.fill("#id_text", page.input_value("#id_text") + "dolar bugün nereye gider sizce?")
        page.click("#post-form button[type=submit]")
        page.wait_for_selector("#post-status:has-text('a bot is answering')")
        run_engine(lambda: Turn.objects.filter(kind=Turn.Kind.PRIORITY_REPLY, status=Turn.Status.SENT).exists())
        reply = Turn.objects.get(kind=Turn.Kind.PRIORITY_REPLY)
        assert reply.bot == addressed
        threaded = "#messages .msg-bot:has(.quote:has-text('dolar bugün nereye gider'))"
        page.wait_for_selector(f"{threaded} .speaker:has-text('{addressed.name}')")
        shot(page, "05-chat-threaded-reply")

        page.goto(f"{base}/")
        page.wait_for_selector("#summary-age:has-text('updated')")
        expect(page.locator("[data-field='turns.sent']")).not_to_have_text("–")
        shot(page, "06-overview-after")
        assert problems == []

    def test_an_invalid_stance_shows_an_inline_error_and_the_editors_render(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        chat = demo_crowd()
        bot = Bot.objects.order_by("name").first()
        assert bot is not None
        stances = bot.stances.count()
        log_in(page, base)
        page.goto(f"{base}/bots/")
        shot(page, "07-bot-list")
        page.click(f"a[href='/bots/{bot.pk}/']")
        page.wait_for_selector("form#stance-form")
        shot(page, "08-bot-page")
        page.fill("#stance-form [name='stance-topic']", "BIST:THYAO")
        page.fill("#stance-form [name='stance-confidence']", "1.5")
        page.click("#stance-form button[type=submit]")
        error = page.locator("#id_stance-confidence-errors")
        expect(error).to_contain_text("less than or equal to 1")
        expect(page.locator("#stance-form .field-errors").first).to_be_visible()
        assert bot.stances.count() == stances, "an invalid stance is not stored"
        shot(page, "09-bot-invalid-stance")
        for path, name in (
            (f"/chats/{chat.pk}/edit/", "10-chat-edit"),
            ("/turns/", "11-turns"),
            ("/settings/", "12-settings"),
        ):
            page.goto(base + path)
            page.wait_for_selector("main.page h1")
            shot(page, name)
        # The invalid form came back as a 400 page, which chromium reports as a failed resource load.
        assert [problem for problem in problems if "status of 400" not in problem] == []

    def test_the_chat_page_shows_the_quality_panel_after_a_member_is_answered(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        chat = demo_crowd()
        bot = Bot.objects.order_by("name").first()
        assert bot is not None
        log_in(page, base)
        page.goto(f"{base}/chats/{chat.pk}/")
        page.fill("#id_sender_name", "Ali")
        page.fill("#id_text", f"@{bot.username} THYAO bu hafta nereye?")
        page.click("#post-form button[type=submit]")
        page.wait_for_selector("#post-status:has-text('a bot is answering')")
        run_engine(lambda: Turn.objects.filter(kind=Turn.Kind.PRIORITY_REPLY, status=Turn.Status.SENT).exists())
        page.reload()
        panel = page.locator("#quality")
        expect(panel).to_contain_text("1 bot and 1 member messages")
        addressed_first = panel.locator("tr[data-figure='addressed_first']")
        expect(addressed_first.locator(".badge")).to_have_text("green")
        expect(addressed_first.locator(".value")).to_have_text("100%")
        expect(panel.locator("tr[data-figure='members_answered'] .badge")).to_have_text("green")
        expect(panel.locator("tr[data-figure='doubled_replies'] .value")).to_have_text("0")
        definition = panel.locator("tr[data-figure='on_topic'] th")
        assert "name that symbol or its topic" in (definition.get_attribute("title") or "")
        expect(definition.locator(".definition")).to_be_visible()
        shot(page, "13-chat-quality")
        assert problems == []

    def test_an_operator_interviews_a_bot_on_its_page_and_nothing_is_posted(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        demo_crowd()
        stance = Stance.objects.order_by("bot__name", "topic").first()
        assert stance is not None
        bot, messages = stance.bot, Message.objects.count()
        log_in(page, base)
        page.goto(f"{base}/bots/{bot.pk}/")
        page.fill("#interview-form [name='question']", f"{stance.topic.rpartition(':')[2]} hakkında ne düşünüyorsun?")
        page.click("#interview-form button[type=submit]")
        page.wait_for_selector(".flash-success:has-text('answered (privately; nothing was posted)')")
        interview = Interview.objects.get()
        expect(page.locator(f"[data-interview='{interview.pk}'] .interview-answer")).to_contain_text(interview.answer)
        assert stance.stance.rstrip(".")[1:] in interview.answer
        assert Message.objects.count() == messages, "an interview is never posted"
        assert not Turn.objects.exists()
        shot(page, "14-bot-interview")
        assert problems == []

    def test_an_operator_injects_an_event_and_the_crowd_reacts_on_the_chat_page(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        chat = demo_crowd()
        settings_update(values={"simulation_active": True})
        log_in(page, base)
        page.goto(f"{base}/chats/{chat.pk}/")
        page.click("#inject-event")
        page.fill("#id_text", "TCMB politika faizini 500 baz puan artırdı")
        page.fill("#id_symbols", "THYAO, $$$")
        page.select_option("#id_direction", "up")
        page.click("#event-form button[type=submit]")
        expect(page.locator("#id_symbols-errors")).to_contain_text("$$$")
        page.fill("#id_symbols", "THYAO")
        page.select_option("#id_intensity", "high")
        page.click("#event-form button[type=submit]")
        page.wait_for_selector(".flash-success:has-text('Event fired')")
        event = MarketEvent.objects.get()
        assert list(event.chats.all()) == [chat]
        run_engine(lambda: Message.objects.filter(chat=chat, bot__isnull=False).count() >= 3)
        page.goto(f"{base}/chats/{chat.pk}/")
        expect(page.locator(f"#event-timeline [data-event='{event.pk}']")).to_contain_text("500 baz puan")
        bot_messages_shown(page, 3)
        later = event_create(text="BDDK kredi kartı limitlerini sıkılaştırdı", direction="down", intensity=0.6)
        # No reload: the open page swaps the timeline in when an event fires.
        expect(page.locator(f"#event-timeline [data-event='{later.pk}']")).to_contain_text("BDDK", timeout=15_000)
        shot(page, "15-market-event")
        assert problems == []

    def test_an_operator_generates_reviews_edits_and_saves_personas(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        log_in(page, base)
        page.goto(f"{base}/bots/")
        page.click("a[href='/bots/generate/']")
        page.fill("#id_brief", "Generate personas for a crypto-heavy group: a retired banker, a student")
        page.fill("#id_count", "2")
        page.click("#generate-form button[type=submit]")
        page.wait_for_url(f"{base}/bots/generate/review/")
        expect(page.locator("section.draft")).to_have_count(2)
        assert not Bot.objects.exists(), "nothing is saved before review"
        shot(page, "15-persona-review")
        page.fill("#draft-0 [name='d0-name']", "Kemal Bey")
        page.click("#draft-0 button[name=draft]")
        page.wait_for_selector(".flash-success:has-text('Saved Kemal Bey')")
        expect(page.locator("section.draft")).to_have_count(1)
        bot = Bot.objects.get()
        assert (bot.name, bot.persona["tone"]) == ("Kemal Bey", "veteran")
        assert bot.stances.exists()
        assert bot.holdings.exists()
        shot(page, "16-persona-saved")
        assert problems == []

    def test_an_operator_edits_a_persona_through_the_fields(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        bot = Bot.objects.create(name="Kemal", persona={"tone": "veteran", "watchlist": ["BIST:THYAO"]})
        log_in(page, base)
        page.goto(f"{base}/bots/{bot.pk}/")
        page.select_option("#id_persona_tone", "conservative")
        page.select_option("#id_persona_risk_profile", "low")
        watchlist = page.locator("#bot-form .field:has(#id_persona_watchlist)")
        watchlist.locator(".rows-add").click()  # rows.js adds a blank row
        expect(watchlist.locator("input[name=persona_watchlist]")).to_have_count(3)
        watchlist.locator("input[name=persona_watchlist]").nth(2).fill("NOPEX")
        page.fill("#id_speed_typing_cps_0", "2")
        page.fill("#id_speed_typing_cps_1", "6")
        page.fill("#id_active_hours_ranges", "22:00")
        page.fill("#id_active_hours_ranges_to", "02:00")
        shot(page, "20-persona-fields")
        page.click("#bot-form button[type=submit]")
        expect(page.locator("#id_persona_watchlist-errors")).to_contain_text("'NOPEX' is not a symbol we know")
        expect(page.locator("#id_persona_tone")).to_have_value("conservative")  # the edits are kept
        bot.refresh_from_db()
        assert bot.persona["tone"] == "veteran", "nothing is saved while a field is wrong"
        shot(page, "21-persona-field-error")
        watchlist.locator("input[value=NOPEX]").fill("xauusd")
        page.click("#bot-form button[type=submit]")
        expect(page.locator(".flash-success")).to_contain_text("Bot saved.")
        bot.refresh_from_db()
        assert (bot.persona["tone"], bot.persona["risk_profile"]) == ("conservative", "low")
        assert bot.persona["watchlist"] == ["BIST:THYAO", "XAUUSD"]
        assert (bot.speed["typing_cps"], bot.active_hours) == ([2.0, 6.0], ["22:00-02:00"])
        page.click(".json-view-link")
        expect(page.locator("#id_persona")).to_contain_text('"conservative"')  # the advanced view: the JSON
        assert [problem for problem in problems if "status of 400" not in problem] == []  # the invalid save

    def test_an_operator_exports_the_crowd_and_imports_it_back(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        demo_crowd()
        Chat.objects.update(cadence=20)  # demo_crowd's 30 is beyond what an operator may set: the import refuses it
        before = crowd_export()
        log_in(page, base)
        page.goto(f"{base}/bots/")
        page.click("#crowd-link")
        page.wait_for_selector("#export")
        shot(page, "17-crowd")
        with page.expect_download() as download:
            page.click("#export-button")
        path = SCREENSHOTS / "crowd.json"
        download.value.save_as(path)
        assert json.loads(path.read_text())["bots"] == before["bots"]

        Bot.objects.all().delete()
        Chat.objects.all().delete()
        page.set_input_files("#id_document", str(path))
        page.click("#preview-button")
        expect(page.locator("#import-preview")).to_contain_text("dry run, nothing written yet")
        expect(page.locator("#import-preview tbody tr")).to_have_count(len(before["bots"]) + len(before["chats"]))
        assert not Bot.objects.exists()
        shot(page, "18-crowd-preview")
        page.click("#apply-button")
        page.wait_for_url(f"{base}/bots/")
        expect(page.locator(".flash")).to_contain_text(f"Imported {len(before['bots'])} bot(s)")
        after = crowd_export()
        assert (after["bots"], after["chats"]) == (before["bots"], before["chats"])
        assert problems == []

    def test_an_operator_drafts_a_bot_from_a_character_card_and_creates_it(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Deniz", "personality": "student"}}
        path = SCREENSHOTS / "card.json"
        path.write_text(json.dumps(card))
        log_in(page, base)
        page.goto(f"{base}/bots/new/")
        page.set_input_files("#id_card", str(path))
        page.click("#card-button")
        expect(page.locator("#card-draft")).to_contain_text("Nothing is saved yet")
        expect(page.locator("#id_name")).to_have_value("Deniz")
        assert not Bot.objects.exists()
        shot(page, "19-bot-from-card")
        page.fill("#id_username", "deniz_ogrenci_bot")
        page.click("#bot-form button[type=submit]")
        page.wait_for_url(re.compile(r"/bots/\d+/$"))
        bot = Bot.objects.get()
        assert (bot.username, bot.persona["tone"]) == ("deniz_ogrenci_bot", "newbie")
        assert problems == []

    def test_an_operator_connects_a_telegram_group_from_token_to_start(self) -> None:
        page, problems, base = self.page, self.problems, self.live_server_url
        fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")
        token = fake.add_bot(username="canli_bot", first_name="Canlı").token
        settings_update(values={"simulation_active": False})
        log_in(page, base)
        page.goto(f"{base}/bots/")
        page.click("#connect-link")
        page.fill("#id_tokens", token)
        page.click("#tokens-button")
        expect(page.locator(".token-check .privacy-warning")).to_contain_text("/setprivacy → the bot → Disable")
        expect(page.locator(".startgroup-link")).to_have_attribute("href", "https://t.me/canli_bot?startgroup=true")
        expect(page.locator("#chats-waiting")).to_be_visible()
        shot(page, "20-connect-tokens")

        fake.set_bot_status(-1001234567890, token, "member", chat_title="Borsa Grubu")  # someone adds the bot
        poll_once(bot=Bot.objects.get(username="canli_bot"), timeout=0)
        page.locator("a.connect-chat", has_text="Borsa Grubu").click()  # appears when the page's poll sees it
        shot(page, "21-connect-discovered")
        page.click("#enable-button")
        checks = page.locator("#preflight-checks")
        expect(checks.locator("tr", has_text="database")).to_contain_text("ok")
        expect(checks.locator("tr", has_text="getMe")).to_contain_text("privacy mode is on")
        shot(page, "22-connect-preflight")
        page.click("#start-button")
        chat = Chat.objects.get(telegram_chat_id=-1001234567890)
        page.wait_for_url(f"{base}/chats/{chat.pk}/")
        assert (chat.is_enabled, chat.is_discovered, settings_all().simulation_active) == (True, False, True)
        shot(page, "23-connect-started")
        assert problems == []

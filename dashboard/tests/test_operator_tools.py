"""Dashboard LLM tools: interview a bot on its page; draft personas, review and edit them, save one by one."""

from __future__ import annotations

import json

from accounts.roles import Role
from bots.models import Bot, Interview
from bots.tests.factories import BotFactory, StanceFactory
from chats.models import Message
from dashboard.tests.edit_helpers import persona_fields_data
from dashboard.tests.helpers import DashboardTestCase

BRIEF = "a crypto-heavy group: a retired banker, a student"


class InterviewPageTests(DashboardTestCase):
    def test_an_operator_asks_and_the_answer_is_shown_in_the_log_not_posted(self) -> None:
        bot = BotFactory.create(name="Kemal", persona={"language": "en"})
        StanceFactory.create(bot=bot, topic="BTCUSDT", stance="ETF outflows weigh on it", polarity="bearish")
        user = self.login_as(Role.OPERATOR)
        response = self.client.post(f"/bots/{bot.pk}/interview/", {"question": "Why bearish on BTC?"}, follow=True)
        html = response.content.decode()
        assert "Kemal answered (privately; nothing was posted)." in html
        assert "I&#x27;m bearish on BTCUSDT: ETF outflows weigh on it." in html
        interview = Interview.objects.get()
        assert interview.asked_by == user
        assert f'data-interview="{interview.pk}"' in html
        assert not Message.objects.exists()

    def test_a_viewer_sees_the_log_without_the_form_and_may_not_ask(self) -> None:
        bot = BotFactory.create()
        Interview.objects.create(bot=bot, question="Nasılsın?", answer="İyiyim.", provider="offline")
        self.login_as(Role.VIEWER)
        html = self.client.get(f"/bots/{bot.pk}/").content.decode()
        assert "İyiyim." in html
        assert 'id="interview-form"' not in html
        assert self.client.post(f"/bots/{bot.pk}/interview/", {"question": "?"}).status_code == 403
        assert Interview.objects.count() == 1

    def test_an_empty_question_is_an_error_message(self) -> None:
        bot = BotFactory.create()
        self.login_as(Role.OPERATOR)
        html = self.client.post(f"/bots/{bot.pk}/interview/", {"question": ""}, follow=True).content.decode()
        assert "Interview: This field is required." in html
        assert not Interview.objects.exists()


class PersonaGenerationPageTests(DashboardTestCase):
    def setUp(self) -> None:
        self.login_as(Role.OPERATOR)

    def draft(self) -> None:
        response = self.client.post("/bots/generate/", {"brief": BRIEF, "count": 2, "language": "tr"})
        assert response.status_code == 302
        assert response["Location"] == "/bots/generate/review/"

    def draft_data(self, index: int, *, as_json: bool = False, **changes: object) -> dict[str, object]:
        """One draft as the review page submits it: the persona fields (or the JSON view's texts) and its lists."""
        draft = self.client.session["persona_drafts"][index]
        data: dict[str, object] = {"draft": index, f"d{index}-name": draft["name"], f"d{index}-username": ""}
        for key in ("stances", "holdings", "memories", *(("persona", "emotion", "speed") if as_json else ())):
            data[f"d{index}-{key}"] = json.dumps(draft[key])
        if as_json:
            data[f"d{index}-edit_as"] = "json"
        else:
            documents = {key: draft[key] for key in ("persona", "emotion", "speed")}
            data |= persona_fields_data(documents, prefix=f"d{index}-")
        data.update({f"d{index}-{key}": value for key, value in changes.items()})
        return data

    def test_drafts_are_listed_for_review_and_nothing_is_saved(self) -> None:
        self.draft()
        html = self.client.get("/bots/generate/review/").content.decode()
        assert html.count("Save this persona") == 2
        assert "veteran" in html
        assert not Bot.objects.exists()

    def test_the_drafts_are_shown_in_the_persona_fields_or_the_json_view(self) -> None:
        self.draft()
        html = self.client.get("/bots/generate/review/").content.decode()
        assert html.count('<select name="d1-persona_tone"') == 1
        assert 'list="known-symbols"' in html
        assert html.count('<datalist id="known-symbols">') == 1
        html = self.client.get("/bots/generate/review/?view=json").content.decode()
        assert 'name="d0-persona"' in html
        assert "persona_tone" not in html

    def test_an_edited_draft_is_saved_and_leaves_the_review(self) -> None:
        self.draft()
        data = self.draft_data(0, name="Kemal Bey", persona_tone="conservative", persona_watchlist=["xauusd"])
        response = self.client.post("/bots/generate/review/", data, follow=True)
        assert "Saved Kemal Bey" in response.content.decode()
        bot = Bot.objects.get()
        assert (bot.name, bot.persona["tone"], bot.persona["watchlist"]) == ("Kemal Bey", "conservative", ["XAUUSD"])
        assert bot.stances.exists()
        assert bot.holdings.exists()
        assert bot.memories.exists()
        assert len(self.client.session["persona_drafts"]) == 1

    def test_an_invalid_edit_is_shown_at_its_field_and_not_saved(self) -> None:
        self.draft()
        response = self.client.post("/bots/generate/review/", self.draft_data(0, persona_watchlist=["NOPEX"]))
        assert response.status_code == 400
        html = response.content.decode()
        assert 'id="id_d0-persona_watchlist-errors"' in html
        assert "&#x27;NOPEX&#x27; is not a symbol we know" in html
        assert not Bot.objects.exists()
        assert len(self.client.session["persona_drafts"]) == 2

    def test_an_invalid_json_view_edit_names_its_path(self) -> None:
        self.draft()
        persona = {**self.client.session["persona_drafts"][0]["persona"], "risk_profile": "extreme"}
        data = self.draft_data(0, as_json=True, persona=json.dumps(persona))
        response = self.client.post("/bots/generate/review/", data)
        assert response.status_code == 400
        assert "draft.persona.risk_profile: Input should be" in response.content.decode()
        assert not Bot.objects.exists()

    def test_the_checked_drafts_are_saved_at_once(self) -> None:
        self.draft()
        data = self.draft_data(0) | self.draft_data(1) | {"selected": ["0", "1"], "save_selected": ""}
        response = self.client.post("/bots/generate/review/", data, follow=True)
        assert "Saved " in response.content.decode()
        assert Bot.objects.count() == 2
        assert self.client.session["persona_drafts"] == []

    def test_if_one_checked_draft_is_invalid_none_is_saved(self) -> None:
        self.draft()
        data = self.draft_data(0) | self.draft_data(1, speed_delay_s_0="99", speed_delay_s_1="1")
        response = self.client.post("/bots/generate/review/", data | {"selected": ["0", "1"], "save_selected": ""})
        assert response.status_code == 400
        assert 'id="id_d1-speed_delay_s-errors"' in response.content.decode()
        assert not Bot.objects.exists()
        assert len(self.client.session["persona_drafts"]) == 2

    def test_two_checked_drafts_with_one_username_save_none(self) -> None:
        self.draft()
        data = self.draft_data(0, username="ayni_bot") | self.draft_data(1, username="ayni_bot")
        response = self.client.post("/bots/generate/review/", data | {"selected": ["0", "1"], "save_selected": ""})
        assert response.status_code == 400
        assert "ayni_bot" in response.content.decode()
        assert not Bot.objects.exists()

    def test_a_draft_can_be_discarded(self) -> None:
        self.draft()
        self.client.post("/bots/generate/review/", {"discard": "1"})
        assert len(self.client.session["persona_drafts"]) == 1

    def test_a_viewer_may_not_generate(self) -> None:
        self.login_as(Role.VIEWER)
        assert self.client.get("/bots/generate/").status_code == 403

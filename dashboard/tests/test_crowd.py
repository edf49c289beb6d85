"""The crowd page: export download for every role; import previewed as a dry run, then applied, operators only."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from bots.models import Bot
from bots.services import bot_create
from dashboard.tests.edit_helpers import TOKEN, EditPageTestCase
from engine.selectors import settings_all


def upload(document: Any, name: str = "crowd.json") -> SimpleUploadedFile:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return SimpleUploadedFile(name, raw, content_type="application/json")


class CrowdPageTests(EditPageTestCase):
    def setUp(self) -> None:
        self.bot = bot_create(name="Kemal", username="kemal_bot", token=TOKEN)

    def exported(self) -> dict[str, Any]:
        self.login_as(Role.VIEWER)
        response = self.client.get("/crowd/export/")
        self.assertEqual(response.status_code, 200)
        assert response["Content-Disposition"].startswith('attachment; filename="piyasa-crowd-')
        return json.loads(response.content)

    def test_every_role_sees_the_page_and_only_importers_get_the_form(self) -> None:
        self.assert_every_role_sees("/crowd/")
        assert 'id="import-form"' not in self.page("/crowd/", Role.VIEWER)
        assert 'id="import-form"' in self.page("/crowd/", Role.OPERATOR)
        assert 'href="/crowd/"' in self.page("/bots/", Role.VIEWER)

    def test_the_download_has_the_crowd_and_no_token(self) -> None:
        document = self.exported()
        assert document["bots"][0]["username"] == "kemal_bot"
        assert TOKEN.split(":")[1] not in json.dumps(document)

    def test_a_preview_writes_nothing_and_apply_imports_it(self) -> None:
        document = self.exported()
        document["bots"][0]["persona"]["tone"] = "street"
        document["bots"].append({"name": "Yeni", "username": "yeni_bot"})
        document["settings"]["reply_probability"] = 0.2

        html = self.post("/crowd/", {"action": "preview", "document": upload(document)}, status=200)
        assert "bot @kemal_bot</td><td>updated" in html
        assert "bot @yeni_bot</td><td>created" in html
        assert "that differ (not applied): reply_probability" in html
        assert not Bot.objects.filter(username="yeni_bot").exists()

        self.post("/crowd/", {"action": "apply"})
        kemal = Bot.objects.get(username="kemal_bot")
        assert (kemal.persona["tone"], kemal.token) == ("street", TOKEN)
        assert Bot.objects.filter(username="yeni_bot").exists()
        assert settings_all().reply_probability == 0.65  # an operator may not change settings

    def test_an_admin_import_also_stores_the_settings(self) -> None:
        document = self.exported()
        document["settings"]["reply_probability"] = 0.2
        self.post("/crowd/", {"action": "preview", "document": upload(document)}, role=Role.ADMIN, status=200)
        self.post("/crowd/", {"action": "apply"}, role=Role.ADMIN)
        assert settings_all().reply_probability == 0.2

    def test_a_bad_document_lists_every_error_and_cannot_be_applied(self) -> None:
        document = self.exported()
        document["bots"][0]["stances"] = [{"topic": "FX", "stance": "x", "polarity": "up"}]
        for raw, expected in [
            (document, "bots[&quot;kemal_bot&quot;].stances[0].polarity: Input should be"),
            (b"{broken", "document: not valid JSON: line 1 column 2"),
        ]:
            with self.subTest(expected):
                html = self.post("/crowd/", {"action": "preview", "document": upload(raw)}, status=400)
                assert expected in html, html
                assert 'id="apply-button"' not in html
        self.post("/crowd/", {"action": "apply"})
        assert Bot.objects.get().stances.count() == 0

    def test_a_viewer_cannot_import(self) -> None:
        self.post("/crowd/", {"action": "preview", "document": upload(self.exported())}, role=Role.VIEWER, status=403)


class BotFromCardTests(EditPageTestCase):
    CARD = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Ayşe", "personality": "student"}}

    def test_a_card_fills_the_new_bot_form_without_saving(self) -> None:
        html = self.post("/bots/new/card/", {"card": upload(self.CARD, "ayse.json")}, status=200)
        assert 'id="card-draft"' in html
        assert 'value="Ayşe"' in html
        assert 'value="ayse_bot"' in html
        assert '<option value="newbie" selected>' in html  # the persona fields show the draft
        assert 'action="/bots/new/" novalidate id="bot-form"' in html  # Create posts to the new-bot page
        assert not Bot.objects.exists()

    def test_a_broken_card_is_named_at_the_field(self) -> None:
        html = self.post("/bots/new/card/", {"card": upload(b"\x89PNG\r\n\x1a\n", "x.png")}, status=400)
        assert "PNG: no character card in it" in html

    def test_a_viewer_cannot_draft(self) -> None:
        self.post("/bots/new/card/", {"card": upload(self.CARD)}, role=Role.VIEWER, status=403)

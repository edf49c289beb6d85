"""Crowd API: export as a viewer, import as an operator (settings only as an admin), named errors, dry runs."""

from __future__ import annotations

from typing import Any

from django.test import TestCase

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.models import Bot
from bots.services import bot_create
from engine.selectors import settings_all

TOKEN = "7300000002:AAE-crowd-api-secret-value_y"


class CrowdApiTest(TestCase):
    bot: Bot

    @classmethod
    def setUpTestData(cls) -> None:
        cls.bot = bot_create(name="Kemal", username="kemal_bot", token=TOKEN)

    def document(self) -> dict[str, Any]:
        api, _, _ = role_client(Role.VIEWER, username="exporter")
        response = api.get("/api/crowd/export/")
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_a_viewer_exports_the_crowd_without_its_token(self) -> None:
        document = self.document()
        assert document["format"] == "piyasa-crowd"
        assert [bot["username"] for bot in document["bots"]] == ["kemal_bot"]
        assert TOKEN.split(":")[1] not in str(document)

    def test_who_may_import(self) -> None:
        document = self.document()
        for role, status in [(Role.VIEWER, 403), (Role.OPERATOR, 200), (Role.ADMIN, 200)]:
            with self.subTest(role=role):
                api, _, _ = role_client(role)
                response = api.post("/api/crowd/import/?dry_run=true", document, format="json")
                self.assertEqual(response.status_code, status, response.content)

    def test_an_operator_imports_the_crowd_but_not_the_settings(self) -> None:
        document = self.document()
        document["bots"][0]["persona"]["tone"] = "street"
        document["settings"]["reply_probability"] = 0.1
        for role, applied, probability in [(Role.OPERATOR, False, 0.65), (Role.ADMIN, True, 0.1)]:
            with self.subTest(role=role):
                api, _, _ = role_client(role)
                response = api.post("/api/crowd/import/", document, format="json")
                self.assertEqual(response.status_code, 200, response.content)
                assert response.json()["settings"] == {"changed": ["reply_probability"], "applied": applied}
                assert settings_all().reply_probability == probability
        bot = Bot.objects.get()
        assert (bot.persona["tone"], bot.token) == ("street", TOKEN)

    def test_a_dry_run_reports_without_writing(self) -> None:
        document = self.document()
        document["bots"].append({"name": "Yeni", "username": "yeni_bot"})
        api, _, _ = role_client(Role.OPERATOR)
        response = api.post("/api/crowd/import/?dry_run=1", document, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        assert response.json()["bots"] == [
            {"bot": "@kemal_bot", "outcome": "updated"},
            {"bot": "@yeni_bot", "outcome": "created"},
        ]
        assert Bot.objects.count() == 1

    def test_a_bad_document_is_a_400_naming_item_and_field(self) -> None:
        document = self.document()
        document["bots"][0]["emotion"]["empathy"] = 7
        api, _, _ = role_client(Role.OPERATOR)
        response = api.post("/api/crowd/import/", document, format="json")
        self.assertEqual(response.status_code, 400)
        assert response.json()["errors"][0].startswith('bots["kemal_bot"].emotion.empathy: Input should be')

    def test_only_json_is_accepted(self) -> None:
        api, _, _ = role_client(Role.OPERATOR)
        response = api.post("/api/crowd/import/", {"format": "piyasa-crowd"}, format="multipart")
        self.assertEqual(response.status_code, 415)

"""Crowd documents: export → wipe → import round trip, matching by username, named errors, dry runs, no tokens."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any
from unittest.mock import patch

from django.test import TestCase

from bots.models import Bot, Memory, Stance, StanceChange
from bots.services import bot_create
from bots.tests.factories import HoldingFactory, MemoryFactory, StanceFactory
from chats.models import Chat, Membership
from chats.services import chat_create, membership_add, membership_pause
from engine.models import Setting
from engine.portability.exporting import crowd_export
from engine.portability.importing import CrowdImportError, crowd_import, crowd_load
from engine.selectors import settings_all
from engine.services import settings_update

TOKEN = "7300000001:AAE-portability-secret-value_x"


def crowd_state() -> dict[str, Any]:
    """The crowd as comparable data: everything the document carries, without ids and timestamps."""
    document = crowd_export()
    return {key: document[key] for key in ("bots", "chats", "settings")}


class CrowdFixture(TestCase):
    """Two bots (one with a token, one without a username), what they know, two chats and changed settings."""

    kemal: Bot
    anon: Bot
    group: Chat
    sandbox: Chat

    @classmethod
    def setUpTestData(cls) -> None:
        cls.kemal = bot_create(
            name="Kemal",
            username="kemal_bot",
            token=TOKEN,
            persona={"tone": "veteran", "risk_profile": "low", "watchlist": ["THYAO"], "bio": "Emekli bankacı."},
            emotion={"tone": "cynical", "signature_phrases": ["Sabır kazandırır."]},
            active_hours=["09:30-18:00"],
            talkativeness=0.8,
        )
        cls.anon = bot_create(name="İsimsiz")
        StanceFactory.create(bot=cls.kemal, topic="BIST:THYAO", polarity=Stance.Polarity.BEARISH, confidence=0.9)
        HoldingFactory.create(bot=cls.kemal, symbol="BIST:THYAO", size=Decimal("12.345678"), note="uzun vade")
        MemoryFactory.create(bot=cls.kemal, kind=Memory.Kind.PAST_EVENT, content="2001 krizini yaşadı.")
        cls.group = chat_create(
            title="Borsa",
            transport=Chat.Transport.TELEGRAM,
            telegram_chat_id=-100123,
            timezone="Europe/London",
            settings_overrides={"reply_probability": 0.1, "compliance_guard_enabled": False},
            is_forum=True,
            forum_threads=[{"thread_id": 12, "name": "Kripto", "topic": "Kripto"}],
        )
        cls.sandbox = chat_create(title="Deneme", topics=["Kripto"], cadence=2.5)
        membership_add(chat=cls.group, bot=cls.kemal, talkativeness=0.3)
        membership_add(chat=cls.sandbox, bot=cls.anon, is_enabled=False, disabled_reason="bot was kicked")
        membership_pause(chat=cls.sandbox, bot=cls.anon, reason="kicked from the group")
        settings_update(values={"reply_probability": 0.4, "prime_hours": ["10:00-12:00"]})


class ExportTest(CrowdFixture):
    def test_the_document_is_versioned_and_carries_the_whole_crowd(self) -> None:
        document = crowd_export()
        assert (document["format"], document["version"]) == ("piyasa-crowd", 1)
        kemal = document["bots"][0]
        assert kemal["persona"]["tone"] == "veteran"
        assert kemal["active_hours"] == ["09:30-18:00"]
        assert kemal["stances"][0]["polarity"] == "bearish"
        assert kemal["holdings"][0]["size"] == "12.345678"
        assert document["chats"][0]["memberships"] == [
            {
                "bot": "kemal_bot",
                "is_enabled": True,
                "talkativeness": 0.3,
                "disabled_reason": "",
                "paused_reason": "",
                "paused_at": None,
            }
        ]
        assert document["chats"][0]["settings_overrides"] == {
            "reply_probability": 0.1,
            "compliance_guard_enabled": False,
        }
        paused = document["chats"][1]["memberships"][0]
        assert (paused["paused_reason"], paused["paused_at"] is not None) == ("kicked from the group", True)
        # A bot without a username is named by its position in `bots`.
        assert document["chats"][1]["memberships"][0]["bot"] == 1
        assert document["settings"]["reply_probability"] == 0.4
        assert "simulation_active" not in document["settings"]

    def test_no_token_in_any_form_is_exported(self) -> None:
        text = json.dumps(crowd_export(), ensure_ascii=False)
        kemal = Bot.objects.get(pk=self.kemal.pk)
        secrets = (TOKEN, TOKEN.split(":")[1], kemal.token_encrypted, kemal.token_fingerprint or "", kemal.masked_token)
        for secret in secrets:
            with self.subTest(secret=secret[:8]):
                assert secret
                assert secret not in text
        assert '"token' not in text  # no token, token_encrypted or token_fingerprint key


class RoundTripTest(CrowdFixture):
    def test_export_wipe_import_gives_the_same_crowd(self) -> None:
        before = crowd_state()
        document = json.loads(json.dumps(crowd_export()))
        Bot.objects.all().delete()
        Chat.objects.all().delete()
        Setting.objects.all().delete()

        result = crowd_import(data=document)

        assert [item["outcome"] for item in result.as_dict()["bots"]] == ["created", "created"]
        assert crowd_state() == before
        assert result.memberships == {"created": 2, "updated": 0}
        assert Chat.objects.get(telegram_chat_id=-100123).thread_topic(12) == "Kripto"  # the forum mapping came too

    def test_a_document_from_before_forum_topics_still_imports(self) -> None:
        document = json.loads(json.dumps(crowd_export()))
        for chat in document["chats"]:
            del chat["forum_threads"]
        Chat.objects.all().delete()
        crowd_import(data=document)
        assert list(Chat.objects.values_list("forum_threads", flat=True)) == [[], []]

    def test_a_chats_overrides_and_a_paused_membership_come_back_as_they_were(self) -> None:
        paused_at = Membership.objects.get(bot=self.anon).paused_at
        document = json.loads(json.dumps(crowd_export()))
        Chat.objects.all().delete()
        crowd_import(data=document)
        group = Chat.objects.get(telegram_chat_id=-100123)
        assert group.settings_overrides == {"reply_probability": 0.1, "compliance_guard_enabled": False}
        membership = Membership.objects.get(chat__title="Deneme")  # its bot has no username: imported anew
        assert (membership.paused_at, membership.paused_reason) == (paused_at, "kicked from the group")

    def test_a_chats_overrides_are_left_alone_when_the_importer_may_not_change_settings(self) -> None:
        document = crowd_export()
        document["chats"][0]["settings_overrides"] = {"compliance_guard_enabled": True}
        document["chats"][1]["settings_overrides"] = {"reply_probability": 0.9}
        self.sandbox.delete()
        crowd_import(data=document, apply_settings=False)
        kept = {"reply_probability": 0.1, "compliance_guard_enabled": False}
        assert Chat.objects.get(pk=self.group.pk).settings_overrides == kept
        assert Chat.objects.get(title="Deneme").settings_overrides == {}

    def test_a_document_without_overrides_or_paused_fields_still_imports(self) -> None:
        document = json.loads(json.dumps(crowd_export()))
        for chat in document["chats"]:
            del chat["settings_overrides"]
            for membership in chat["memberships"]:
                del membership["paused_at"], membership["paused_reason"]
        Chat.objects.all().delete()
        crowd_import(data=document)
        assert list(Chat.objects.values_list("settings_overrides", flat=True)) == [{}, {}]
        assert not Membership.objects.filter(paused_at__isnull=False).exists()

    def test_importing_onto_the_existing_crowd_matches_by_username_and_keeps_the_token(self) -> None:
        document = crowd_export()
        document["bots"][0]["username"] = "@KEMAL_BOT"
        document["bots"][0]["persona"]["tone"] = "street"
        document["bots"][0]["stances"] = [{"topic": "Makro", "stance": "Faiz artacak.", "polarity": "bullish"}]

        result = crowd_import(data=document)

        kemal = Bot.objects.get(pk=self.kemal.pk)
        assert result.as_dict()["bots"][0] == {"bot": "@KEMAL_BOT", "outcome": "updated"}
        assert (kemal.token, kemal.persona["tone"], kemal.username) == (TOKEN, "street", "KEMAL_BOT")
        assert list(kemal.stances.values_list("topic", flat=True)) == ["Makro"]
        assert Chat.objects.count() == 2
        assert Membership.objects.get(chat=self.group).talkativeness == 0.3
        # The bot without a username cannot be matched: it is created again.
        assert Bot.objects.filter(name="İsimsiz").count() == 2

    def test_a_stance_the_import_moves_is_recorded_in_its_history(self) -> None:
        document = crowd_export()
        [stance] = document["bots"][0]["stances"]
        stance.update(polarity="bullish", confidence=0.5)
        crowd_import(data=document)
        assert list(StanceChange.objects.values_list("old_polarity", "new_polarity", "old_confidence", "cause")) == [
            ("bearish", "bullish", 0.9, "changed by a crowd import")
        ]
        crowd_import(data=document)  # nothing moved this time: nothing recorded
        assert StanceChange.objects.count() == 1

    def test_a_matched_bot_keeps_the_usage_of_its_unchanged_memories(self) -> None:
        Memory.objects.filter(bot=self.kemal).update(usage_count=7)
        crowd_import(data=crowd_export())
        assert Memory.objects.get(bot=self.kemal).usage_count == 7

    def test_a_dry_run_reports_and_writes_nothing(self) -> None:
        document = crowd_export()
        document["bots"].append({"name": "Yeni", "username": "yeni_bot", "stances": [{"topic": "FX", "stance": "x"}]})
        document["chats"][0]["memberships"].append({"bot": "yeni_bot"})
        document["settings"]["reply_probability"] = 0.9
        before = crowd_state()

        result = crowd_import(data=document, dry_run=True)

        report = result.as_dict()
        assert report["dry_run"] is True
        assert report["bots"][2] == {"bot": "@yeni_bot", "outcome": "created"}
        # The bot without a username is not matched, so its membership would be new too.
        assert report["memberships"] == {"created": 2, "updated": 1}
        assert report["settings"]["changed"] == ["reply_probability"]
        assert crowd_state() == before
        assert not Bot.objects.filter(username="yeni_bot").exists()

    def test_settings_are_left_alone_when_the_importer_may_not_change_them(self) -> None:
        document = crowd_export()
        document["settings"]["reply_probability"] = 0.9
        result = crowd_import(data=document, apply_settings=False)
        assert result.as_dict()["settings"] == {"changed": ["reply_probability"], "applied": False}
        assert settings_all().reply_probability == 0.4


class ValidationTest(CrowdFixture):
    def bad(self, change: Any) -> list[str]:
        document = copy.deepcopy(crowd_export())
        change(document)
        before = crowd_state()
        with self.assertRaises(CrowdImportError) as caught:
            crowd_import(data=document)
        assert crowd_state() == before, "nothing may be written"
        return caught.exception.errors

    def test_every_error_names_the_item_and_the_field(self) -> None:
        def set_path(path: list[Any], value: Any) -> Any:
            def change(document: dict[str, Any]) -> None:
                node = document
                for part in path[:-1]:
                    node = node[part]
                node[path[-1]] = value

            return change

        cases: list[tuple[list[Any], Any, str]] = [
            (["bots", 0, "persona", "tone"], "shouting", 'bots["kemal_bot"].persona.tone: Input should be'),
            (["bots", 1, "persona", "tone"], "shouting", "bots[1].persona.tone: Input should be"),
            (["bots", 0, "stances", 0, "polarity"], "up", 'bots["kemal_bot"].stances[0].polarity: Input should be'),
            (["bots", 0, "holdings", 0, "symbol"], "??", 'bots["kemal_bot"].holdings[0].symbol:'),
            (["bots", 0, "speed", "min_delay_s"], 999, 'bots["kemal_bot"].speed: Value error, min_delay_s/max_'),
            (["bots", 0, "active_hours"], ["9-5"], 'bots["kemal_bot"].active_hours[0]: '),
            (["bots", 0, "token"], TOKEN, 'bots["kemal_bot"].token: Extra inputs are not permitted'),
            (["chats", 0, "timezone"], "Mars/Olympus", "chats[0].timezone: 'Mars/Olympus' is not an IANA timezone"),
            (["chats", 0, "memberships", 0, "talkativeness"], 2, "chats[0].memberships[0].talkativeness: Input"),
            (
                ["chats", 0, "settings_overrides"],
                {"reply_probability": 2},
                "chats[0].settings_overrides.reply_probability: Input should be less than",
            ),
            (["chats", 0, "memberships", 0, "paused_reason"], "x" * 301, "chats[0].memberships[0].paused_reason:"),
            (["chats", 0, "memberships", 0, "bot"], "nobody", "chats[0].memberships[0].bot: no bot @nobody in bots"),
            (["chats", 0, "memberships", 0, "bot"], 9, "chats[0].memberships[0].bot: no bot at position 9 of bots"),
            (["bots", 0, "stances", 0, "topic"], "x" * 65, 'bots["kemal_bot"].stances[0].topic: String should'),
            (["settings", "reply_probability"], 3, "settings.reply_probability: Input should be less than"),
            (["settings", "no_such"], 1, "settings.no_such: 'no_such' is not a setting"),
            (["settings", "simulation_active"], True, "settings.simulation_active: is not imported"),
            (["version"], 2, "version: Input should be 1"),
            (["bots", 0, "memories", 0, "content"], "a\x00b", 'bots["kemal_bot"].memories[0].content: contains a NUL'),
        ]
        for path, value, expected in cases:
            with self.subTest(path=path):
                errors = self.bad(set_path(path, value))
                assert any(line.startswith(expected.replace("Value error, ", "")) for line in errors), errors

    def test_duplicates_in_the_document_are_refused(self) -> None:
        def twice(document: dict[str, Any]) -> None:
            document["bots"].append(dict(document["bots"][0]))

        errors = self.bad(twice)
        assert errors == ["bots[2].username: 'kemal_bot' is also bots[0]"], errors

    def test_every_problem_is_reported_at_once(self) -> None:
        def two(document: dict[str, Any]) -> None:
            document["bots"][0]["talkativeness"] = 5
            document["chats"][1]["cadence"] = -1

        errors = self.bad(two)
        assert len(errors) == 2, errors
        assert errors[0].startswith('bots["kemal_bot"].talkativeness'), errors

    def test_a_document_that_is_not_a_crowd_is_refused(self) -> None:
        for raw, expected in [
            (b"{nope", "document: not valid JSON: line 1 column 2"),
            (b'{"format": "other"}', "format: not a crowd document"),
            (b"[]", "Input should be a valid dictionary"),
        ]:
            with self.subTest(raw=raw), self.assertRaises(CrowdImportError) as caught:
                crowd_import(data=crowd_load(raw))
            assert expected in caught.exception.errors[0], caught.exception.errors

    def test_a_model_rule_the_schema_does_not_know_is_still_named(self) -> None:
        errors = self.bad(lambda document: document["bots"][0]["holdings"][0].update(size="1234567890123456.5"))
        assert errors[0].startswith('bots["kemal_bot"].holdings[0].size'), errors


class ApplyTest(TestCase):
    def test_a_membership_may_name_its_bot_by_position(self) -> None:
        document = {
            "format": "piyasa-crowd",
            "version": 1,
            "bots": [{"name": "A", "username": "a_bot"}],
            "chats": [{"transport": "telegram", "telegram_chat_id": -1001, "title": "G", "memberships": [{"bot": 0}]}],
        }
        crowd_import(data=document)
        assert Membership.objects.get().bot.username == "a_bot"

    def test_a_failure_while_writing_leaves_nothing_behind(self) -> None:
        document = {
            "format": "piyasa-crowd",
            "version": 1,
            "bots": [{"name": "A", "username": "a_bot", "stances": [{"topic": "FX", "stance": "Dolar yükselir."}]}],
            "chats": [{"telegram_chat_id": 77, "title": "G", "memberships": [{"bot": "a_bot"}]}],
            "settings": {"reply_probability": 0.2},
        }
        with (
            patch("engine.portability.importing.settings_update", side_effect=RuntimeError("disk full")),
            self.assertRaises(RuntimeError),
        ):
            crowd_import(data=document)
        assert (Bot.objects.count(), Stance.objects.count(), Chat.objects.count(), Membership.objects.count()) == (
            0,
            0,
            0,
            0,
        )

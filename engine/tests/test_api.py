"""Engine API: typed settings (errors name the key, all or nothing), control, and turn filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import TestCase
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from accounts.roles import Role
from accounts.tests.factories import role_client
from engine.models import Setting, Turn
from engine.runtime_settings import SPECS
from engine.selectors import settings_all
from engine.tests.factories import TurnFactory


class SettingsApiTest(TestCase):
    """As an admin."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.ADMIN)

    def test_it_lists_every_setting_with_value_default_help_and_type(self) -> None:
        rows = {row["key"]: row for row in self.api.get("/api/settings/").json()}
        self.assertEqual(rows["scale_factor"]["type"], "number")
        self.assertEqual(rows["simulation_active"]["type"], "boolean")
        self.assertEqual(rows["bot_hourly_msg_limit"]["default"], {"min": 6, "max": 12})
        self.assertTrue(rows["dedup_window_hours"]["help"])

    def test_it_updates_several_settings(self) -> None:
        response = self.api.patch("/api/settings/", {"max_msgs_per_min": 12, "typing_enabled": False}, format="json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual((settings_all().max_msgs_per_min, settings_all().typing_enabled), (12, False))

    def test_an_unknown_key_is_a_400_naming_it_and_nothing_is_stored(self) -> None:
        response = self.api.patch("/api/settings/", {"max_msgs_per_min": 12, "max_msgs": 3}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(list(response.json()), ["max_msgs"])
        self.assertIn("'max_msgs' is not a setting", response.json()["max_msgs"][0])
        self.assertFalse(Setting.objects.exists())

    def test_a_wrongly_typed_value_is_a_400_naming_the_key(self) -> None:
        response = self.api.patch("/api/settings/", {"typing_enabled": "true", "batch_size": 1.5}, format="json")
        self.assertEqual(set(response.json()), {"typing_enabled", "batch_size"})
        self.assertTrue(response.json()["typing_enabled"][0].startswith("typing_enabled: "))


# Any JSON value, so every setting gets values of every type (and objects with unknown keys).
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
)


class SettingsValidationTest(HypothesisTestCase):
    """Whatever value a setting is sent, a refusal is keyed by that setting and every message names it."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.ADMIN)

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from([spec.key for spec in SPECS]), JSON_VALUES)
    def test_every_refused_value_is_reported_under_its_key(self, key: str, value: Any) -> None:
        response = self.api.patch("/api/settings/", {key: value}, format="json")
        self.assertIn(response.status_code, (200, 400))
        if response.status_code == 400:
            errors = response.json()
            self.assertEqual(list(errors), [key])
            for message in errors[key]:
                self.assertTrue(message.startswith(key), message)

    def test_put_is_not_offered(self) -> None:
        self.assertEqual(self.api.put("/api/settings/", {"typing_enabled": True}, format="json").status_code, 405)


class ControlApiTest(TestCase):
    """As an operator."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.OPERATOR)

    def test_start_stop_and_scale(self) -> None:
        self.assertTrue(self.api.post("/api/control/start/").json()["simulation_active"])
        self.assertEqual(self.api.post("/api/control/scale/", {"scale_factor": 2.5}).json()["scale_factor"], 2.5)
        state = self.api.post("/api/control/stop/").json()
        self.assertEqual(state, {"simulation_active": False, "scale_factor": 2.5})
        self.assertEqual(self.api.get("/api/control/").json(), state)

    def test_a_bad_scale_names_the_field(self) -> None:
        response = self.api.post("/api/control/scale/", {"scale_factor": 0}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("scale_factor", response.json())
        self.assertEqual(self.api.post("/api/control/scale/", {}).json(), {"scale_factor": ["This field is required."]})


class TurnApiTest(TestCase):
    """Turns with filters and failure reasons."""

    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.VIEWER)

    def test_it_filters_by_status_kind_bot_chat_and_time(self) -> None:
        failed = TurnFactory.create(status=Turn.Status.FAILED, error="chat not found", kind=Turn.Kind.REPLY)
        TurnFactory.create(status=Turn.Status.SENT)
        old = TurnFactory.create(status=Turn.Status.SKIPPED, bot=failed.bot, chat=failed.chat)
        Turn.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))

        def ids(query: str) -> list[int]:
            return [row["id"] for row in self.api.get(f"/api/turns/?{query}").json()["results"]]

        self.assertEqual(ids("status=failed"), [failed.pk])
        self.assertEqual(sorted(ids("status=failed&status=skipped")), sorted([failed.pk, old.pk]))
        self.assertEqual(ids("kind=reply"), [failed.pk])
        self.assertEqual(sorted(ids(f"bot={failed.bot_id}")), sorted([failed.pk, old.pk]))
        self.assertEqual(len(ids(f"chat={failed.chat_id}")), 2)
        cutoff = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        self.assertEqual(ids(f"created_before={cutoff}"), [old.pk])
        self.assertEqual(len(ids(f"created_after={cutoff}")), 2)
        self.assertEqual(ids("has_error=true"), [failed.pk])
        row = self.api.get(f"/api/turns/{failed.pk}/").json()
        self.assertEqual((row["error"], row["bot_name"]), ("chat not found", failed.bot.name))

    def test_an_unknown_status_is_a_400(self) -> None:
        self.assertIn("status", self.api.get("/api/turns/?status=exploded").json())

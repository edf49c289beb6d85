"""Runtime settings page: typed fields, read-only below admin, all-or-nothing saves with errors naming the key."""

from __future__ import annotations

import json
from typing import Any

from accounts.roles import Role
from dashboard.forms_settings import json_type
from dashboard.tests.edit_helpers import EditPageTestCase, field_errors
from engine.models import Setting
from engine.runtime_settings import SPECS
from engine.selectors import settings_all
from engine.services import settings_update


def settings_data(**changes: Any) -> dict[str, Any]:
    """The settings form as a browser submits it: the values the page showed (also as hidden initials),
    with changes (raw strings; None unticks a checkbox) applied."""
    data: dict[str, Any] = {}
    for spec in SPECS:
        value = settings_all().values()[spec.key]
        kind = json_type(spec)
        data[f"initial-{spec.key}"] = json.dumps(value) if kind in ("array", "object") else str(value)
        if kind == "boolean":
            data[spec.key] = "on" if value else None
        else:
            data[spec.key] = data[f"initial-{spec.key}"]
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


class SettingsPageTests(EditPageTestCase):
    url = "/settings/"

    def test_every_role_sees_every_setting(self) -> None:
        self.assert_every_role_sees(self.url)
        html = self.page(self.url)
        for spec in SPECS:
            self.assertIn(f'name="{spec.key}"', html)
        self.assertIn('class="json"', html)  # lists and objects are JSON textareas

    def test_viewers_and_operators_see_read_only_values_without_a_save_button(self) -> None:
        for role in (Role.VIEWER, Role.OPERATOR):
            html = self.page(self.url, role)
            self.assertNotIn("Save settings", html)
            self.assertIn('name="scale_factor" value="1.0"', html.replace(' step="any"', ""))
            self.assertIn("disabled", html)
        self.assertIn("Save settings", self.page(self.url, Role.ADMIN))

    def test_viewers_and_operators_cannot_save(self) -> None:
        for role in (Role.VIEWER, Role.OPERATOR):
            self.post(self.url, settings_data(scale_factor="2"), role, status=403)
        self.assertFalse(Setting.objects.exists())

    def test_admins_save_only_the_changed_settings(self) -> None:
        data = settings_data(scale_factor="2.5", typing_enabled=None, bot_hourly_msg_limit='{"min": 2, "max": 4}')
        self.post(self.url, data, Role.ADMIN)
        values = settings_all().values()
        self.assertEqual(values["scale_factor"], 2.5)
        self.assertFalse(values["typing_enabled"])
        self.assertEqual(values["bot_hourly_msg_limit"], {"min": 2, "max": 4})
        stored = set(Setting.objects.values_list("key", flat=True))
        self.assertEqual(stored, {"scale_factor", "typing_enabled", "bot_hourly_msg_limit"})

    def test_one_invalid_value_saves_nothing_and_is_named_inline(self) -> None:
        data = settings_data(max_msgs_per_min="10", scale_factor="0", bot_hourly_msg_limit='{"min": 10, "max": 2}')
        html = self.post(self.url, data, Role.ADMIN, status=400)
        errors = field_errors(html, "settings-form")
        self.assertIn("scale_factor: Input should be greater than 0", errors)
        self.assertIn("bot_hourly_msg_limit: min (10) is above max (2)", errors)
        self.assertIn('id="id_scale_factor-errors"', html)
        self.assertFalse(Setting.objects.exists())

    def test_form_level_errors_name_the_key_too(self) -> None:
        data = settings_data(max_msgs_per_min="lots", prime_hours='["09:30-12:00",', news_feed_urls='["not a url"]')
        errors = field_errors(self.post(self.url, data, Role.ADMIN, status=400), "settings-form")
        self.assertIn("max_msgs_per_min: Enter a whole number.", errors)
        self.assertIn("prime_hours: Enter valid JSON", errors)
        self.assertIn("news_feed_urls.0: Input should be a valid URL", errors)

    def test_a_value_changed_meanwhile_elsewhere_is_not_overwritten_by_the_stale_page(self) -> None:
        data = settings_data(scale_factor="3")  # the page showed the simulation stopped
        settings_update(values={"simulation_active": True})  # started from the overview meanwhile
        self.post(self.url, data, Role.ADMIN)
        self.assertEqual(settings_all().scale_factor, 3.0)
        self.assertTrue(settings_all().simulation_active)

    def test_saving_without_changes_stores_nothing(self) -> None:
        self.post(self.url, settings_data(), Role.ADMIN)
        self.assertFalse(Setting.objects.exists())

"""Shared by the tests of the dashboard's edit pages: requests as a role, role checks, one form's HTML."""

from __future__ import annotations

import re
from typing import Any

from accounts.roles import Role
from dashboard.forms_persona import RangeWidget, TimeRangeRowsWidget, field_initial, persona_fields, speed_fields
from dashboard.tests.helpers import DashboardTestCase

TOKEN = "123456789:AAE-dashboard-secret_token"


class EditPageTestCase(DashboardTestCase):
    """Requests as a user of a given role, with the expected status asserted."""

    def page(self, url: str, role: Role = Role.VIEWER, status: int = 200) -> str:
        """GET url as a user of role; returns the HTML."""
        self.login_as(role)
        response = self.client.get(url)
        self.assertEqual(response.status_code, status, f"GET {url} as {role}")
        return response.content.decode()

    def post(self, url: str, data: dict[str, Any], role: Role = Role.OPERATOR, status: int = 302) -> str:
        """POST data to url as a user of role; returns the HTML (empty for redirects)."""
        self.login_as(role)
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, status, f"POST {url} as {role}: {response.content[:2000]!r}")
        return response.content.decode()

    def assert_every_role_sees(self, url: str, roles: tuple[Role, ...] = tuple(Role)) -> None:
        """The page renders for these roles, and anonymous visitors are sent to the login page."""
        for role in roles:
            self.page(url, role)
        self.client.logout()
        self.assertRedirectsToLogin(url)


def form_html(html: str, element_id: str) -> str:
    """The HTML of the form (or read-only div) with this id, up to its end."""
    match = re.search(rf'<(form|div)\b[^>]*\bid="{re.escape(element_id)}"', html)
    assert match is not None, f"no form with id {element_id}"
    end = html.find("</form>", match.end()) if match.group(1) == "form" else len(html)
    return html[match.start() : end]


def field_errors(html: str, element_id: str) -> str:
    """The text of the inline error lists (`ul.field-errors`) inside one form."""
    return " ".join(re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', form_html(html, element_id), flags=re.S))


def persona_fields_data(documents: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The persona fields view as a browser submits it, filled in from JSON documents (rows, ranges, checkboxes)."""
    data: dict[str, Any] = {}
    for name, value in field_initial(documents).items():
        key = f"{prefix}{name}"
        if isinstance(widget := (persona_fields() | speed_fields())[name].widget, TimeRangeRowsWidget):
            data[f"{key}_from"] = [item.split("-")[0] for item in value]
            data[f"{key}_to"] = [item.split("-")[1] for item in value]
        elif isinstance(widget, RangeWidget):
            data[f"{key}_0"], data[f"{key}_1"] = value
        elif value is True:
            data[key] = "on"
        elif value is not False:
            data[key] = value
    return data

"""RolePermission: a method a view does not offer is a 405 for every role, never a missing-permission 403."""

from __future__ import annotations

from django.test import TestCase
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import role_client


class UnlistedMethodTest(TestCase):
    """Views that name their permissions per method (settings, control)."""

    def test_a_method_the_view_does_not_offer_is_405_with_allow(self) -> None:
        # Found by schemathesis: PUT /api/settings/ answered 403 "it needs accounts.nobody", even for an admin.
        admin, _, _ = role_client(Role.ADMIN)
        response = admin.put("/api/settings/", {"max_msgs_per_min": 5})
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Allow"], "GET, PATCH, HEAD, OPTIONS")
        self.assertEqual(admin.get("/api/control/start/").status_code, 405)

    def test_a_lower_role_also_gets_405_and_anonymous_401(self) -> None:
        viewer, _, _ = role_client(Role.VIEWER)
        self.assertEqual(viewer.delete("/api/control/").status_code, 405)
        self.assertEqual(APIClient().put("/api/settings/", {}).status_code, 401)

    def test_head_needs_the_get_permission_and_options_only_a_login(self) -> None:
        viewer, _, _ = role_client(Role.VIEWER)
        self.assertEqual(viewer.head("/api/control/").status_code, 200)
        self.assertEqual(viewer.options("/api/control/start/").status_code, 200)
        self.assertEqual(viewer.post("/api/control/start/").status_code, 403)
        self.assertEqual(APIClient().options("/api/control/start/").status_code, 401)

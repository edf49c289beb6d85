"""ApiToken admin: the key is shown once on creation and only its digest is stored."""

from __future__ import annotations

import hashlib
import re

from django.contrib.auth.models import User
from django.test import TestCase

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.services import api_user_create


class ApiTokenAdminTest(TestCase):
    """Logged in as a superuser."""

    def setUp(self) -> None:
        self.admin = User.objects.create_superuser("root", password="pw")
        self.client.force_login(self.admin)

    def test_it_shows_the_key_once_and_stores_its_digest(self) -> None:
        response = self.client.post(
            "/admin/accounts/apitoken/add/", {"user": self.admin.pk, "name": "ci", "expires_at": ""}, follow=True
        )
        match = re.search(r"API key for “ci”: (\S+) ", response.content.decode())
        assert match is not None
        token = ApiToken.objects.get()
        self.assertEqual(token.key_hash, hashlib.sha256(match.group(1).encode()).hexdigest())
        page = self.client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
        self.assertNotIn(match.group(1), page)
        self.assertEqual(self.client.get("/admin/accounts/apitoken/").status_code, 200)


class UserAdminTest(TestCase):
    """A staff admin-role user who is not a superuser cannot change or delete a superuser in the admin."""

    def setUp(self) -> None:
        self.root = User.objects.create_superuser("root", password="root-parola-123")
        staff, _ = api_user_create(username="staff-admin", role=Role.ADMIN)
        User.objects.filter(pk=staff.pk).update(is_staff=True)
        self.client.force_login(staff)

    def test_it_refuses_to_change_the_password_of_or_delete_a_superuser(self) -> None:
        change = f"/admin/auth/user/{self.root.pk}/"
        data = {"password1": "taken-over-456", "password2": "taken-over-456", "usable_password": "true"}
        self.assertEqual(self.client.post(f"{change}password/", data).status_code, 403)
        self.assertEqual(self.client.post(f"{change}delete/", {"post": "yes"}).status_code, 403)
        bulk = {"action": "delete_selected", "_selected_action": [self.root.pk], "post": "yes"}
        self.client.post("/admin/auth/user/", bulk)
        root = User.objects.get(pk=self.root.pk)
        self.assertTrue(root.check_password("root-parola-123"))

    def test_it_cannot_grant_superuser_to_anyone(self) -> None:
        other = User.objects.create_user("ops")
        page = self.client.get(f"/admin/auth/user/{other.pk}/change/").content.decode()
        self.assertFalse('name="is_superuser"' in page, "the superuser checkbox is offered")
        self.assertTrue('name="username"' in page, "the form is not editable")

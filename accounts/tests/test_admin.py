"""ApiToken admin: the key is shown once on creation and only its digest is stored."""

from __future__ import annotations

import hashlib
import re

from django.contrib.auth.models import User
from django.test import TestCase

from accounts.models import ApiToken


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

"""API plumbing: strict pagination parameters and JSON errors for URLs under /api/ that no view matches."""

from __future__ import annotations

from django.test import RequestFactory, TestCase

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.tests.factories import BotFactory
from config.rest import server_error


class PaginationTest(TestCase):
    def setUp(self) -> None:
        self.api, _, _ = role_client(Role.VIEWER)
        BotFactory.create_batch(3)

    def test_a_malformed_limit_or_offset_is_a_400_naming_it(self) -> None:
        # Found by schemathesis: DRF silently used the default page for ?limit=abc or ?offset=null.
        for query, name in (
            ("limit=abc", "limit"),
            ("limit=0", "limit"),
            ("offset=-1", "offset"),
            ("offset=x", "offset"),
        ):
            with self.subTest(query=query):
                response = self.api.get(f"/api/bots/?{query}")
                self.assertEqual(response.status_code, 400)
                self.assertIn(name, response.json())

    def test_valid_values_page_and_a_large_limit_is_capped(self) -> None:
        page = self.api.get("/api/bots/?limit=2&offset=1").json()
        self.assertEqual((page["count"], len(page["results"])), (3, 2))
        self.assertEqual(len(self.api.get("/api/bots/?limit=100000").json()["results"]), 3)


class ErrorPagesTest(TestCase):
    def test_an_unmatched_api_url_is_a_json_404(self) -> None:
        # Found by schemathesis: /api/bots/abc/ fell through to Django's HTML 404 page.
        api, _, _ = role_client(Role.VIEWER)
        for url in ("/api/bots/abc/", "/api/nothing-here/", "/api/chats/1/memberships/x/"):
            with self.subTest(url=url):
                response = api.get(url)
                self.assertEqual((response.status_code, response["Content-Type"]), (404, "application/json"))
                self.assertEqual(response.json(), {"detail": "Not found."})

    def test_other_urls_keep_the_html_404(self) -> None:
        response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertTrue(response["Content-Type"].startswith("text/html"))

    def test_a_server_error_under_api_is_json(self) -> None:
        response = server_error(RequestFactory().get("/api/bots/"))
        self.assertEqual((response.status_code, response["Content-Type"]), (500, "application/json"))
        self.assertTrue(server_error(RequestFactory().get("/admin/"))["Content-Type"].startswith("text/html"))

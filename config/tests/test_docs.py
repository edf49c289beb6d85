"""The code's links into docs/ name files that exist."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

APPS = ("accounts", "bots", "chats", "config", "dashboard", "engine", "monitoring", "bench")
LINK = re.compile(r"docs/(?:decisions/)?[\w.-]+\.md")


class DocLinkTests(SimpleTestCase):
    def test_every_link_from_code_into_docs_names_an_existing_file(self) -> None:
        root = Path(settings.BASE_DIR)
        links = {
            (str(path.relative_to(root)), link)
            for app in APPS
            for path in (root / app).rglob("*.py")
            for link in LINK.findall(path.read_text())
        }
        assert len(links) > 20  # the scan reads the code's links
        assert sorted(f"{source}: {link}" for source, link in links if not (root / link).is_file()) == []

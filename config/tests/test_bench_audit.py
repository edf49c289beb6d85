"""bench.audit's verdict on pip-audit's report: vulnerabilities fail, unaudited dependencies are named."""

from __future__ import annotations

from django.test import SimpleTestCase

from bench.audit import summarise

CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
SKIPPED = {"name": "rq", "skip_reason": "Dependency not found on PyPI and could not be audited: rq (2.12.0)"}
VULNERABLE = {"name": "httpx", "version": "0.28.1", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["0.28.2"]}]}


class SummariseTest(SimpleTestCase):
    def test_a_known_vulnerability_fails_and_is_named(self) -> None:
        lines, status = summarise([CLEAN, VULNERABLE], strict=False)
        self.assertEqual(status, 1)
        self.assertIn("VULNERABLE: httpx 0.28.1: GHSA-xxxx", lines)

    def test_an_unaudited_dependency_is_named_and_fails_only_when_strict(self) -> None:
        lines, status = summarise([CLEAN, SKIPPED], strict=False)
        self.assertEqual((status, lines[0]), (0, "1 of 2 pinned dependencies audited, 0 with known vulnerabilities"))
        self.assertIn("NOT AUDITED (1; the advisory data could not be fetched): rq", lines)
        self.assertEqual(summarise([CLEAN, SKIPPED], strict=True)[1], 1)

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.test import SimpleTestCase


class OpenApiSchemaTests(SimpleTestCase):
    def test_the_schema_generates_and_validates_without_warnings(self) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as directory:
            target = Path(directory) / "schema.yml"
            call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
            schema = target.read_text()
        self.assertIn("/api/metrics/summary", schema)
        self.assertIn("/api/bots/", schema)

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class DocumentedErrorsTests(SimpleTestCase):
    """Every operation documents the errors it answers with (found missing by schemathesis' status check)."""

    schema: dict[str, Any]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        from drf_spectacular.generators import SchemaGenerator

        cls.schema = SchemaGenerator().get_schema(request=None, public=True)

    def operations(self) -> list[tuple[str, str, dict[str, object]]]:
        return [(path, method, op) for path, item in self.schema["paths"].items() for method, op in item.items()]

    def test_every_operation_documents_401_and_each_with_a_path_id_404(self) -> None:
        for path, method, operation in self.operations():
            with self.subTest(operation=f"{method} {path}"):
                responses = operation["responses"]
                assert isinstance(responses, dict)
                self.assertIn("401", responses)
                if "{" in path:
                    self.assertIn("404", responses)
                if method in ("post", "put", "patch"):
                    self.assertTrue({"400", "415"} <= set(responses))

    def test_the_login_documents_its_throttle(self) -> None:
        self.assertIn("429", self.schema["paths"]["/api/auth/login/"]["post"]["responses"])

    def test_a_settings_patch_accepts_exactly_the_settings(self) -> None:
        from engine.runtime_settings import SPECS

        body = self.schema["paths"]["/api/settings/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
        self.assertEqual(set(body["properties"]), {spec.key for spec in SPECS})
        self.assertEqual((body["additionalProperties"], body["minProperties"]), (False, 1))
        self.assertEqual(body["properties"]["scale_factor"]["exclusiveMinimum"], True)  # OpenAPI 3.0's form

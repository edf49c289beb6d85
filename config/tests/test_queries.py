from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test import SimpleTestCase, TestCase
from django.utils import timezone

from bots.models import Memory
from bots.tests.factories import BotFactory, MemoryFactory
from config import queries

APPS = ("accounts", "bots", "chats", "config", "dashboard", "engine", "monitoring")
# SQL text, or running it: what only a queries.py module may hold.
SQL = re.compile(
    r"""\.cursor\(|cursor\.execute|\.raw\(|RawSQL\(|\.extra\(|["'](SELECT|UPDATE|INSERT INTO|DELETE FROM|WITH) """
)


def _sources(app: str) -> list[Path]:
    return [
        path
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


class AddToCountsTests(TestCase):
    def test_it_matches_its_reference(self) -> None:
        bot = BotFactory.create()
        memories = [MemoryFactory.create(bot=bot, usage_count=n) for n in range(4)]
        counts = {memories[0].pk: 1, memories[1].pk: 1, memories[3].pk: 3}
        at = timezone.now()

        def counted(form: object) -> list[tuple[int, int, datetime | None]]:
            with transaction.atomic():
                form(Memory, "usage_count", counts, last_used_at=at)  # type: ignore[operator]
                rows = list(Memory.objects.order_by("pk").values_list("pk", "usage_count", "last_used_at"))
                transaction.set_rollback(True)
            return rows

        hand_built = counted(queries.add_to_counts)
        assert hand_built == counted(queries.add_to_counts_orm)
        assert [count for _, count, _ in hand_built] == [1, 2, 2, 6]

    def test_nothing_to_count_is_no_query(self) -> None:
        with self.assertNumQueries(0):
            queries.add_to_counts(Memory, "usage_count", Counter())


class DatabaseTests(TestCase):
    def test_the_database_answers_a_ping(self) -> None:
        with self.assertNumQueries(1):
            queries.database_ping()

    def test_an_unsupported_database_is_refused_by_name(self) -> None:
        queries.require_supported_vendor(connection.vendor)
        with self.assertRaisesMessage(ImproperlyConfigured, "Piyasa runs on postgresql or sqlite; DATABASE_URL names"):
            queries.require_supported_vendor("mysql")


class SqlPlacementTests(SimpleTestCase):
    def test_sql_is_written_only_in_queries_modules(self) -> None:
        found = [
            f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
            for app in APPS
            for path in _sources(app)
            if path.name != "queries.py"
            for number, line in enumerate(path.read_text().splitlines(), start=1)
            if SQL.search(line)
        ]
        assert found == []

    def test_the_scan_sees_sql_where_there_is_some(self) -> None:
        held = [path for app in APPS for path in _sources(app) if path.name == "queries.py"]
        assert {str(path.relative_to(settings.BASE_DIR)) for path in held} == {"config/queries.py", "engine/queries.py"}
        assert all(SQL.search(path.read_text()) for path in held)

    def test_no_loaded_data_is_carried_as_an_attribute_set_on_a_model(self) -> None:
        found = [
            f"{path.relative_to(settings.BASE_DIR)}:{number}"
            for path in _sources("engine")
            for number, line in enumerate(path.read_text().splitlines(), start=1)
            if "setattr(" in line
        ]
        assert found == []

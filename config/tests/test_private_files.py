"""Files of the embedded default under var/ are this user's only: directories 0700, files 0600 from creation."""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from pathlib import Path

from django.test import SimpleTestCase

from config.embedded_redis import EmbeddedRedis
from config.secrets import local_secret_key, local_token_keys, private_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class PrivateFilesTest(SimpleTestCase):
    """Under the usual umask (022, which leaves new files world-readable) var/ is still private."""

    def setUp(self) -> None:
        self.addCleanup(os.umask, os.umask(0o022))
        self.var = Path(self.enterContext(tempfile.TemporaryDirectory())) / "var"

    def test_the_secret_keys_are_0600_in_a_0700_directory(self) -> None:
        key = local_secret_key(self.var)
        local_token_keys(self.var)
        self.assertEqual(mode(self.var), 0o700)
        self.assertEqual((mode(self.var / "secret_key"), mode(self.var / "token_key")), (0o600, 0o600))
        self.assertEqual(local_secret_key(self.var), key)  # created once, then read

    def test_the_sqlite_database_and_its_wal_files_are_0600(self) -> None:
        database = self.var / "piyasa.sqlite3"
        self.assertTrue(private_file(database))
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE t (x)")
            connection.execute("INSERT INTO t VALUES (1)")
            self.assertEqual(connection.execute("SELECT x FROM t").fetchone(), (1,))
            files = sorted(path.name for path in self.var.iterdir())
            self.assertEqual(files, ["piyasa.sqlite3", "piyasa.sqlite3-shm", "piyasa.sqlite3-wal"])
            self.assertEqual({mode(self.var / name) for name in files}, {0o600})
        self.assertEqual(mode(self.var), 0o700)

    def test_the_embedded_redis_directory_is_0700(self) -> None:
        server = EmbeddedRedis(self.var / "redis").start()
        self.addCleanup(server.stop)
        self.assertEqual(mode(self.var / "redis"), 0o700)
        self.assertEqual(mode(self.var), 0o700)

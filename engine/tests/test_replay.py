"""Deterministic replay: seeded simulated runs repeat byte for byte; recorded network runs replay offline."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import SimpleTestCase

from config.testing.fake_llm import FakeLlmServer
from engine.replay.run import Post, posts_parse

MANAGE = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
RUN = ["--minutes=3", "--questions=2"]


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`manage.py args` in a child process (its own throwaway stack), with `env` added."""
    child = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run([*MANAGE, *args], env=child | (env or {}), capture_output=True, text=True, timeout=300)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class SeededRunTests(SimpleTestCase):
    def simulate(self, *args: str, hash_seed: str = "0", env: dict[str, str] | None = None) -> str:
        result = manage(
            "simulate_run", *RUN, *args, env={"LLM_PROVIDER": "offline", "PYTHONHASHSEED": hash_seed} | (env or {})
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_the_same_seed_gives_the_same_transcript_byte_for_byte(self) -> None:
        # Another hash seed too: a set's order must not leak into what the crowd says.
        first, second = self.simulate("--seed=5", hash_seed="1"), self.simulate("--seed=5", hash_seed="2")
        self.assertEqual(first.encode(), second.encode())
        self.assertIn("**Üye Ali**: @piyasa", first)  # the member asked
        self.assertIn("↩ Üye Ali:", first)  # and was answered
        self.assertGreater(first.count("\n- "), 10)

    def test_another_seed_gives_another_transcript(self) -> None:
        self.assertNotEqual(self.simulate("--seed=5"), self.simulate("--seed=6"))


class RecordedRunTests(SimpleTestCase):
    dir: Path
    recorded: list[dict[str, Any]]
    requests: int
    stopped_url: str

    @classmethod
    def setUpClass(cls) -> None:
        """One run against the fake Groq server over HTTP, recorded; the server stopped afterwards."""
        super().setUpClass()
        cls.dir = Path(tempfile.mkdtemp(prefix="replay-test-"))
        recording = cls.dir / "run.jsonl"
        with FakeLlmServer(realistic=True) as fake:
            env = {"LLM_PROVIDER": "groq", "GROQ_API_KEY": "test-key", "GROQ_BASE_URL": fake.groq_base_url}
            result = manage(
                "simulate_run", *RUN, "--seed=8", f"--record={recording}", env=env | {"PYTHONHASHSEED": "1"}
            )
        assert result.returncode == 0, result.stderr
        cls.recorded, cls.requests, cls.stopped_url = lines(recording), len(fake.requests), fake.url

    def replay(self, recorded: list[dict[str, Any]], *args: str) -> subprocess.CompletedProcess[str]:
        """`manage.py replay` of these lines; the fake server is stopped, so a request reaching it would fail."""
        path = Path(tempfile.mkdtemp(prefix="replay-test-", dir=self.dir)) / "run.jsonl"
        path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in recorded), encoding="utf-8")
        return manage("replay", str(path), *args, env={"GROQ_BASE_URL": self.stopped_url, "PYTHONHASHSEED": "2"})

    def test_the_recording_holds_the_run_and_every_exchange(self) -> None:
        header, *exchanges, transcript = self.recorded
        self.assertEqual((header["kind"], header["provider"], header["scenario"]["seed"]), ("run", "groq", 8))
        self.assertEqual(header["settings"]["scale_factor"], 10.0)
        self.assertEqual(len(exchanges), self.requests)  # every request the server saw, and only those
        self.assertTrue(all(line["kind"] == "llm" and "response" in line for line in exchanges))
        self.assertIn("↩ Üye Ali:", transcript["text"])

    def test_a_recorded_network_run_replays_without_the_network(self) -> None:
        transcript = self.dir / "replayed.md"
        result = self.replay(self.recorded, f"--transcript={transcript}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("the transcript matches the recording", result.stdout)
        self.assertEqual(transcript.read_text(encoding="utf-8"), self.recorded[-1]["text"])

    def test_a_request_missing_from_the_recording_is_named(self) -> None:
        recorded = copy.deepcopy(self.recorded)
        first = recorded[1]
        first["hash"] = "0" * 64  # as if the run had asked something else
        result = self.replay(recorded)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("LLM request #", result.stderr)
        self.assertIn("has no answer left in", result.stderr)
        self.assertIn(f"seed {first['request']['seed']}", result.stderr)

    def test_a_transcript_other_than_the_recorded_one_fails_the_replay(self) -> None:
        recorded = copy.deepcopy(self.recorded)
        recorded[-1]["text"] = recorded[-1]["text"].replace("Üye Ali", "Üye Veli", 1)
        result = self.replay(recorded)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the replay's transcript differs from the recording's", result.stderr)
        self.assertRegex(result.stderr, r"\n-- \S+ \*\*Üye Veli\*\*: @piyasa")  # the diff: recorded, then replayed
        self.assertRegex(result.stderr, r"\n\+- \S+ \*\*Üye Ali\*\*: @piyasa")


class PostsTests(SimpleTestCase):
    def test_a_posts_file_gives_the_posts_in_time_order(self) -> None:
        data = [{"at_s": 40, "sender": "Zeynep", "text": "altın mı?"}, {"at_s": 10, "sender": "Mert", "text": "THYAO?"}]
        self.assertEqual(
            posts_parse(data, minutes=1), (Post(10.0, "Mert", "THYAO?"), Post(40.0, "Zeynep", "altın mı?"))
        )

    def test_a_wrong_post_is_named_by_item_and_field(self) -> None:
        with self.assertRaisesMessage(ValueError, "posts.0.sender: String should have at least 1 character"):
            posts_parse([{"at_s": 1, "sender": "", "text": "x"}], minutes=1)
        with self.assertRaisesMessage(ValueError, "posts.0.at_s: after the run's end (1 minutes)"):
            posts_parse([{"at_s": 61, "sender": "Mert", "text": "x"}], minutes=1)
        with self.assertRaisesMessage(ValueError, "posts.0.extra: Extra inputs are not permitted"):
            posts_parse([{"at_s": 1, "sender": "Mert", "text": "x", "extra": 1}], minutes=1)

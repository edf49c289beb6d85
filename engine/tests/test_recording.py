"""Recording LLM exchanges to a file and answering from it without the network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from pathlib import Path

from django.test import SimpleTestCase, override_settings

from engine.clients.llm import LlmRateLimited, LlmRequest, LlmResponse, OfflineProvider, RateLimitInfo
from engine.clients.llm.recording import (
    RecordingProvider,
    ReplayMismatch,
    ReplayProvider,
    provider_recorded,
    request_hash,
)


def ask(text: str, seed: int = 1) -> LlmRequest:
    return LlmRequest(messages=[{"role": "user", "content": text}], seed=seed)


class Scripted:
    """A provider answering from a list: a text, or an error raised."""

    name = "groq"
    default_model = "llama-3.3-70b-versatile"

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)

    async def complete(self, request: LlmRequest) -> LlmResponse:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        limits = RateLimitInfo(remaining_tokens=5000, reset_tokens_s=7.5)
        return LlmResponse(answer, self.default_model, self.name, 10, 5, 120, rate_limits=limits)


class RecordingTests(SimpleTestCase):
    def setUp(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="recording-test-")) / "run.jsonl"

    def record(self, *answers: str | Exception, requests: list[LlmRequest]) -> None:
        recording = RecordingProvider(Scripted(*answers), self.path)
        for request in requests:
            with contextlib.suppress(LlmRateLimited):  # recorded, then raised to the caller
                asyncio.run(recording.complete(request))

    def test_each_exchange_is_one_line_with_its_request_and_answer(self) -> None:
        self.record("Bence yükselir.", LlmRateLimited("slow down", retry_after=3.0), requests=[ask("a"), ask("b")])
        first, second = (json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines())
        self.assertEqual((first["kind"], first["hash"], first["request"]["seed"]), ("llm", request_hash(ask("a")), 1))
        self.assertEqual(first["response"]["text"], "Bence yükselir.")
        self.assertEqual(second["error"], {"type": "LlmRateLimited", "message": "slow down", "retry_after": 3.0})

    def test_a_replay_answers_by_request_hash_in_recorded_order(self) -> None:
        self.record("one", "two", "three", requests=[ask("same"), ask("other"), ask("same")])
        replay = ReplayProvider(Scripted(), self.path)
        # Asked in another order than recorded: each request still gets its own answers, first recorded first.
        got = [asyncio.run(replay.complete(ask(text))) for text in ("other", "same", "same")]
        self.assertEqual([response.text for response in got], ["two", "one", "three"])
        self.assertEqual(got[0].rate_limits, RateLimitInfo(remaining_tokens=5000, reset_tokens_s=7.5))
        self.assertEqual((replay.name, got[0].provider), ("groq", "groq"))

    def test_a_recorded_error_is_raised_again(self) -> None:
        self.record(LlmRateLimited("slow down", retry_after=3.0), requests=[ask("a")])
        with self.assertRaises(LlmRateLimited) as raised:
            asyncio.run(ReplayProvider(Scripted(), self.path).complete(ask("a")))
        self.assertEqual(raised.exception.retry_after, 3.0)

    def test_a_request_the_recording_lacks_is_named(self) -> None:
        self.record("one", requests=[ask("a")])
        replay = ReplayProvider(Scripted(), self.path)
        asyncio.run(replay.complete(ask("a")))
        with self.assertRaises(ReplayMismatch) as raised:
            asyncio.run(replay.complete(ask("a")))  # a second time: its one answer is used
        message = str(raised.exception)
        self.assertIn("LLM request #2 (sha256 " + request_hash(ask("a"))[:16], message)
        self.assertIn("seed 1, last message 'a'", message)
        self.assertIn("(1 exchanges recorded)", message)

    def test_settings_choose_recording_replay_or_the_provider_itself(self) -> None:
        provider = OfflineProvider()
        self.assertIs(provider_recorded(provider), provider)
        with override_settings(LLM_RECORD_PATH=str(self.path)):
            self.assertIsInstance(provider_recorded(provider), RecordingProvider)
        self.path.write_text("", encoding="utf-8")
        with override_settings(LLM_REPLAY_PATH=str(self.path), LLM_RECORD_PATH=str(self.path)):
            self.assertIsInstance(provider_recorded(provider), ReplayProvider)

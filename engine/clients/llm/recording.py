"""Recording and replaying LLM exchanges: a wrapper around any provider, appending each exchange to a JSON-lines
file (LLM_RECORD_PATH), and a provider answering from such a file without the network (LLM_REPLAY_PATH).

Both run on the network thread with the call itself; they write or read a file, never the database.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict, deque
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings

from engine.clients.llm.base import (
    LlmError,
    LlmPermanentError,
    LlmProvider,
    LlmRateLimited,
    LlmRequest,
    LlmResponse,
    LlmTransientError,
    RateLimitInfo,
)

EXCHANGE = "llm"  # a recording line's `kind`: one request and its response or error
ERRORS: dict[str, type[LlmError]] = {
    error.__name__: error for error in (LlmRateLimited, LlmTransientError, LlmPermanentError)
}


class ReplayMismatch(Exception):
    """The replay made a request the recording has no answer for: it has left the recorded run."""


def request_fields(request: LlmRequest) -> dict[str, Any]:
    """What a network provider sends of a request (the offline provider's hints are not on the wire)."""
    return {
        "messages": request.messages,
        "model": request.model,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
    }


def request_hash(request: LlmRequest) -> str:
    """A request's identity in a recording: SHA-256 of its wire fields as canonical JSON."""
    canonical = json.dumps(request_fields(request), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Recorder:
    """Appends lines to one recording file, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.count = 0

    def append(self, line: dict[str, Any]) -> int:
        """Write one JSON line (flushed at once: a crash keeps what came before); its number in the file."""
        text = json.dumps(line, ensure_ascii=False, sort_keys=True, default=str)
        with self.lock, self.path.open("a", encoding="utf-8") as file:
            file.write(text + "\n")
            self.count += 1
            return self.count


_recorders: dict[Path, Recorder] = {}


def recorder(path: str | Path) -> Recorder:
    """The process's recorder of `path` (one lock per file)."""
    resolved = Path(path).resolve()
    return _recorders.setdefault(resolved, Recorder(resolved))


class RecordingProvider:
    """A provider whose every exchange is appended to a recording."""

    def __init__(self, inner: LlmProvider, path: str | Path) -> None:
        self.inner, self.name, self.recorder = inner, inner.name, recorder(path)
        self.default_model = getattr(inner, "default_model", "")

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """The inner provider's answer (or error), recorded."""
        line: dict[str, Any] = {"kind": EXCHANGE, "hash": request_hash(request), "request": request_fields(request)}
        try:
            response = await self.inner.complete(request)
        except LlmError as error:
            kind = next((name for name, cls in ERRORS.items() if isinstance(error, cls)), "LlmPermanentError")
            self.recorder.append(
                line | {"error": {"type": kind, "message": str(error), "retry_after": error.retry_after}}
            )
            raise
        self.recorder.append(line | {"response": asdict(response)})
        return response


class ReplayProvider:
    """Answers each request from a recording: the next recorded exchange with the same request hash."""

    def __init__(self, inner: LlmProvider, path: str | Path) -> None:
        self.name, self.path = inner.name, Path(path)
        self.default_model = getattr(inner, "default_model", "")
        self.lock = threading.Lock()
        self.asked = 0
        self.exchanges: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        for line in recording_lines(self.path):
            if line.get("kind") == EXCHANGE:
                self.exchanges[line["hash"]].append(line)
        self.recorded = sum(len(queue) for queue in self.exchanges.values())

    async def complete(self, request: LlmRequest) -> LlmResponse:
        """The recorded answer, or the recorded error raised again; ReplayMismatch when there is none."""
        digest = request_hash(request)
        with self.lock:
            self.asked += 1
            asked, queue = self.asked, self.exchanges.get(digest)
            line = queue.popleft() if queue else None
        if line is None:
            raise ReplayMismatch(self._mismatch(asked, digest, request))
        if "error" in line:
            error = line["error"]
            raise ERRORS.get(error["type"], LlmPermanentError)(error["message"], error["retry_after"])
        return _response(line["response"])

    def _mismatch(self, asked: int, digest: str, request: LlmRequest) -> str:
        last = request.messages[-1]["content"] if request.messages else ""
        return (
            f"LLM request #{asked} (sha256 {digest[:16]}…, model {request.model or self.default_model!r}, seed "
            f"{request.seed}, last message {last[:120]!r}) has no answer left in {self.path} "
            f"({self.recorded} exchanges recorded): the replay has left the recorded run"
        )


def _response(fields: dict[str, Any]) -> LlmResponse:
    limits = fields.get("rate_limits")
    return LlmResponse(**(fields | {"rate_limits": RateLimitInfo(**limits) if limits else None}))


def recording_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a recording, parsed."""
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def provider_recorded(provider: LlmProvider) -> LlmProvider:
    """The provider as settings ask: answered from LLM_REPLAY_PATH, recorded to LLM_RECORD_PATH, or as it is."""
    if settings.LLM_REPLAY_PATH:
        return ReplayProvider(provider, settings.LLM_REPLAY_PATH)
    if settings.LLM_RECORD_PATH:
        return RecordingProvider(provider, settings.LLM_RECORD_PATH)
    return provider

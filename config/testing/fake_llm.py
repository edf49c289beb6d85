"""A fake Groq / OpenAI-compatible chat-completions server: real HTTP on 127.0.0.1, scriptable, recording.

with FakeLlmServer(reply="Merhaba", latency_s=0.5) as fake:
    GroqProvider(api_key="k", model="m", base_url=fake.groq_base_url)       # /openai/v1/...
    OpenAICompatProvider(base_url=fake.openai_base_url, model="m")          # /v1/...
    fake.rate_limit(times=2, retry_after=3)                                 # then 429, 429, 200
    fake.queue_replies(Answer("Bence THYAO 300'ü", finish_reason="length"))  # cut at max_tokens

FakeLlmServer(realistic=True) answers like real models do, from the corpus in config/testing/llm_outputs.py
(reasoning blocks, Markdown, refusals, cut answers… at the frequencies real chat models show them).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast


@dataclass(frozen=True)
class Answer:
    """A reply with the rest of its choice: why generation stopped, and Groq's parsed `reasoning` field."""

    content: str
    finish_reason: str = "stop"  # "length": cut at max_tokens
    reasoning: str | None = None


Reply = str | Answer | Callable[[dict[str, Any]], str | Answer]
COMPLETION_PATHS = frozenset({"/openai/v1/chat/completions", "/v1/chat/completions"})
MODEL_PATHS = frozenset({"/openai/v1/models", "/v1/models"})
WINDOW_S = 60.0
ERROR_TYPES = {401: "invalid_api_key", 403: "permission_denied", 404: "model_not_found", 429: "rate_limit_exceeded"}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received (the Authorization value is redacted)."""

    at: float
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour for one request: an error status, or a stall before answering."""

    status: int = 0
    retry_after: float | None = None
    stall_s: float = 0.0
    message: str = "scripted failure"
    body: bytes | None = None  # a 200 with this body instead of a completion


def format_reset(seconds: float) -> str:
    """Groq's reset format: "2m59.56s", "7.66s", "120ms"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.2f}s" if minutes else f"{rest:.2f}s"


def estimate_tokens(text: str) -> int:
    """~4 characters per token, at least 1."""
    return max(1, (len(text) + 3) // 4)


class _Window:
    """Requests and tokens used in the current one-minute window."""

    def __init__(self) -> None:
        self.started = float("-inf")
        self.requests = 0
        self.tokens = 0

    def roll(self, now: float) -> None:
        if now - self.started >= WINDOW_S:
            self.started, self.requests, self.tokens = now, 0, 0


class FakeLlmServer:
    """Serves chat completions on 127.0.0.1 at a random port from a background thread."""

    def __init__(
        self,
        *,
        reply: Reply = "Piyasa bugün sakin, veri akışını bekliyorum.",
        latency_s: float = 0.0,
        limit_requests: int = 14_400,
        limit_tokens: int = 6_000,
        enforce_limits: bool = False,
        realistic: bool = False,
    ) -> None:
        if realistic:
            from config.testing.llm_outputs import RealisticReplies

            reply = RealisticReplies()
        self.reply = reply
        self.latency_s = latency_s
        self.limit_requests = limit_requests
        self.limit_tokens = limit_tokens
        self.enforce_limits = enforce_limits
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._replies: deque[Reply] = deque()
        self._faults: deque[Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._window = _Window()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> FakeLlmServer:
        """Bind a free port and serve in a daemon thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled handlers wake up and finish."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLlmServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def groq_base_url(self) -> str:
        """Base URL for the groq SDK (it appends /openai/v1/...)."""
        return self.url

    @property
    def openai_base_url(self) -> str:
        """Base URL for the openai SDK and other OpenAI-compatible clients."""
        return f"{self.url}/v1"

    # --- scripting ---

    def queue_replies(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then fall back to `reply`."""
        with self._lock:
            self._replies.extend(replies)

    def fail(self, status: int, *, times: int = 1, retry_after: float | None = None, message: str = "") -> None:
        """Answer the next `times` requests with an HTTP error status."""
        fault = Fault(status=status, retry_after=retry_after, message=message or f"scripted {status}")
        with self._lock:
            self._faults.extend([fault] * times)

    def rate_limit(self, *, times: int = 1, retry_after: float = 1.0) -> None:
        """Answer the next `times` requests with 429 and a retry-after header."""
        self.fail(429, times=times, retry_after=retry_after, message="Rate limit reached, please try again later")

    def server_error(self, *, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` requests with a 5xx."""
        self.fail(status, times=times)

    def unauthorized(self, *, times: int = 1) -> None:
        """Answer the next `times` requests with 401 invalid API key."""
        self.fail(401, times=times, message="Invalid API Key")

    def stall(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` requests for `seconds`, then answer normally (to provoke client timeouts)."""
        with self._lock:
            self._faults.extend([Fault(stall_s=seconds)] * times)

    def garble(self, body: bytes, *, times: int = 1) -> None:
        """Answer the next `times` requests with 200 and this body (not JSON, or JSON that is no completion)."""
        with self._lock:
            self._faults.extend([Fault(body=body)] * times)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_faults(self) -> None:
        """Drop every scripted fault not yet used."""
        with self._lock:
            self._faults.clear()

    def clear_requests(self) -> None:
        """Forget recorded requests (scripted replies and faults stay)."""
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Forget recorded requests, scripted replies and faults, and the rate-limit window."""
        with self._lock:
            self._requests.clear()
            self._replies.clear()
            self._faults.clear()
            self._window = _Window()

    # --- request handling (called from handler threads) ---

    def _record(self, request: RecordedRequest, *, take_fault: bool) -> Fault | None:
        with self._lock:
            self._requests.append(request)
            return self._faults.popleft() if take_fault and self._faults else None

    def _next_reply(self, body: dict[str, Any]) -> Answer:
        with self._lock:
            reply = self._replies.popleft() if self._replies else self.reply
        answer = reply(body) if callable(reply) else reply
        return answer if isinstance(answer, Answer) else Answer(answer)

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _consume(self, tokens: int) -> tuple[dict[str, str], float | None]:
        """Count a request against the window; returns headers and, when over a limit, the wait."""
        now = time.monotonic()
        with self._lock:
            window = self._window
            window.roll(now)
            over = window.requests >= self.limit_requests or window.tokens + tokens > self.limit_tokens
            if not (over and self.enforce_limits):
                window.requests += 1
                window.tokens += tokens
            reset = max(WINDOW_S - (now - window.started), 0.001)
            headers = {
                "x-ratelimit-limit-requests": str(self.limit_requests),
                "x-ratelimit-remaining-requests": str(max(self.limit_requests - window.requests, 0)),
                "x-ratelimit-limit-tokens": str(self.limit_tokens),
                "x-ratelimit-remaining-tokens": str(max(self.limit_tokens - window.tokens, 0)),
                "x-ratelimit-reset-requests": format_reset(reset),
                "x-ratelimit-reset-tokens": format_reset(reset),
            }
        return headers, (reset if over and self.enforce_limits else None)

    def completion(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, JSON body and headers for a chat-completions request."""
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []) if isinstance(m, dict))
        prompt_tokens = estimate_tokens(prompt)
        answer = self._next_reply(body)
        completion_tokens = estimate_tokens(answer.content + (answer.reasoning or ""))
        if answer.finish_reason == "length" and isinstance(body.get("max_tokens"), int):
            completion_tokens = body["max_tokens"]  # the model stopped because it used them all
        headers, wait = self._consume(prompt_tokens + completion_tokens)
        if wait is not None:
            headers["retry-after"] = str(max(1, round(wait)))
            return 429, error_body(429, "Rate limit reached"), headers
        headers["x-request-id"] = f"req_fake_{next(self._ids)}"
        return 200, completion_body(body, answer, prompt_tokens, completion_tokens), headers


def completion_body(
    request: dict[str, Any], answer: str | Answer, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    """A valid chat.completion object."""
    answer = answer if isinstance(answer, Answer) else Answer(answer)
    message: dict[str, Any] = {"role": "assistant", "content": answer.content}
    if answer.reasoning is not None:
        message["reasoning"] = answer.reasoning  # Groq's reasoning_format "parsed"
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": answer.finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def error_body(status: int, message: str) -> dict[str, Any]:
    """An OpenAI/Groq style error object."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "code": ERROR_TYPES.get(status, kind)}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # benchmarks open hundreds of connections at once
    fake: FakeLlmServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts) are expected; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: SDK clients reuse connections
    # Headers and body go out in two writes: without TCP_NODELAY each answer on a kept-alive connection waits
    # for the client's delayed ACK (docs/decisions/029-fakes-like-real-servers.md).
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeLlmServer:
        return cast(_Server, self.server).fake

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def do_GET(self) -> None:
        """Model list, for preflight checks."""
        self._record({}, take_fault=False)
        if self.path in MODEL_PATHS:
            self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._send(404, error_body(404, f"unknown path {self.path}"))

    def do_POST(self) -> None:
        """Chat completions, after any scripted fault and latency."""
        body = self._read_json()
        fault = self._record(body, take_fault=self.path in COMPLETION_PATHS)
        if self.path not in COMPLETION_PATHS:
            self._send(404, error_body(404, f"unknown path {self.path}"))
            return
        self.fake._wait(self.fake.latency_s + (fault.stall_s if fault else 0.0))
        if fault and fault.status:
            headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            self._send(fault.status, error_body(fault.status, fault.message), headers)
            return
        if fault and fault.body is not None:
            self._send(200, fault.body)
            return
        status, payload, headers = self.fake.completion(body)
        self._send(status, payload, headers)

    def _read_json(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return {"_raw": raw.decode(errors="replace")}
        return body if isinstance(body, dict) else {"_json": body}

    def _record(self, body: dict[str, Any], *, take_fault: bool) -> Fault | None:
        headers = {k.lower(): ("<redacted>" if k.lower() == "authorization" else v) for k, v in self.headers.items()}
        request = RecordedRequest(time.time(), self.command, self.path, body, headers)
        return self.fake._record(request, take_fault=take_fault)

    def _send(self, status: int, payload: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client timed out and went away

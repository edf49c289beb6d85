"""The fake Telegram Bot API and fake Groq server in their own process, so their CPU is not the engine's.

    python -m bench.fakes --bots 3000 --llm-latency 0.5

prints one JSON line ({"telegram": ..., "llm": ..., "control": ..., "pid": ...}) once all listen on
127.0.0.1, then serves until SIGTERM/SIGINT or until its stdin closes (so it never outlives the benchmark).

The control server lets the reliability scripts (bench.crash, bench.faults, bench.soak) script faults at
runtime and read what the fake Telegram saw (see `Control`):

    POST /telegram/fault {"kind": "rate_limit"|"server_error"|"delay", "seconds": 20, "retry_after": 5, ...}
    POST /llm/fault      {"kind": "server_error"|"rate_limit"|"stall", "seconds": 20, ...}
    POST /clear          every fault ends now
    GET  /stats          sends, duplicates, 429s and requests that came before their retry_after
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from config.testing.fake_llm import FakeLlmServer
from config.testing.fake_telegram import FakeTelegram, Fault, JSONDict

TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
BOT_ID_BASE = 8_000_000_000
# A request sent within this long after a 429 may have left the engine before the 429 arrived.
EARLY_GRACE_S = 1.0
LLM_FAULT_TIMES = 10**7  # "until cleared": the LLM fake's faults are a count, not a duration

# Neutral market chatter: no direction words (stance check), no orders or guarantees (compliance),
# random numbers, so two replies are never near-duplicates.
SUBJECTS = [
    "BIST tarafında",
    "dolar/TL'de",
    "altında",
    "faiz kararı öncesi",
    "enflasyon verisinde",
    "bankacılık endeksinde",
    "THYAO'da",
    "ASELS'te",
    "petrolde",
    "Fed tutanaklarında",
    "Euro/dolar paritesinde",
    "tahvil faizlerinde",
    "KCHOL'da",
    "sanayi endeksinde",
    "gram altında",
]
NOUNS = [
    "hacim",
    "işlem adedi",
    "oynaklık",
    "takas",
    "yabancı payı",
    "bilanço takvimi",
    "beklenti anketi",
    "veri akışı",
    "derinlik",
    "kapanış seansı",
    "açılış seansı",
    "opsiyon tarafı",
    "vadeli kontratlar",
]
ENDINGS = [
    "bakalım akşam ne olacak",
    "ben biraz bekleyeceğim",
    "şimdilik izliyorum",
    "yarınki veriye göre bakarız",
    "not alıyorum",
    "grafiği bir daha açtım",
    "sabır lazım",
    "haberi okuyan var mı",
    "toplantı sonrası netleşir",
    "kendi planıma sadığım",
]


def bench_token(index: int) -> str:
    """The token of bench bot `index`: deterministic, so the engine side knows it without asking."""
    digest = hashlib.sha256(f"piyasa-bench-{index}".encode()).digest()
    return f"{BOT_ID_BASE + index}:" + "".join(TOKEN_ALPHABET[b % len(TOKEN_ALPHABET)] for b in digest[:35])


def make_reply(seed: int | None = None) -> Any:
    counter = itertools.count()
    lock = threading.Lock()

    def reply(body: dict[str, Any]) -> str:
        with lock:
            n = next(counter)
        rng = random.Random(f"{body.get('seed')}:{n}:{seed}")
        parts = []
        for _ in range(2):
            parts.append(
                f"{rng.choice(SUBJECTS)} {rng.choice(NOUNS)} {rng.randint(2, 97)},{rng.randint(0, 9)} "
                f"civarında, {rng.choice(NOUNS)} {rng.randint(100, 9999)}"
            )
        return "; ".join(parts) + f", {rng.choice(ENDINGS)}."

    return reply


class WatchedTelegram(FakeTelegram):
    """The fake Telegram, also counting answers per method and requests that came before their retry_after."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: Counter[str] = Counter()
        self.early: list[JSONDict] = []
        self.sent_times: list[float] = []
        self._blocked: dict[str, tuple[float, float]] = {}  # token -> (429 answered at, retry allowed at)

    def handle(self, token: str, method: str, params: JSONDict, content_type: str) -> tuple[int, JSONDict]:
        """Check the request against the bot's last 429, then answer as the fake does."""
        arrived = time.monotonic()
        with self._lock:
            answered, allowed = self._blocked.get(token, (0.0, 0.0))
            if answered + EARLY_GRACE_S < arrived < allowed:
                self.early.append({"method": method, "early_by_s": round(allowed - arrived, 3)})
        status, body = super().handle(token, method, params, content_type)
        with self._lock:
            self.answers[f"{method}:{int(status)}"] += 1
            if status == 429:
                now = time.monotonic()
                self._blocked[token] = (now, now + float(body.get("parameters", {}).get("retry_after", 0)))
            elif status == 200 and method.lower() == "sendmessage":
                self.sent_times.append(time.time())
        return status, body

    def stats(self, since: float = 0.0) -> JSONDict:
        """What the reliability scripts check: sends, duplicate sends, 429s, early requests."""
        per_text = Counter((m["chat"]["id"], m["text"]) for m in self.sent_messages())
        with self._lock:
            after = [t for t in self.sent_times if t > since]
            return {
                "sent": sum(per_text.values()),
                "duplicates": sum(n - 1 for n in per_text.values() if n > 1),
                "answers": dict(self.answers),
                "early_requests": len(self.early),
                "early_examples": self.early[:5],
                "first_sent_after": min(after) if after else None,
                "last_sent_at": max(self.sent_times) if self.sent_times else None,
            }


class Control:
    """Runtime fault scripting and statistics for the fakes, driven over HTTP by the reliability scripts."""

    def __init__(self, telegram: WatchedTelegram, llm: FakeLlmServer) -> None:
        self.telegram = telegram
        self.llm = llm
        self._timers: list[threading.Timer] = []

    def telegram_fault(self, spec: JSONDict) -> JSONDict:
        """Add a Telegram fault for every bot (optionally one method) that ends after `seconds`."""
        kind, method, seconds = spec["kind"], spec.get("method"), float(spec["seconds"])
        if kind == "rate_limit":
            fault = self.telegram.rate_limit(method, retry_after=int(spec.get("retry_after", 5)), times=None)
        elif kind == "server_error":
            fault = self.telegram.server_error(method, status=int(spec.get("status", 502)), times=None)
        elif kind == "delay":
            fault = self.telegram.delay(method, float(spec.get("delay", 5.0)), times=None)
        else:
            raise ValueError(f"unknown telegram fault kind {kind!r}")
        self._later(seconds, lambda: _use_up(fault))
        return {"ok": True}

    def llm_fault(self, spec: JSONDict) -> JSONDict:
        """Make every LLM completion fail (5xx, 429 or a stall) for `seconds`."""
        kind, seconds = spec["kind"], float(spec["seconds"])
        if kind == "server_error":
            self.llm.server_error(times=LLM_FAULT_TIMES, status=int(spec.get("status", 503)))
        elif kind == "rate_limit":
            self.llm.rate_limit(times=LLM_FAULT_TIMES, retry_after=float(spec.get("retry_after", 2.0)))
        elif kind == "stall":
            self.llm.stall(float(spec.get("stall", 5.0)), times=LLM_FAULT_TIMES)
        else:
            raise ValueError(f"unknown llm fault kind {kind!r}")
        self._later(seconds, self.llm.clear_faults)
        return {"ok": True}

    def clear(self) -> JSONDict:
        """End every fault now."""
        for timer in self._timers:
            timer.cancel()
        self.telegram.clear_faults()
        self.llm.clear_faults()
        return {"ok": True}

    def _later(self, seconds: float, action: Any) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def dispatch(self, method: str, path: str, body: JSONDict) -> JSONDict:
        """Route one control request."""
        route, query = urlsplit(path).path, dict(parse_qsl(urlsplit(path).query))
        if method == "GET" and route == "/stats":
            return self.telegram.stats(since=float(query.get("since", 0)))
        if method == "POST" and route == "/telegram/fault":
            return self.telegram_fault(body)
        if method == "POST" and route == "/llm/fault":
            return self.llm_fault(body)
        if method == "POST" and route == "/clear":
            return self.clear()
        raise NotFound(route)


class NotFound(Exception):
    """No such control route."""


def _use_up(fault: Fault) -> None:
    fault.remaining = 0  # a used-up fault no longer matches


class _ControlHandler(BaseHTTPRequestHandler):
    control: Control

    def do_GET(self) -> None:
        self._answer({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(json.loads(self.rfile.read(length) or b"{}"))

    def _answer(self, body: JSONDict) -> None:
        try:
            status, answer = 200, self.control.dispatch(self.command, self.path, body)
        except NotFound:
            status, answer = 404, {"error": "not found"}
        except (ValueError, KeyError) as error:
            status, answer = 400, {"error": f"bad fault: {error}"}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def serve_control(control: Control) -> ThreadingHTTPServer:
    """Serve the control API on a free 127.0.0.1 port from a daemon thread."""
    handler = type("BoundControlHandler", (_ControlHandler,), {"control": control})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=0, help="register bench tokens 0..N-1 on the fake Telegram")
    parser.add_argument("--llm-latency", type=float, default=0.5, help="seconds the fake LLM takes per completion")
    parser.add_argument(
        "--llm-output",
        choices=("synthetic", "realistic"),
        default="synthetic",
        help="realistic: answer like real models (config/testing/llm_outputs.py: reasoning, Markdown, refusals…)",
    )
    args = parser.parse_args()

    telegram = WatchedTelegram()
    telegram.start()
    # Limits high enough never to bind: the engine's own governor is what is measured.
    realistic = args.llm_output == "realistic"
    llm = FakeLlmServer(
        reply=make_reply(),
        realistic=realistic,
        latency_s=args.llm_latency,
        limit_requests=10**9,
        limit_tokens=10**12,
    )
    llm.start()
    for index in range(args.bots):
        telegram.add_bot(username=f"bench{index}_bot", token=bench_token(index))
    # The fakes keep a record of every request; the benchmark does not need it, so keep memory flat.
    threading.Thread(target=_trim, args=(telegram, llm), daemon=True).start()
    control = serve_control(Control(telegram, llm))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=_wait_for_stdin_close, args=(stop,), daemon=True).start()
    control_url = f"http://127.0.0.1:{control.server_address[1]}"
    urls = {"telegram": telegram.base_url, "llm": llm.url, "control": control_url}
    print(json.dumps({**urls, "pid": _pid()}), flush=True)
    stop.wait()
    control.shutdown()
    telegram.stop()
    llm.stop()


def _wait_for_stdin_close(stop: threading.Event) -> None:
    sys.stdin.read()  # returns when the benchmark (our parent) closes the pipe or dies
    stop.set()


def _trim(telegram: FakeTelegram, llm: FakeLlmServer) -> None:
    while True:
        threading.Event().wait(10)
        telegram.clear_requests()
        llm.clear_requests()  # not reset(): that would also drop the faults a script is running


def _pid() -> int:
    import os

    return os.getpid()


if __name__ == "__main__":
    main()

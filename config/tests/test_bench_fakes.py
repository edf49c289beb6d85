"""bench.fakes' control server: runtime faults and the checks the reliability scripts rely on."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from unittest.mock import patch

from django.test import SimpleTestCase

from bench import fakes
from bench.fakes import Control, WatchedTelegram, bench_token, serve_control
from config.testing.fake_llm import FakeLlmServer


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def send(telegram: WatchedTelegram, text: str = "merhaba") -> int:
    return call(f"{telegram.base_url}{bench_token(0)}/sendMessage", {"chat_id": -100, "text": text})[0]


class ControlTestCase(SimpleTestCase):
    """A watched fake Telegram with the bench's bot 0, a fake LLM, and the control server over both."""

    url: str
    telegram: WatchedTelegram
    llm: FakeLlmServer

    def setUp(self) -> None:
        super().setUp()
        self.telegram, self.llm = WatchedTelegram(), FakeLlmServer(reply="ok")
        self.enterContext(self.telegram)
        self.enterContext(self.llm)
        self.telegram.add_bot(username="bench0_bot", token=bench_token(0))
        server = serve_control(Control(self.telegram, self.llm))
        self.addCleanup(server.shutdown)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"


class TelegramFaultTests(ControlTestCase):
    def test_a_telegram_fault_lasts_its_seconds(self) -> None:
        url, telegram = self.url, self.telegram
        assert call(f"{url}/telegram/fault", {"kind": "server_error", "status": 502, "seconds": 0.3})[0] == 200
        assert send(telegram) == 502
        time.sleep(0.4)
        assert send(telegram) == 200
        assert call(f"{url}/stats")[1]["answers"] == {"sendMessage:502": 1, "sendMessage:200": 1}

    def test_requests_before_retry_after_are_counted(self) -> None:
        url, telegram = self.url, self.telegram
        call(f"{url}/telegram/fault", {"kind": "rate_limit", "retry_after": 5, "seconds": 60})
        with patch.object(fakes, "EARLY_GRACE_S", 0.0):
            assert send(telegram) == 429
            assert send(telegram) == 429  # 5 s had not passed
        stats = call(f"{url}/stats")[1]
        assert stats["early_requests"] == 1
        assert stats["early_examples"][0]["method"] == "sendMessage"


class SendStatsTests(ControlTestCase):
    def test_duplicate_sends_and_first_send_after(self) -> None:
        url, telegram = self.url, self.telegram
        before = time.time()
        send(telegram, "bir")
        send(telegram, "bir")
        send(telegram, "iki")
        stats = call(f"{url}/stats?since={before}")[1]
        assert (stats["sent"], stats["duplicates"]) == (3, 1)
        assert before < stats["first_sent_after"] <= time.time()
        assert call(f"{url}/stats?since={time.time()}")[1]["first_sent_after"] is None


class LlmFaultTests(ControlTestCase):
    def test_llm_faults_last_until_cleared(self) -> None:
        url, llm = self.url, self.llm
        completion = f"{llm.url}/openai/v1/chat/completions"
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        assert call(f"{url}/llm/fault", {"kind": "server_error", "status": 503, "seconds": 60})[0] == 200
        assert call(completion, body)[0] == 503
        assert call(completion, body)[0] == 503
        assert call(f"{url}/clear", {})[0] == 200
        assert call(completion, body)[0] == 200


class ControlRequestTests(ControlTestCase):
    def test_bad_control_requests_are_refused(self) -> None:
        url = self.url
        assert call(f"{url}/telegram/fault", {"kind": "meteor", "seconds": 1})[0] == 400
        assert call(f"{url}/llm/fault", {"kind": "server_error"})[0] == 400  # no seconds
        assert call(f"{url}/nope")[0] == 404

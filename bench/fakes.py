"""The fake Telegram Bot API and fake Groq server in their own process, so their CPU is not the engine's.

    python -m bench.fakes --bots 3000 --llm-latency 0.5

prints one JSON line ({"telegram": ..., "llm": ..., "pid": ...}) once both listen on 127.0.0.1, then
serves until SIGTERM/SIGINT or until its stdin closes (so it never outlives the benchmark).
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
from typing import Any

from config.testing.fake_llm import FakeLlmServer
from config.testing.fake_telegram import FakeTelegram

TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
BOT_ID_BASE = 8_000_000_000

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=0, help="register bench tokens 0..N-1 on the fake Telegram")
    parser.add_argument("--llm-latency", type=float, default=0.5, help="seconds the fake LLM takes per completion")
    args = parser.parse_args()

    telegram = FakeTelegram().start()
    # Limits high enough never to bind: the engine's own governor is what is measured.
    llm = FakeLlmServer(reply=make_reply(), latency_s=args.llm_latency, limit_requests=10**9, limit_tokens=10**12)
    llm.start()
    for index in range(args.bots):
        telegram.add_bot(username=f"bench{index}_bot", token=bench_token(index))
    # The fakes keep a record of every request; the benchmark does not need it, so keep memory flat.
    threading.Thread(target=_trim, args=(telegram, llm), daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=_wait_for_stdin_close, args=(stop,), daemon=True).start()
    print(json.dumps({"telegram": telegram.base_url, "llm": llm.url, "pid": _pid()}), flush=True)
    stop.wait()
    telegram.stop()
    llm.stop()


def _wait_for_stdin_close(stop: threading.Event) -> None:
    sys.stdin.read()  # returns when the benchmark (our parent) closes the pipe or dies
    stop.set()


def _trim(telegram: FakeTelegram, llm: FakeLlmServer) -> None:
    while True:
        threading.Event().wait(10)
        telegram.clear_requests()
        llm.reset()


def _pid() -> int:
    import os

    return os.getpid()


if __name__ == "__main__":
    main()

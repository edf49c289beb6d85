"""Members benchmark: member mention → the bot's priority reply turn ready, under the capacity benchmark's load.

    .venv/bin/python -m bench.members                      # 300 chats, 2 mentions/s for 4 min (≈ 5.5 min in all)
    .venv/bin/python -m bench.members --quick              # a smoke run, under a minute, writes no file
    .venv/bin/python -m bench.members --chats 600 --mentions-per-s 5 --minutes 3

Starts the same background load as `bench.engine`'s capacity run (N telegram chats × 3 bots at 3 msgs/min,
fakes in their own process at 500 ms LLM latency, one `manage.py rqcron` and W `manage.py rqworker`
SimpleWorker processes), serves the Django app over real HTTP on 127.0.0.1 (gunicorn), and then sends member
mentions of a random bench bot at a steady rate the way Telegram delivers them: a POST of the update JSON to
the bot's webhook URL (`/telegram/webhook/<webhook_id>/`) with its `X-Telegram-Bot-Api-Secret-Token`.

Latency of one mention = (Turn.ready_at − start of the webhook POST) − Turn.llm_latency_ms: the engine's own
time from Telegram's delivery to a reply ready for delivery, excluding the LLM call(s). The typing indicator
and its delay come after `ready`, so they are excluded by construction.

Own database (BENCH_DB_NAME, default piyasa_bench_members) and Redis db (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/11); both are dropped/flushed at the end, and every process it starts is killed (whole
process group) in a `finally` block.
"""

from __future__ import annotations

import os

# Before bench.engine reads them: never share the capacity benchmark's database or Redis db.
os.environ.setdefault("BENCH_DB_NAME", "piyasa_bench_members")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")

import argparse
import datetime as dt
import json
import math
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.engine import (
    BOTS_PER_CHAT,
    CADENCE,
    PYTHON,
    ROOT,
    _spawn,
    _stop,
    _wait_for_workers,
    auto_workers,
    build_crowd,
    configure,
    create_database,
    engine_env,
    fmt,
    machine_facts,
    pct,
    report_header,
    reset_state,
    seed_next_at,
    start_fakes,
    summary,
    teardown,
)

SECTION_TITLE = "## Members: mention → reply ready"
TARGET_P95_MS = 500.0
LLM_HOLD_S = 0.6  # a priority generate job holds a worker for the LLM call (500 ms) plus its own work
MENTION_TEXTS = [
    "THYAO için ne düşünüyorsun?",
    "bugün piyasa nasıl sence?",
    "altında durum ne?",
    "dolar/TL'de beklentin ne?",
    "faiz kararını nasıl yorumluyorsun?",
]


@dataclass
class Mention:
    chat_tg_id: int
    message_id: int
    bot_index: int
    post_start: float = 0.0  # time.time() just before the POST
    response_s: float = float("nan")
    status: int = 0
    outcome: str = ""


@dataclass
class MembersResult:
    chats: int
    workers: int
    web_workers: int
    rate: float
    minutes: float
    sent: int = 0
    http_ok: int = 0
    window_s: float = 0.0
    with_turn: int = 0
    ready: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    webhook_ms: dict[str, float] = field(default_factory=dict)
    to_created_ms: dict[str, float] = field(default_factory=dict)
    queue_wait_ms: dict[str, float] = field(default_factory=dict)
    generate_ms: dict[str, float] = field(default_factory=dict)
    llm_ms: dict[str, float] = field(default_factory=dict)
    llm_calls: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    background_sent_per_chat_min: float = 0.0
    background_lateness_p95_s: float = float("nan")
    max_queued_high: int = 0
    machine_busy: float = 0.0


# --------------------------------------------------------------------------------------------- web server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_web(*, env: dict[str, str], log: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn (config/gunicorn.py) serving config.wsgi on 127.0.0.1, a free port; returns it and its base URL."""
    port = free_port()
    proc = _spawn(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            *("-c", "config/gunicorn.py", "config.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--log-level", "warning"),
        ],
        env=env | {"GUNICORN_ACCESS_LOG": ""},
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, base
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen in 30 s; see {log}")


# --------------------------------------------------------------------------------------------- mentions


def webhook_targets(base: str) -> dict[int, tuple[str, str, str]]:
    """bot index → (webhook URL, secret, @handle), derived exactly as engine/services/webhooks.py does."""
    from bots.models import Bot
    from engine.services.webhooks import inbox_for, webhook_secret, webhook_url

    targets = {}
    for bot in Bot.objects.filter(username__regex=r"^bench\d+_bot$"):
        index = int(re.findall(r"\d+", bot.username)[0])
        targets[index] = (webhook_url(base, inbox_for(bot)), webhook_secret(bot.token), bot.username)
    return targets


def mention_update(mention: Mention, handle: str, number: int, rng: random.Random) -> dict[str, Any]:
    text = f"@{handle} {rng.choice(MENTION_TEXTS)}"
    user_id = 700_000_000 + rng.randrange(50)
    return {
        "update_id": 900_000_000 + number,
        "message": {
            "message_id": mention.message_id,
            "date": int(time.time()),
            "chat": {"id": mention.chat_tg_id, "type": "supergroup", "title": "Bench"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"Üye {user_id % 50}", "username": f"uye{user_id}"},
            "text": text,
            "entities": [{"type": "mention", "offset": 0, "length": len(handle) + 1}],
        },
    }


def post_mention(mention: Mention, url: str, secret: str, body: bytes) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    mention.post_start = time.time()
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            mention.status = response.status
            mention.outcome = json.loads(response.read() or b"{}").get("outcome", "")
    except urllib.error.HTTPError as error:
        mention.status = error.code
    except OSError as error:
        mention.outcome = f"error: {error}"
    mention.response_s = time.perf_counter() - t0


def warm_web(targets: dict[int, tuple[str, str, str]], *, chats: int, count: int = 24) -> None:
    """Plain member messages (no mention: stored, no turn) through the webhook, concurrently, unmeasured."""
    rng = random.Random(5)
    jobs = []
    for number in range(count):
        chat = number % chats
        url, secret, _ = targets[chat * BOTS_PER_CHAT]
        mention = Mention(chat_tg_id=-1_000_000_000_000 - chat, message_id=40_000_000 + number, bot_index=0)
        update = mention_update(mention, "nobody", 10_000_000 + number, rng)
        update["message"]["text"] = "merhaba, piyasa bugün sakin"
        update["message"].pop("entities")
        jobs.append((mention, url, secret, json.dumps(update).encode()))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: post_mention(*job), jobs))


def send_mentions(
    *, targets: dict[int, tuple[str, str, str]], chats: int, rate: float, seconds: float, stop: threading.Event
) -> list[Mention]:
    """POST mentions at a steady rate (an open loop: a slow answer does not delay the next mention)."""
    rng = random.Random(23)
    mentions: list[Mention] = []
    total = int(rate * seconds)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="mention") as pool:
        for number in range(total):
            at = start + number / rate
            while (wait := at - time.monotonic()) > 0:
                if stop.wait(min(wait, 0.5)):
                    return mentions
            chat = rng.randrange(chats)
            bot_index = chat * BOTS_PER_CHAT + rng.randrange(BOTS_PER_CHAT)
            url, secret, handle = targets[bot_index]
            mention = Mention(chat_tg_id=-1_000_000_000_000 - chat, message_id=50_000_000 + number, bot_index=bot_index)
            body = json.dumps(mention_update(mention, handle, number, rng)).encode()
            mentions.append(mention)
            pool.submit(post_mention, mention, url, secret, body)
    return mentions


# --------------------------------------------------------------------------------------------- run


def run_members(
    *,
    chats: int,
    workers: int,
    web_workers: int,
    rate: float,
    minutes: float,
    warmup_s: float,
    env: dict[str, str],
    logs: Path,
) -> MembersResult:
    import django_rq

    from engine.models import Turn

    result = MembersResult(chats=chats, workers=workers, web_workers=web_workers, rate=rate, minutes=minutes)
    reset_state()
    chat_ids = build_crowd(chats=chats, bots_per_chat=BOTS_PER_CHAT)
    configure(active=False)
    procs: list[subprocess.Popen[bytes]] = []
    high = django_rq.get_queue("high")
    mentions: list[Mention] = []
    stop = threading.Event()
    try:
        log = logs / f"members-{chats}.log"
        web, base = start_web(env=env, log=logs / "members-web.log", workers=web_workers)
        procs.append(web)
        targets = webhook_targets(base)
        for _ in range(workers):
            procs.append(
                _spawn(
                    [PYTHON, "manage.py", "rqworker", "high", "default", "low", "--with-scheduler"], env=env, log=log
                )
            )
        _wait_for_workers(workers, high.connection, timeout=30 + workers * 1.5)
        procs.append(_spawn([PYTHON, "manage.py", "rqcron", "config.cron"], env=env, log=log))
        time.sleep(2)
        start = time.time()
        seed_next_at(chat_ids, mean_gap_s=60.0 / CADENCE, start=start)
        configure(active=True)
        print(f"bench: background load running, mentions start in {warmup_s:g} s", flush=True)
        warm_web(targets, chats=chats)  # plain member messages: each gunicorn worker loads Django before we measure
        time.sleep(max(0.0, start + warmup_s - time.time()))
        cpu0 = psutil.cpu_times()
        window_start = time.time()
        box: dict[str, list[Mention]] = {}
        sender = threading.Thread(
            target=lambda: box.setdefault(
                "m",
                send_mentions(targets=targets, chats=chats, rate=rate, seconds=minutes * 60, stop=stop),
            ),
            daemon=True,
        )
        sender.start()
        while sender.is_alive():
            result.max_queued_high = max(result.max_queued_high, len(high))
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{len(dead)} engine process(es) exited early; see {log}")
            sender.join(timeout=1.0)
        window_end = time.time()
        cpu1 = psutil.cpu_times()
        mentions = box.get("m", [])
        # The last mentions' replies: wait until each has its turn past generation (or 20 s).
        deadline = time.time() + 20
        while time.time() < deadline:
            pending = Turn.objects.filter(
                kind=Turn.Kind.PRIORITY_REPLY, status__in=[Turn.Status.PLANNED, Turn.Status.GENERATING]
            )
            if not pending.exists():
                break
            time.sleep(0.5)
        configure(active=False)
    finally:
        stop.set()
        _stop(procs)

    result.window_s = window_end - window_start
    busy = lambda c: sum(c) - c.idle - getattr(c, "iowait", 0.0)  # noqa: E731
    result.machine_busy = (busy(cpu1) - busy(cpu0)) / max(sum(cpu1) - sum(cpu0), 1e-9)
    result.sent = len(mentions)
    result.http_ok = sum(m.status == 200 for m in mentions)
    result.outcomes = dict(Counter(m.outcome or str(m.status) for m in mentions))
    result.webhook_ms = summary([1000 * m.response_s for m in mentions if m.status == 200])
    by_key = {(m.chat_tg_id, m.message_id): m for m in mentions}
    rows = Turn.objects.filter(
        kind=Turn.Kind.PRIORITY_REPLY, reply_to__telegram_message_id__gte=50_000_000
    ).values_list(
        "reply_to__chat__telegram_chat_id",
        "reply_to__telegram_message_id",
        "created_at",
        "generating_at",
        "ready_at",
        "llm_latency_ms",
        "llm_calls",
        "status",
    )
    latency, to_created, queue_wait, generate, llm = [], [], [], [], []
    statuses: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for chat_tg_id, message_id, created, generating, ready, llm_ms, llm_calls, status in rows:
        mention = by_key.get((int(chat_tg_id or 0), int(message_id or 0)))
        if mention is None:
            continue
        result.with_turn += 1
        statuses[status] += 1
        to_created.append(1000 * (created.timestamp() - mention.post_start))
        if generating:
            queue_wait.append(1000 * (generating - created).total_seconds())
        if ready is None:
            continue
        result.ready += 1
        calls[str(llm_calls)] += 1
        llm.append(float(llm_ms or 0))
        latency.append(1000 * (ready.timestamp() - mention.post_start) - (llm_ms or 0))
        if generating:
            generate.append(1000 * (ready - generating).total_seconds() - (llm_ms or 0))
    result.statuses = dict(statuses)
    result.llm_calls = dict(calls)
    result.latency_ms = summary(latency)
    result.to_created_ms = summary(to_created)
    result.queue_wait_ms = summary(queue_wait)
    result.generate_ms = summary(generate)
    result.llm_ms = summary(llm)
    # The background load over the same window: is it still the capacity benchmark's sustained state?
    w0, w1 = dt.datetime.fromtimestamp(window_start, dt.UTC), dt.datetime.fromtimestamp(window_end, dt.UTC)
    sent = Turn.objects.exclude(kind=Turn.Kind.PRIORITY_REPLY).filter(
        status=Turn.Status.SENT, finished_at__gte=w0, finished_at__lt=w1
    )
    result.background_sent_per_chat_min = sent.count() / chats / max(result.window_s / 60, 1e-9)
    late = [(s - n).total_seconds() for n, s in sent.values_list("next_run_at", "sending_at") if n and s]
    result.background_lateness_p95_s = pct(late, 95)
    reset_state()
    return result


# --------------------------------------------------------------------------------------------- report


def _row(name: str, s: dict[str, float], note: str = "") -> str:
    figures = " | ".join(fmt(s[q], 0) for q in ("p50", "p95", "p99", "max"))
    return f"| {name} | {s.get('n', 0):.0f} | {figures} | {note} |"


def render(*, command: str, facts: dict[str, str], r: MembersResult, llm_latency: float, quick: bool) -> str:
    lines = report_header(SECTION_TITLE, command=command, facts=facts, quick=quick)
    add = lines.append
    add(
        f"Setup: the capacity benchmark's load — {r.chats} telegram chats × {BOTS_PER_CHAT} bots at cadence "
        f"{CADENCE:g} msgs/min, fake Groq at {llm_latency * 1000:.0f} ms and fake Telegram in their own process, "
        f"one `manage.py rqcron config.cron` and {r.workers} `manage.py rqworker high default low --with-scheduler` "
        f"(SimpleWorker) processes — plus the Django app served by gunicorn ({r.web_workers} sync workers, "
        f"config/gunicorn.py) on 127.0.0.1. After the warm-up, {r.rate:g} member mentions/s of a random bench bot for "
        f"{r.minutes:g} min ({r.sent} mentions over {r.window_s:.0f} s), each POSTed like Telegram does: the update "
        "JSON to the bot's `/telegram/webhook/<webhook_id>/` with its `X-Telegram-Bot-Api-Secret-Token`, from "
        "16 client threads (open loop: a slow answer does not delay the next mention)."
    )
    add("")
    add(
        "**Latency** = (`Turn.ready_at` − start of the webhook POST) − `Turn.llm_latency_ms`: the engine's time "
        "from Telegram's delivery to the reply ready for delivery, LLM call(s) excluded. Typing and its delay "
        "come after `ready`, so they are excluded by construction."
    )
    add("")
    add("| ms | n | p50 | p95 | p99 | max | |")
    add("|---|---|---|---|---|---|---|")
    verdict = (
        "**meets** the ≤ 500 ms target"
        if r.latency_ms.get("p95", 1e9) <= TARGET_P95_MS
        else "**misses** the ≤ 500 ms target"
    )
    add(_row("**mention → reply ready, excl. LLM**", r.latency_ms, f"p95 {verdict}"))
    add(_row("webhook HTTP response (POST → 200)", r.webhook_ms, "includes storing the message and creating the turn"))
    add(_row("  POST start → turn created", r.to_created_ms, "inside the webhook request"))
    add(_row("  turn created → generating", r.queue_wait_ms, "`high` queue wait of `generate_priority`"))
    add(_row("  generating → ready, excl. LLM", r.generate_ms, "context, prompt, checks, DB"))
    add(_row("  LLM (excluded above)", r.llm_ms, "fake Groq, sum over the turn's calls"))
    add("")
    add(
        f"Mentions sent {r.sent}, answered 200 {r.http_ok}; got a priority turn {r.with_turn}; reached `ready` "
        f"{r.ready}. Turn statuses at the end: {', '.join(f'{k} {v}' for k, v in sorted(r.statuses.items())) or '–'}. "
        f"LLM calls per ready turn: {', '.join(f'{k} → {v}' for k, v in sorted(r.llm_calls.items())) or '–'}. "
        f"Webhook outcomes: {', '.join(f'{k} {v}' for k, v in sorted(r.outcomes.items()))}."
    )
    add("")
    add(
        f"Background load over the same window: {fmt(r.background_sent_per_chat_min)} sent proactive turns/chat/min, "
        f"send lateness p95 {fmt(r.background_lateness_p95_s)} s; max `high` queue length {r.max_queued_high}; "
        f"machine {r.machine_busy * 100:.0f} % busy."
    )
    add("")
    q, w, g = r.queue_wait_ms, r.webhook_ms, r.generate_ms
    add(
        "What the time is spent on (the indented rows are the stages of the latency; their percentiles do not add up): "
        f"(1) the webhook request itself (p95 {fmt(w['p95'], 0)} ms): ingestion's queries — chat, sender, "
        "`get_or_create` of the message, the chat's bots, settings, the turn insert — and the enqueue after commit, "
        "in a gunicorn worker competing for the CPUs with the rqworkers and PostgreSQL; "
        f"(2) the `high` queue wait (p95 {fmt(q['p95'], 0)} ms): `high` is shared with the proactive load's tick, "
        "typing and send jobs and no worker is reserved for it, so when every SimpleWorker is inside a proactive "
        "generate (each holds its worker for the 500 ms LLM call) a priority job waits for the next free one; "
        f"(3) generation's own work excluding the LLM (p95 {fmt(g['p95'], 0)} ms: context, prompt, local checks, "
        "DB), mostly CPU contention on this machine. Batching (`generate_priority_batch`, up to `batch_size` "
        "concurrently) only matters when several priority turns are pending at once; at this rate most jobs "
        "find their turn alone, and a turn picked up by another mention's batch is ready when its own thread "
        "finishes. Latency grows with the background load (CPU) and with bursts of mentions larger than the "
        "free workers."
    )
    add("")
    return "\n".join(lines)


def write_section(out: Path, section: str, *, title: str = SECTION_TITLE) -> None:
    """Append the section, or replace only an earlier copy of it (the rest of the file is left as it is)."""
    text = out.read_text() if out.exists() else ""
    start = text.find(title)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(title))
        text = text[:start] + section + ("\n" + text[following + 1 :] if following >= 0 else "")
    out.write_text(text.rstrip("\n") + "\n")
    print(f"bench: wrote {out}")


def render_from_log(log: Path, *, output: str, llm_latency: float) -> int:
    """Rebuild the section from the `bench: ...` lines of an earlier run (no processes are started)."""
    import ast

    facts: dict[str, str] = {}
    command, data = "", None
    for line in log.read_text().splitlines():
        if line.startswith("bench: command "):
            command = line.removeprefix("bench: command ").strip()
        elif line.startswith("bench: {'"):
            facts = ast.literal_eval(line.removeprefix("bench: "))
        elif line.startswith('bench: {"'):
            data = json.loads(line.removeprefix("bench: "))
    if data is None:
        raise SystemExit(f"no result line in {log}")
    report = render(
        command=command, facts=facts, r=MembersResult(**data), llm_latency=llm_latency, quick=data["chats"] < 100
    )
    print(report)
    if output != "-":
        write_section(Path(output), report)
    return 0


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Piyasa members benchmark: mention → reply ready (bench/README.md)")
    parser.add_argument("--chats", type=int, default=300, help="background load: telegram chats at 3 msgs/min")
    parser.add_argument("--minutes", type=float, default=4.0, help="how long mentions are sent (after the warm-up)")
    parser.add_argument("--mentions-per-s", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of background load before mentions")
    parser.add_argument(
        "--workers", default="auto", help="rqworker processes; auto = the capacity bench's + the mentions' share"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--llm-latency", type=float, default=0.5)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="'-' to write no file")
    parser.add_argument("--quick", action="store_true", help="a smoke run in under a minute (writes no file)")
    parser.add_argument("--from-log", default="", help="re-render the section from a run's printed output")
    args = parser.parse_args(argv)
    if args.from_log:
        return render_from_log(Path(args.from_log), output=args.output, llm_latency=args.llm_latency)
    if args.quick:
        args.chats, args.minutes, args.warmup = 20, 0.4, 8.0
        if args.workers == "auto":
            args.workers = "4"
        if args.output == str(ROOT / "docs" / "benchmarks.md"):
            args.output = "-"
    workers = 0 if args.workers == "auto" else int(args.workers)  # auto: worked out once Django is set up
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.members " + " ".join(argv if argv is not None else sys.argv[1:])

    signal.signal(signal.SIGTERM, _interrupt)
    created_db = False
    try:
        database_url = create_database()
        created_db = True
        _fakes, info = start_fakes(
            bots=args.chats * BOTS_PER_CHAT, latency=args.llm_latency, log=logs / "members-fakes.log"
        )
        env = engine_env(info, database_url)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        workers = workers or auto_workers(args.chats) + math.ceil(args.mentions_per_s * LLM_HOLD_S * 2)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        facts = machine_facts()
        print(f"bench: {facts}", flush=True)
        print(f"bench: command {command}", flush=True)
        print(
            f"bench: members {args.chats} chats, {workers} workers, {args.mentions_per_s:g} mentions/s "
            f"for {args.minutes:g} min …",
            flush=True,
        )
        result = run_members(
            chats=args.chats,
            workers=workers,
            web_workers=args.web_workers,
            rate=args.mentions_per_s,
            minutes=args.minutes,
            warmup_s=args.warmup,
            env=env,
            logs=logs,
        )
        print(f"bench: {json.dumps(result.__dict__, default=str)}", flush=True)
        report = render(command=command, facts=facts, r=result, llm_latency=args.llm_latency, quick=args.quick)
        print("\n" + report)
        if args.output != "-":
            write_section(Path(args.output), report)
        return 0
    finally:
        teardown(created_db=created_db)


if __name__ == "__main__":
    sys.exit(main())

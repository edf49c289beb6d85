"""A simulated run: the demo crowd on a fresh database, in simulated time, seeded, one job at a time.

The cron's tick every 2 s, the recovery sweep every 30 s, the members' posts and every job the engine enqueues run
in the order of their simulated times (engine/replay/scheduler.py); nothing waits for the wall clock. With the same
scenario and the same LLM answers, the transcript is the same, byte for byte.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bots.schemas import format_errors
from engine import clock, jobs, seeding
from engine.clients.llm.recording import recorder
from engine.replay.scheduler import Scheduler
from engine.services import dispatch

HEADER, TRANSCRIPT = "run", "transcript"  # a recording's first and last lines' `kind`
VERSION = 1
TICK_S = 2.0  # the cron's intervals (config/cron.py)
RECOVER_S = 30.0
FINISH_S = 300.0  # simulated seconds the engine gets after the run to finish the turns it started
ZONE = "Europe/Istanbul"
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # a Monday, 10:00 in Istanbul: the demo crowd is awake
MEMBERS = ("Üye Ali", "Üye Ayşe", "Üye Can")
QUESTIONS = (
    "THYAO bu hafta nereye?",
    "BTCUSDT 100 binin üstünde kalır mı?",
    "XAUUSD için ne düşünüyorsun?",
    "ASELS alınır mı sence?",
    "USDTRY yıl sonunda kaç olur?",
)


@dataclass(frozen=True)
class Post:
    """A member's message: when (seconds after the start), who, what."""

    at_s: float
    sender: str
    text: str


@dataclass(frozen=True)
class Scenario:
    """Everything a simulated run is made of besides the LLM's answers; stored at the head of a recording."""

    seed: int
    minutes: float = 10.0
    scale: float = 10.0
    start: str = START.isoformat()
    posts: tuple[Post, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        """The scenario as a recording's header stores it."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        """A scenario from a recording's header."""
        return cls(**(data | {"posts": tuple(Post(**post) for post in data["posts"])}))


class PostItem(BaseModel):
    """A member's post as a posts file gives it (`simulate_run --posts`)."""

    model_config = ConfigDict(extra="forbid")
    at_s: float = Field(ge=0)
    sender: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4096)


def posts_parse(data: object, *, minutes: float) -> tuple[Post, ...]:
    """The members' posts of a posts file, in time order; ValueError naming the item and field that is wrong."""
    try:
        items = TypeAdapter(list[PostItem]).validate_python(data)
    except ValidationError as error:
        raise ValueError("; ".join(format_errors("posts", error))) from None
    late = next((n for n, item in enumerate(items) if item.at_s > minutes * 60), None)
    if late is not None:
        raise ValueError(f"posts.{late}.at_s: after the run's end ({minutes:g} minutes)")
    return tuple(sorted((Post(item.at_s, item.sender, item.text) for item in items), key=lambda post: post.at_s))


def scenario_default(
    *, seed: int, minutes: float, scale: float, questions: int, posts: tuple[Post, ...] | None = None
) -> Scenario:
    """The members' `posts`, or members asking the demo bots in turn about a symbol, spread over the run."""
    from bots.demo import DEMO_BOTS

    if posts is not None:
        return Scenario(seed=seed, minutes=minutes, scale=scale, posts=posts)

    usernames = sorted(spec.username for spec in DEMO_BOTS)
    span = minutes * 60
    posts = tuple(
        Post(
            at_s=round(span * (0.1 + 0.75 * i / max(1, questions - 1)), 1),
            sender=MEMBERS[i % len(MEMBERS)],
            text=f"@{usernames[i % len(usernames)]} {QUESTIONS[i % len(QUESTIONS)]}",
        )
        for i in range(questions)
    )
    return Scenario(seed=seed, minutes=minutes, scale=scale, posts=posts)


def run(scenario: Scenario, *, settings: dict[str, Any] | None = None, record: Path | None = None) -> str:
    """Run the scenario on this (fresh) database; the chat's transcript (Markdown) afterwards.

    `settings`: the runtime settings to run with (a recording's); `record`: the recording to write the run's
    header and transcript to (its LLM exchanges are appended by the client, engine/clients/llm/recording.py).
    """
    seeding.use(scenario.seed)
    with clock.simulated(datetime.fromisoformat(scenario.start)) as sim:
        scheduler = Scheduler(sim.time)
        dispatch.queues_simulate(scheduler.queue)
        try:
            chat = _crowd(scenario, settings or {})
            if record is not None:
                recorder(record).append(_header(scenario))
            _drive(scenario, scheduler, sim, chat)
        finally:
            dispatch.queues_simulate(None)
            seeding.use(None)
    transcript = _transcript(chat.pk)
    if record is not None:
        recorder(record).append({"kind": TRANSCRIPT, "text": transcript})
    return transcript


def _crowd(scenario: Scenario, settings: dict[str, Any]) -> Any:
    from bots.demo import demo_crowd_create
    from chats.models import Chat
    from engine.services import settings_update

    chat = demo_crowd_create().chat
    Chat.objects.filter(pk=chat.pk).update(timezone=ZONE)
    own = {"simulation_active": True, "scale_factor": scenario.scale, "news_trigger_enabled": False}
    settings_update(values=settings | own)
    return Chat.objects.get(pk=chat.pk)


def _header(scenario: Scenario) -> dict[str, Any]:
    """A recording's first line: the scenario, the runtime settings and the LLM it was run with."""
    from django.conf import settings

    from engine.providers import provider_spec
    from engine.selectors import settings_all

    spec = provider_spec(settings.LLM_PROVIDER)
    model = getattr(settings, spec.model_setting) if spec.model_setting else ""
    return {
        "kind": HEADER,
        "version": VERSION,
        "scenario": scenario.as_json(),
        "settings": settings_all().values(),
        "provider": spec.name,
        "model": model,
    }


def _drive(scenario: Scenario, scheduler: Scheduler, sim: clock.SimulatedClock, chat: Any) -> None:
    """Every event in simulated-time order: the members' posts, ticks and sweeps until the end, jobs until done."""
    from engine.services import settings_update
    from engine.services.ingestion import sandbox_member_post

    begin = sim.time()
    end = begin + scenario.minutes * 60
    # (time, rank, n, action): at one moment a post comes first, then a sweep, a tick, the end; then the jobs.
    events: list[tuple[float, int, int, Callable[[], Any]]] = []
    for n, post in enumerate(scenario.posts):
        events.append((begin + post.at_s, 0, n, _poster(sandbox_member_post, chat, post)))
    events += [
        (begin + k * RECOVER_S, 1, k, jobs.recover_turns) for k in range(1, int(scenario.minutes * 60 / RECOVER_S))
    ]
    events += [(begin + k * TICK_S, 2, k, jobs.tick) for k in range(int(scenario.minutes * 60 / TICK_S))]
    events.append((end, 3, 0, lambda: settings_update(values={"simulation_active": False})))
    heapq.heapify(events)
    while events or scheduler.next_at() is not None:
        job_at = scheduler.next_at()
        if events and (job_at is None or events[0][0] <= job_at):
            at, _, _, action = heapq.heappop(events)
            sim.advance_to(at)
            action()
            continue
        assert job_at is not None
        if job_at > end + FINISH_S:
            break  # the engine's own later work (a retry far ahead) is not the run's
        sim.advance_to(job_at)
        scheduler.run_next()


def _poster(post_one: Callable[..., Any], chat: Any, post: Post) -> Callable[[], Any]:
    return lambda: post_one(chat=chat, sender_name=post.sender, text=post.text)


def _transcript(chat_id: int) -> str:
    from chats.models import Chat
    from chats.transcripts import transcript_render

    return "".join(transcript_render(chat=Chat.objects.get(pk=chat_id), fmt="md"))

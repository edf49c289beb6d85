"""A seeded, simulated run of the demo crowd on a throwaway database: its transcript, and a recording if asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.replay.fresh import IN_FRESH_STACK, in_fresh_stack, migrate_fresh
from engine.replay.run import Post, posts_parse, run, scenario_default


class Command(BaseCommand):
    help = (
        "Run the demo crowd for simulated minutes on a throwaway database, members asking the bots, with the"
        " configured LLM and a seed: the same seed and LLM answers give the same transcript, byte for byte."
        " --record keeps every LLM exchange for `manage.py replay`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="Seeds every choice of the engine (default 1).")
        parser.add_argument("--minutes", type=float, default=10.0, help="Simulated minutes (default 10).")
        parser.add_argument("--scale", type=float, default=10.0, help="The scale_factor setting (default 10).")
        parser.add_argument("--questions", type=int, default=3, help="Member questions over the run (default 3).")
        parser.add_argument(
            "--posts", type=Path, help='The members\' posts instead: JSON [{"at_s": 30, "sender": "Ali", "text": "…"}].'
        )
        parser.add_argument("--record", type=Path, help="Write the recording (JSON lines) to this file.")
        parser.add_argument("--transcript", type=Path, help="Write the transcript here instead of printing it.")
        parser.add_argument(IN_FRESH_STACK, action="store_true", help="(internal) this is the throwaway process")

    def handle(self, *args: Any, **options: Any) -> None:
        """Start the throwaway process, or (in it) run the scenario and write what it said."""
        if not 0 < options["scale"] <= 50 or options["minutes"] <= 0 or options["questions"] < 0:
            raise CommandError("--minutes must be positive, --scale in (0, 50], --questions not negative")
        posts = read_posts(options["posts"], minutes=options["minutes"]) if options["posts"] else None
        if not options["in_fresh_stack"]:
            self._spawn(options)
            return
        migrate_fresh()
        scenario = scenario_default(
            seed=options["seed"],
            minutes=options["minutes"],
            scale=options["scale"],
            questions=options["questions"],
            posts=posts,
        )
        write(run(scenario, record=options["record"]), options["transcript"], self.stdout.write)

    def _spawn(self, options: dict[str, Any]) -> None:
        env, argv = {}, [f"--{name}={options[name]}" for name in ("seed", "minutes", "scale", "questions")]
        if options["record"] is not None:
            record = options["record"].resolve()
            record.write_text("", encoding="utf-8")  # a recording is one run's, never appended to an old one
            env["LLM_RECORD_PATH"], argv = str(record), [*argv, f"--record={record}"]
        if options["posts"] is not None:
            argv.append(f"--posts={options['posts'].resolve()}")
        if options["transcript"] is not None:
            argv.append(f"--transcript={options['transcript'].resolve()}")
        if in_fresh_stack("simulate_run", argv, env):
            raise CommandError("the simulated run failed (its error is above)")


def read_posts(path: Path, *, minutes: float) -> tuple[Post, ...]:
    """A posts file's posts (CommandError naming the item and field that is wrong)."""
    try:
        return posts_parse(json.loads(path.read_text(encoding="utf-8")), minutes=minutes)
    except (OSError, ValueError) as error:
        raise CommandError(f"{path}: {error}") from None


def write(transcript: str, path: Path | None, out: Any) -> None:
    """The transcript to `path`, or to the command's output."""
    if path is None:
        out(transcript, ending="")
    else:
        path.write_text(transcript, encoding="utf-8")

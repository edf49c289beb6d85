"""Replay a recorded simulated run on a throwaway database, without the network, and compare the transcripts."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.clients.llm.recording import ReplayMismatch, recording_lines
from engine.providers import provider_spec
from engine.replay.fresh import IN_FRESH_STACK, in_fresh_stack, migrate_fresh
from engine.replay.run import HEADER, TRANSCRIPT, VERSION, Scenario, run


class Command(BaseCommand):
    help = (
        "Replay RECORDING (from `simulate_run --record`): the same scenario, seed and settings on a throwaway"
        " database, every LLM request answered from the recording. Fails when a request is not in it or when the"
        " transcript differs from the recorded one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("recording", type=Path)
        parser.add_argument("--transcript", type=Path, help="Also write the replay's transcript to this file.")
        parser.add_argument(IN_FRESH_STACK, action="store_true", help="(internal) this is the throwaway process")

    def handle(self, *args: Any, **options: Any) -> None:
        """Start the throwaway process, or (in it) replay and compare."""
        path: Path = options["recording"].resolve()
        header, recorded = recording_parts(path)
        if not options["in_fresh_stack"]:
            self._spawn(path, header, options["transcript"])
            return
        migrate_fresh()
        try:
            replayed = run(Scenario.from_json(header["scenario"]), settings=header["settings"])
        except ReplayMismatch as error:
            raise CommandError(str(error)) from None
        if options["transcript"] is not None:
            options["transcript"].write_text(replayed, encoding="utf-8")
        if replayed != recorded:
            diff = difflib.unified_diff(
                recorded.splitlines(), replayed.splitlines(), "recorded", "replayed", lineterm=""
            )
            raise CommandError("the replay's transcript differs from the recording's:\n" + "\n".join(diff))
        self.stdout.write(f"Replayed {path.name}: the transcript matches the recording ({len(replayed)} characters).")

    def _spawn(self, path: Path, header: dict[str, Any], transcript: Path | None) -> None:
        spec = provider_spec(header["provider"])
        # The recorded provider's settings, so the client, budget and breaker are as they were; no key is used.
        env = {"LLM_PROVIDER": spec.name, "LLM_REPLAY_PATH": str(path)}
        env |= dict.fromkeys(spec.required_settings, "replay")
        if spec.model_setting:
            env[spec.model_setting] = header["model"]
        argv = [str(path), *([f"--transcript={transcript.resolve()}"] if transcript is not None else [])]
        if in_fresh_stack("replay", argv, env):
            raise CommandError("the replay failed (its error is above)")


def recording_parts(path: Path) -> tuple[dict[str, Any], str]:
    """A recording's header and recorded transcript (CommandError when it is not a whole simulated run's)."""
    if not path.is_file():
        raise CommandError(f"no recording at {path}")
    lines = recording_lines(path)
    if not lines or lines[0].get("kind") != HEADER:
        raise CommandError(f"{path} is not a recording of `simulate_run --record` (no header line)")
    if lines[0].get("version") != VERSION:
        raise CommandError(f"{path} is a version {lines[0].get('version')} recording; this replays version {VERSION}")
    if lines[-1].get("kind") != TRANSCRIPT:
        raise CommandError(f"{path} has no transcript: the recorded run did not finish")
    return lines[0], lines[-1]["text"]

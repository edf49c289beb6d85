"""Run one turn for a chat now: plan, generate and (by default) send it synchronously, then print it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.kinds import KINDS, Target
from engine.services.single_turn import SingleTurnError, SingleTurnResult, turn_run_once

# The kinds the planner chooses (a turn that answers a member is made by that member's message).
PLANNED_KINDS = [kind for kind, spec in KINDS.items() if spec.target is not Target.ADDRESSED]


class Command(BaseCommand):
    help = (
        "Plan exactly one turn for a chat (ignoring due-ness and caps; the speaker is chosen as the tick does unless"
        " --bot), generate it with the configured LLM and send it at once (no typing delay; Telegram's pacing limits"
        " still apply). --no-send keeps the text and closes the turn as skipped. Exits non-zero if the turn fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("chat_id", type=int, help="Chat id (the database id, as in the admin).")
        parser.add_argument("--bot", type=int, dest="bot_id", help="Bot id to speak (must be an enabled member).")
        parser.add_argument("--kind", choices=PLANNED_KINDS, help="Default: chosen as the tick does.")
        parser.add_argument("--send", action="store_true", default=True, help="Deliver the turn (default).")
        parser.add_argument("--no-send", action="store_false", dest="send", help="Generate only; do not deliver.")
        parser.add_argument("--max-wait", type=float, default=30.0, help="Seconds to wait out rate limits.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the turn, print what happened and fail unless it was generated (and sent)."""
        try:
            result = turn_run_once(
                chat_id=options["chat_id"],
                bot_id=options["bot_id"],
                kind=options["kind"],
                send=options["send"],
                max_wait_s=options["max_wait"],
            )
        except SingleTurnError as error:
            raise CommandError(str(error)) from None
        for label, value in describe(result):
            self.stdout.write(f"{label:<10} {value}")
        if not result.ok:
            raise CommandError(f"turn {result.turn.pk} {result.turn.status}: {result.turn.error or result.generation}")


def describe(result: SingleTurnResult) -> list[tuple[str, str]]:
    """The turn as label/value rows."""
    turn = result.turn
    latency = f"{turn.llm_latency_ms} ms" if turn.llm_latency_ms is not None else "-"
    message = f"{turn.message_id} (telegram id {turn.message.telegram_message_id})" if turn.message else "-"
    return [
        ("turn", f"{turn.pk} ({turn.kind})"),
        ("status", f"{turn.status} (generation: {result.generation}, delivery: {result.delivery or '-'})"),
        ("bot", f"{turn.bot.name} (id {turn.bot_id})"),
        ("chat", f"{turn.chat.title} (id {turn.chat_id})"),
        ("text", turn.text or "-"),
        ("tokens", f"{turn.tokens_in} in, {turn.tokens_out} out ({turn.llm_calls} call(s), {turn.llm_model or '-'})"),
        ("latency", latency),
        ("message", message),
        ("error", turn.error or "-"),
    ]

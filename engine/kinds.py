"""Turn kinds and what differs between them: one table that planning, context, generation and delivery read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import models

from engine.queues import QueueName


class TurnKind(models.TextChoices):
    """What a turn is (`Turn.kind`)."""

    PROACTIVE = "proactive"
    REPLY = "reply"
    REACTION = "reaction"
    PRIORITY_REPLY = "priority_reply"


class Target(StrEnum):
    """Which message a turn answers."""

    NONE = "none"  # a new message to the group
    SCORED = "scored"  # the best of the recent messages, chosen when its context is built
    PLANNED = "planned"  # the latest message of someone else, chosen when it is planned
    ADDRESSED = "addressed"  # the member message that mentioned or answered the bot


@dataclass(frozen=True)
class KindSpec:
    """How one kind of turn is planned, written and delivered."""

    kind: TurnKind
    target: Target
    writes_text: bool  # an LLM call writes it (a reaction is an emoji chosen from the bot's stance)
    shows_typing: bool  # "typing…" for as long as the bot needs to type it
    reads_first: bool  # waits the bot's reading delay before typing (a new message only its minimum delay)
    full_persona: bool  # always prompted with the full persona (members always get it)
    bot_api_method: str  # how delivery sends it: "sendMessage" or "setMessageReaction"
    queue: QueueName  # where its generation runs
    flags: tuple[str, ...] = ()  # stored in its message's metadata


KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            TurnKind.PROACTIVE,
            Target.NONE,
            writes_text=True,
            shows_typing=True,
            reads_first=False,
            full_persona=False,
            bot_api_method="sendMessage",
            queue=QueueName.DEFAULT,
        ),
        KindSpec(
            TurnKind.REPLY,
            Target.SCORED,
            writes_text=True,
            shows_typing=True,
            reads_first=True,
            full_persona=False,
            bot_api_method="sendMessage",
            queue=QueueName.DEFAULT,
        ),
        KindSpec(
            TurnKind.REACTION,
            Target.PLANNED,
            writes_text=False,
            shows_typing=False,
            reads_first=True,
            full_persona=False,
            bot_api_method="setMessageReaction",
            queue=QueueName.DEFAULT,
        ),
        KindSpec(
            TurnKind.PRIORITY_REPLY,
            Target.ADDRESSED,
            writes_text=True,
            shows_typing=True,
            reads_first=True,
            full_persona=True,
            bot_api_method="sendMessage",
            queue=QueueName.HIGH,
            flags=("priority_reply",),
        ),
    )
}


def kind_spec(kind: str) -> KindSpec:
    """The spec of a turn kind (every `TurnKind` has one)."""
    return KINDS[kind]

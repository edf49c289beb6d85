"""Which emoji a bot reacts with: one of its stance's, within the reactions the group allows (getChat)."""

from __future__ import annotations

from telegram.constants import ReactionEmoji

REACTIONS = {
    "bullish": [ReactionEmoji.FIRE, ReactionEmoji.THUMBS_UP, ReactionEmoji.HUNDRED_POINTS_SYMBOL],
    "bearish": [ReactionEmoji.THUMBS_DOWN, ReactionEmoji.THINKING_FACE, ReactionEmoji.FACE_SCREAMING_IN_FEAR],
    "neutral": [ReactionEmoji.THINKING_FACE, ReactionEmoji.EYES, ReactionEmoji.THUMBS_UP],
}
BOT_REACTIONS = frozenset(str(emoji) for emoji in ReactionEmoji)  # what a bot may set (no custom emoji)


def reaction_choices(polarity: str, available: list[str] | None) -> list[str]:
    """The stance's emoji the group allows, else any emoji it allows; [] where reactions are off (None: all
    emoji allowed)."""
    own = [str(emoji) for emoji in REACTIONS[polarity]]
    if available is None:
        return own
    return [emoji for emoji in own if emoji in available] or [e for e in available if e in BOT_REACTIONS]


def reactions_possible(available: list[str] | None) -> bool:
    """Whether a bot can react at all in a group that allows these reactions."""
    return available is None or any(emoji in BOT_REACTIONS for emoji in available)

"""The stance drift rule: how one push (an argument or an event) moves one stance. Pure: no database, no clock.

Confidence is the bot's conviction in the stance's polarity. A push toward that polarity raises it, one against it
(or any push on a neutral stance) lowers it. Every move is bounded three ways:

- one push moves confidence at most its risk profile's `step` (times the push's strength, 0..1);
- the moves of one stance in a day add up (as |Δ|) to at most the profile's `daily_cap`;
- confidence stays within the profile's band [floor, ceiling]: a cautious (low risk) persona is never very sure.

A push that would take confidence below the floor flips the stance to the push's direction, at `FLIP_CONFIDENCE`
above the floor, if its `cooldown_until` has passed, and starts a new cooldown; before that it stays at the floor.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

POLAR = ("bullish", "bearish")
FLIP_COOLDOWN = timedelta(hours=12)
FLIP_CONFIDENCE = 0.1  # above the floor: a freshly turned view is held, but loosely
MEMBER_CONFIDENCE = 0.5  # how sure a member is taken to be: members never argue with a bot's full weight
MEMBER_MAX_STRENGTH = 0.5  # untrusted text moves a stance at most half a step per message
MIN_MOVE = 0.001  # below this a push changes nothing worth recording
SURE = re.compile(r"kesin|mutlaka|garanti|şüphesiz|emin(?:im)?\b|definitely|certainly|surely|no doubt|for sure", re.I)
HEDGED = re.compile(r"belki|sanırım|galiba|olabilir|bilmiyorum|maybe|perhaps|might|not sure|i guess", re.I)


@dataclass(frozen=True)
class RiskBand:
    """What a risk profile allows a stance: its confidence band, one push's largest move, a day's total move."""

    floor: float
    ceiling: float
    step: float
    daily_cap: float


RISK_BANDS = {
    "low": RiskBand(floor=0.35, ceiling=0.75, step=0.04, daily_cap=0.15),
    "medium": RiskBand(floor=0.25, ceiling=0.85, step=0.06, daily_cap=0.25),
    "high": RiskBand(floor=0.15, ceiling=0.95, step=0.09, daily_cap=0.35),
}


@dataclass(frozen=True)
class StanceState:
    """A stance as the rule sees it, with how far it has moved today already."""

    polarity: str
    confidence: float
    cooldown_until: datetime | None = None
    moved_today: float = 0.0


@dataclass(frozen=True)
class Push:
    """An argument or event: a direction (bullish or bearish) and a strength in 0..1."""

    direction: str
    strength: float


@dataclass(frozen=True)
class Drift:
    """What a push did: the stance's new polarity, confidence and cooldown, and the |Δ| counted for the day."""

    polarity: str
    confidence: float
    cooldown_until: datetime | None
    moved: float

    @property
    def as_state(self) -> StanceState:
        return StanceState(self.polarity, self.confidence, self.cooldown_until)


def risk_band(risk_profile: str) -> RiskBand:
    """The band of a persona's risk profile (an unknown one gets the medium band)."""
    return RISK_BANDS.get(risk_profile, RISK_BANDS["medium"])


def drift(state: StanceState, push: Push, band: RiskBand, *, now: datetime) -> Drift | None:
    """The stance after one push, or None when the push changes nothing (neutral, capped, at a bound)."""
    size = min(max(push.strength, 0.0), 1.0) * band.step
    size = min(size, band.daily_cap - state.moved_today)
    if push.direction not in POLAR or size < MIN_MOVE:
        return None
    if push.direction == state.polarity:
        # Toward the view: up to the ceiling, never down (an operator's value above it is left as set).
        target = max(state.confidence, min(state.confidence + size, band.ceiling))
        return _moved(state, target, state.cooldown_until)
    target = state.confidence - size
    if target >= band.floor:
        return _moved(state, target, state.cooldown_until)
    if state.cooldown_until is None or state.cooldown_until <= now:
        return Drift(push.direction, min(band.floor + FLIP_CONFIDENCE, band.ceiling), now + FLIP_COOLDOWN, size)
    return _moved(state, min(state.confidence, band.floor), state.cooldown_until)


def _moved(state: StanceState, target: float, cooldown: datetime | None) -> Drift | None:
    moved = abs(target - state.confidence)
    if moved < MIN_MOVE:
        return None
    return Drift(state.polarity, round(target, 4), cooldown, moved)


def certainty(text: str) -> float:
    """How sure a message sounds: 1.0 with certainty words, 0.4 hedged, 0.7 otherwise."""
    if HEDGED.search(text):
        return 0.4
    return 1.0 if SURE.search(text) else 0.7


def argument_strength(*, text: str, speaker_confidence: float | None, member: bool, seed: str) -> float:
    """How persuasive a message is to one listener: the speaker's conviction (a member's: capped) times how sure
    it sounds, times the listener's receptiveness (0.5..1, drawn from the seed: the same inputs, the same pull)."""
    conviction = MEMBER_CONFIDENCE if member or speaker_confidence is None else speaker_confidence
    receptive = random.Random(seed).uniform(0.5, 1.0)
    strength = conviction * certainty(text) * receptive
    return min(strength, MEMBER_MAX_STRENGTH) if member else strength

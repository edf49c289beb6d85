"""The figures as a table: what each means, how it is computed, and its green/amber/red band."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.quality import members, talk
from engine.quality.talk import Measure
from engine.quality.transcript import Transcript


class Band(StrEnum):
    """How a figure compares with its target."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"  # nothing to measure in the window, or a count without a target


@dataclass(frozen=True)
class Bands:
    """Thresholds: green up to `green`, amber up to `amber`, red beyond (for `higher_is_better` the other way)."""

    green: float
    amber: float
    higher_is_better: bool = False

    def of(self, value: float | None) -> Band:
        if value is None:
            return Band.NONE
        if self.higher_is_better:
            return Band.GREEN if value >= self.green else Band.AMBER if value >= self.amber else Band.RED
        return Band.GREEN if value <= self.green else Band.AMBER if value <= self.amber else Band.RED


@dataclass(frozen=True)
class FigureSpec:
    """One figure: its key (API, gauges, docs), title, definition, unit, bands and how it is computed."""

    key: str
    title: str
    definition: str
    unit: str  # "ratio" (shown as %), "count", "seconds" or "score" (0-1)
    bands: Bands | None
    compute: Callable[[Transcript], Measure]
    headline: bool = False  # exported as a rolling-window gauge


def _spec(key: str, title: str, unit: str, bands: Bands | None, compute: Any, definition: str, **kw: Any) -> FigureSpec:
    return FigureSpec(key, title, definition, unit, bands, compute, **kw)


HIGH = True
FIGURES: tuple[FigureSpec, ...] = (
    _spec("bots_active", "Bots active", "ratio", Bands(0.8, 0.5, HIGH), talk.bots_active,
          "Eligible bots (enabled, within active hours) that sent a message, over eligible bots."),
    _spec("members_active", "Members active", "count", None, talk.members_active,
          "Distinct members who wrote in the window."),
    _spec("speaker_gini", "Speaker Gini", "score", Bands(0.3, 0.4), talk.speaker_gini,
          "Gini coefficient of message counts over eligible bots: 0 all equal, 1 one bot says everything.",
          headline=True),
    _spec("same_speaker_in_a_row", "Same speaker in a row", "ratio", Bands(0.05, 0.10), talk.same_speaker_in_a_row,
          "Bot messages directly after a message of the same bot, over bot messages with a predecessor.",
          headline=True),
    _spec("distinct_1", "Distinct-1", "score", Bands(0.4, 0.3, HIGH), lambda t: talk.distinct(t, 1),
          "Distinct words over all words of the bot messages."),
    _spec("distinct_2", "Distinct-2", "score", Bands(0.7, 0.6, HIGH), lambda t: talk.distinct(t, 2),
          "Distinct word pairs over all word pairs of the bot messages (pairs never span two messages).",
          headline=True),
    _spec("distinct_2_adjusted", "Distinct-2 (per 100 pairs)", "score", Bands(0.7, 0.6, HIGH),
          talk.distinct_2_adjusted, "Mean distinct-2 of consecutive 100-pair segments: comparable across lengths."),
    _spec("top_opener", "Most common opener", "ratio", Bands(0.05, 0.10), talk.top_opener,
          "Bot messages opening with the most common first two words (a leading name counts as <name>).",
          headline=True),
    _spec("name_openers", "Opens with a name", "ratio", Bands(0.10, 0.20), talk.name_openers,
          "Bot messages that open by addressing someone by name."),
    _spec("trigram_reuse", "Most reused 3-gram (worst bot)", "ratio", Bands(0.15, 0.25), talk.trigram_reuse,
          "For each bot with 7+ messages, its messages containing its most frequent 3-gram; the worst bot.",
          headline=True),
    _spec("signature_phrases", "Signature phrases (worst bot)", "ratio", Bands(1 / 7, 0.25),
          talk.signature_phrase_share,
          "For each bot with 7+ messages, its messages containing one of its signature phrases; the worst bot."),
    _spec("duplicates_rejected", "Near-duplicates rejected", "ratio", Bands(0.05, 0.15),
          talk.duplicates_rejected, "Turns skipped as a near-duplicate of a recent message, over turns generated."),
    _spec("duplicates_sent", "Near-duplicates sent", "count", Bands(0, 1), talk.duplicates_sent,
          "Sent bot messages that the engine's dedup test finds near-duplicate of an earlier bot message.",
          headline=True),
    _spec("stance_entropy", "Stance entropy", "score", Bands(0.5, 0.25, HIGH), talk.stance_entropy,
          "Per topic with 2+ bots, the entropy of the bots' views (bullish/bearish/neutral), 0-1; the mean."),
    _spec("convergence", "Convergence", "ratio", Bands(0.7, 0.85), talk.convergence,
          "Over topics with 3+ bots, bots holding their topic's majority view: 1 means the crowd has one view."),
    _spec("stance_contradictions", "Stance contradictions", "ratio", Bands(0, 0.02), talk.stance_contradictions,
          "Sent bot messages the engine's stance check flags against the bot's own stances."),
    _spec("compliance_flags", "Compliance flags", "ratio", Bands(0, 0.01), talk.compliance_flags,
          "Sent bot messages promising a profit or giving a direct buy/sell instruction."),
    _spec("chat_language", "In the chat's language", "ratio", Bands(0.95, 0.85, HIGH), talk.chat_language,
          "Bot messages in the chat's language, over those whose language shows."),
    _spec("members_answered", "Members answered", "ratio", Bands(1.0, 0.9, HIGH), members.answered,
          "Member messages addressed to a bot (mention or reply) with a bot reply; unanswered ones < 2 min old wait.",
          headline=True),
    _spec("answer_latency_p50", "Answer latency p50", "seconds", Bands(30, 90), lambda t: members.latency(t, 50),
          "Median seconds from an addressed member message to its first bot reply."),
    _spec("answer_latency_p95", "Answer latency p95", "seconds", Bands(90, 300), lambda t: members.latency(t, 95),
          "95th percentile of seconds from an addressed member message to its first bot reply."),
    _spec("addressed_first", "Addressed bot first", "ratio", Bands(1.0, 0.95, HIGH), members.addressed_first,
          "Answered addressed member messages whose first reply came from the bot addressed.", headline=True),
    _spec("on_topic", "Answered on topic", "ratio", Bands(0.95, 0.85, HIGH), members.on_topic,
          "Bot replies to a member message naming a symbol or topic that name that symbol or its topic.",
          headline=True),
    _spec("doubled_replies", "Doubled replies", "count", Bands(0, 1), members.doubled_replies,
          "(bot, message) pairs where the bot replied to the same message more than once.", headline=True),
    _spec("ping_pong", "Bot-to-bot ping-pong", "count", Bands(0, 2), members.ping_pong,
          "Chains of 4+ bot messages where two bots each reply to the other's last message."),
)  # fmt: skip
FIGURES_BY_KEY = {spec.key: spec for spec in FIGURES}
HEADLINE = tuple(spec.key for spec in FIGURES if spec.headline)


@dataclass(frozen=True)
class Figure:
    """One figure measured over a window, with its band."""

    spec: FigureSpec
    value: float | None
    detail: str
    band: Band

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.spec.unit == "ratio":
            return f"{self.value:.0%}" if self.value in (0, 1) else f"{self.value:.1%}"
        if self.spec.unit == "count":
            return f"{self.value:g}"
        if self.spec.unit == "seconds":
            return f"{self.value:.1f} s"
        return f"{self.value:.2f}"

    @property
    def target(self) -> str:
        bands = self.spec.bands
        if bands is None:
            return ""
        sign = "≥" if bands.higher_is_better else "≤"
        if self.spec.unit == "ratio":
            return f"{sign} {bands.green:.0%}" if bands.green * 100 % 1 == 0 else f"{sign} {bands.green:.1%}"
        return f"{sign} {bands.green:g}" + (" s" if self.spec.unit == "seconds" else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.spec.key,
            "title": self.spec.title,
            "value": self.value,
            "display": self.display,
            "unit": self.spec.unit,
            "band": str(self.band),
            "target": self.target,
            "detail": self.detail,
            "definition": self.spec.definition,
        }


def figures(transcript: Transcript) -> list[Figure]:
    """Every figure over the transcript, in the table's order."""
    return [_figure(spec, transcript) for spec in FIGURES]


def _figure(spec: FigureSpec, transcript: Transcript) -> Figure:
    measure = spec.compute(transcript)
    band = spec.bands.of(measure.value) if spec.bands is not None else Band.NONE
    return Figure(spec, measure.value, measure.detail, band)

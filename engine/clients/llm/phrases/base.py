"""Types of the phrase tables."""

from __future__ import annotations

from typing import Literal

Table = dict[str, dict[str, list[str]]]
Side = Literal["bullish", "bearish", "neutral"]

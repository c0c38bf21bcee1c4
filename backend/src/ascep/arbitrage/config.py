"""The detector's live configuration: every option declared once, with its type, bounds and help.

This is the configuration a trader tunes while the service runs (``PUT /config``), as opposed to
the process settings read once from the environment (:mod:`.settings`). Each option is one field
of :class:`DetectorConfig` whose metadata gives its kind and help (:mod:`.options`, the mitmproxy
shape); validation, the defaults, ``GET /config`` and the README table all come from those
fields. A bad update raises :class:`ConfigValidationError` naming the offending field and leaves
the running configuration untouched (updates build a new frozen object; nothing is mutated).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ascep.arbitrage import options
from ascep.arbitrage.options import (
    ConfigValidationError,
    Flag,
    Number,
    NumberMap,
    Subset,
    option,
)

__all__ = [
    "MAX_CYCLE_LENGTH_LIMIT",
    "SEVERITIES",
    "SIGNAL_TYPES",
    "ConfigValidationError",
    "DetectorConfig",
    "apply_update",
    "from_stored",
    "markdown_table",
]

SIGNAL_TYPES: tuple[str, ...] = ("direct", "triangular", "cycle")
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
MAX_CYCLE_LENGTH_LIMIT = 6  # enumeration cost grows as degree**(length-2); 6 is already ~30k paths

_FEE = Number(0.0, 10.0)
_PERCENT = Number(0.0, 100.0)


@dataclass(frozen=True)
class DetectorConfig:
    """Everything that changes what counts as an opportunity. Percentages are in percent."""

    default_fee_percentage: float = field(
        default=0.1,
        metadata=option(_FEE, "Taker fee in % applied to every leg on a source without its own fee."),
    )
    fee_percentage_by_source: Mapping[str, float] = field(
        default_factory=dict,
        metadata=option(
            NumberMap(_FEE, "source"), 'Taker fee in % per source, e.g. `{"binance": 0.1, "forex": 0.002}`.'
        ),
    )
    min_profit_percentage: Mapping[str, float] = field(
        default_factory=lambda: {"direct": 0.01, "triangular": 0.01, "cycle": 0.02},
        metadata=option(
            NumberMap(_PERCENT, "type", SIGNAL_TYPES, one_for_all=True),
            "Smallest net % that becomes a signal, per type.",
        ),
    )
    max_cycle_length: int = field(
        default=4,
        metadata=option(
            Number(2, MAX_CYCLE_LENGTH_LIMIT, integer=True),
            "Longest cycle searched, in legs (each extra leg multiplies the cost per tick by the degree).",
        ),
    )
    max_quote_age_ms: int = field(
        default=10_000,
        metadata=option(
            Number(1, 86_400_000, integer=True),
            "Quotes older than this (by `ts`) are ignored; signals using them close.",
        ),
    )
    epsilon: float = field(
        default=1e-9,
        metadata=option(
            Number(0.0, 0.01),
            "Log-space tolerance: a cycle must beat it (float noise on a fair market never counts).",
        ),
    )
    severity_thresholds: Mapping[str, float] = field(
        default_factory=lambda: {"high": 0.5, "medium": 0.1},
        metadata=option(
            NumberMap(_PERCENT, "level", ("high", "medium"), descending=True),
            "Net % from which a signal is `high` / `medium`; below: `low`.",
        ),
    )
    update_threshold_percentage: float = field(
        default=0.02,
        metadata=option(_PERCENT, "Move of the net % (percentage points) that republishes an open signal."),
    )
    close_margin_percentage: float = field(
        default=0.005,
        metadata=option(
            _PERCENT,
            "Hysteresis in percentage points: an open signal stays open until its net profit falls below "
            "`min_profit_percentage` minus this (new signals still need `min_profit_percentage`), so a "
            "spread hovering at the threshold does not open and close over and over.",
        ),
    )
    enabled_types: tuple[str, ...] = field(
        default=SIGNAL_TYPES, metadata=option(Subset(SIGNAL_TYPES, "type"), "Signal types produced.")
    )
    max_new_signals_per_tick: int = field(
        default=20,
        metadata=option(
            Number(1, 10_000, integer=True),
            "Most signals opened by one detection pass (a tick, or the full rescan after a config "
            "change), fewer legs and more profit first; the others open on a later tick of their pairs "
            "(the original `max_signals_per_cycle`). Updates and closes are never held back.",
        ),
    )
    suppress_dominated: bool = field(
        default=True,
        metadata=option(
            Flag(),
            "No signal for a cycle that trades a leg (same direction between the same two currencies) of "
            "an open signal with fewer legs and at least the same net profit: one mispricing gives its "
            "triangle, not also every 4-cycle around it.",
        ),
    )

    def fee_for(self, source: str) -> float:
        """Taker fee of ``source`` as a fraction (0.001 for 0.1 %)."""
        return self.fee_percentage_by_source.get(source, self.default_fee_percentage) / 100.0

    def severity(self, spread_percentage: float) -> str:
        if spread_percentage >= self.severity_thresholds["high"]:
            return "high"
        if spread_percentage >= self.severity_thresholds["medium"]:
            return "medium"
        return "low"

    def as_dict(self) -> dict[str, Any]:
        """Every option, JSON-ready: the answer of ``GET /config`` and what is stored in Redis."""
        return options.as_plain_dict(self)


def apply_update(current: DetectorConfig, update: Any) -> DetectorConfig:
    """A new config: ``current`` with the keys of ``update`` validated and replaced."""
    return options.apply_update(current, update)


def from_stored(stored: Any) -> DetectorConfig:
    """The config persisted in Redis, validated like an update (a bad stored value is refused)."""
    return apply_update(DetectorConfig(), stored)


def markdown_table() -> str:
    """The README's table of live options."""
    return options.markdown_table(DetectorConfig)


if __name__ == "__main__":  # python -m ascep.arbitrage.config: the README table
    sys.stdout.write(markdown_table())

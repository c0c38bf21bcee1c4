"""The detector's live configuration: declared options, validation that names the field, merging.

This is the configuration a trader tunes while the service runs (``PUT /config``), as opposed to
the process settings read once from the environment (:mod:`.settings`). Each option is declared
once with its type, default, range and help — the mitmproxy shape — so validation, the README and
``GET /config`` all come from the same table. A bad update raises :class:`ConfigValidationError`
naming the offending field and leaves the running configuration untouched (updates build a new
frozen object; nothing is mutated).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SIGNAL_TYPES: tuple[str, ...] = ("direct", "triangular", "cycle")
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
MAX_CYCLE_LENGTH_LIMIT = 6  # enumeration cost grows as degree**(length-2); 6 is already ~30k paths


class ConfigValidationError(ValueError):
    """An update is invalid; ``field`` is the dotted name of the offending key.

    ``unknown`` tells a key nobody declared (a typo: 400) from a declared key with a bad value
    (wrong type or out of range: 422)."""

    def __init__(self, field: str, reason: str, *, unknown: bool = False) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.unknown = unknown


@dataclass(frozen=True)
class DetectorConfig:
    """Everything that changes what counts as an opportunity. Percentages are in percent."""

    default_fee_percentage: float = 0.1
    fee_percentage_by_source: Mapping[str, float] = field(default_factory=dict)
    min_profit_percentage: Mapping[str, float] = field(
        default_factory=lambda: {"direct": 0.01, "triangular": 0.01, "cycle": 0.02}
    )
    max_cycle_length: int = 4
    max_quote_age_ms: int = 10_000
    epsilon: float = 1e-9
    severity_thresholds: Mapping[str, float] = field(default_factory=lambda: {"high": 0.5, "medium": 0.1})
    update_threshold_percentage: float = 0.02
    close_margin_percentage: float = 0.005
    enabled_types: tuple[str, ...] = SIGNAL_TYPES
    suppress_dominated: bool = True

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
        return {
            "default_fee_percentage": self.default_fee_percentage,
            "fee_percentage_by_source": dict(self.fee_percentage_by_source),
            "min_profit_percentage": dict(self.min_profit_percentage),
            "max_cycle_length": self.max_cycle_length,
            "max_quote_age_ms": self.max_quote_age_ms,
            "epsilon": self.epsilon,
            "severity_thresholds": dict(self.severity_thresholds),
            "update_threshold_percentage": self.update_threshold_percentage,
            "close_margin_percentage": self.close_margin_percentage,
            "enabled_types": list(self.enabled_types),
            "suppress_dominated": self.suppress_dominated,
        }


#: Option -> help text (README and ``GET /config`` descriptions).
OPTION_HELP: dict[str, str] = {
    "default_fee_percentage": "Taker fee in % applied to every leg on a source without its own fee.",
    "fee_percentage_by_source": 'Taker fee in % per source, e.g. {"binance": 0.1, "forex": 0.002}.',
    "min_profit_percentage": "Smallest net profit in % that becomes a signal, per type "
    "(direct, triangular, cycle); a number sets all three.",
    "max_cycle_length": f"Longest cycle searched, in legs (2..{MAX_CYCLE_LENGTH_LIMIT}).",
    "max_quote_age_ms": "Quotes older than this (by their `ts`) are ignored; signals using them close.",
    "epsilon": "Log-space tolerance against float noise: a cycle must beat it to count.",
    "severity_thresholds": "Net % from which a signal is `high` / `medium` (below: `low`).",
    "update_threshold_percentage": "Change of net % (percentage points) that republishes an open signal.",
    "close_margin_percentage": "Hysteresis in percentage points: an open signal stays open until its net "
    "profit falls below min_profit_percentage minus this, so a spread hovering at the threshold does "
    "not open and close over and over.",
    "enabled_types": "Signal types produced: any of direct, triangular, cycle.",
    "suppress_dominated": "No signal for a cycle that trades a leg of an open, shorter and at least as "
    "profitable signal (the same mispricing, executed worse).",
}


def _number(name: str, value: Any, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigValidationError(name, f"must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigValidationError(name, "must be finite")
    if number < minimum or number > maximum:
        raise ConfigValidationError(name, f"must be between {minimum} and {maximum}, got {value}")
    return number


def _integer(name: str, value: Any, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigValidationError(name, f"must be an integer, got {type(value).__name__}")
    if value < minimum or value > maximum:
        raise ConfigValidationError(name, f"must be between {minimum} and {maximum}, got {value}")
    return value


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigValidationError(name, f"must be an object, got {type(value).__name__}")
    return value


def _fees(value: Any) -> dict[str, float]:
    fees: dict[str, float] = {}
    for source, fee in _mapping("fee_percentage_by_source", value).items():
        if not isinstance(source, str) or not source:
            raise ConfigValidationError("fee_percentage_by_source", "source names must be non-empty strings")
        fees[source] = _number(f"fee_percentage_by_source.{source}", fee, minimum=0.0, maximum=10.0)
    return fees


def _min_profit(value: Any, current: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(value, Mapping):
        single = _number("min_profit_percentage", value, minimum=0.0, maximum=100.0)
        return dict.fromkeys(SIGNAL_TYPES, single)
    merged = dict(current)
    for kind, threshold in value.items():
        if kind not in SIGNAL_TYPES:
            raise ConfigValidationError(
                f"min_profit_percentage.{kind}",
                f"unknown type; expected one of {', '.join(SIGNAL_TYPES)}",
                unknown=True,
            )
        merged[kind] = _number(f"min_profit_percentage.{kind}", threshold, minimum=0.0, maximum=100.0)
    return merged


def _severity(value: Any, current: Mapping[str, float]) -> dict[str, float]:
    merged = dict(current)
    for level, threshold in _mapping("severity_thresholds", value).items():
        if level not in ("high", "medium"):
            raise ConfigValidationError(
                f"severity_thresholds.{level}", "expected high or medium", unknown=True
            )
        merged[level] = _number(f"severity_thresholds.{level}", threshold, minimum=0.0, maximum=100.0)
    if merged["high"] < merged["medium"]:
        raise ConfigValidationError(
            "severity_thresholds.high", "must not be below severity_thresholds.medium"
        )
    return merged


def _types(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigValidationError("enabled_types", "must be a list of type names")
    unknown = sorted(set(value) - set(SIGNAL_TYPES))
    if unknown:
        raise ConfigValidationError(
            "enabled_types", f"unknown {unknown}; expected some of {list(SIGNAL_TYPES)}"
        )
    return tuple(t for t in SIGNAL_TYPES if t in value)


def apply_update(current: DetectorConfig, update: Any) -> DetectorConfig:
    """A new config: ``current`` with the keys of ``update`` validated and replaced."""
    if not isinstance(update, Mapping):
        raise ConfigValidationError("$", "the configuration must be a JSON object")
    unknown = sorted(set(update) - set(OPTION_HELP))
    if unknown:
        raise ConfigValidationError(
            unknown[0], f"unknown option; known: {', '.join(OPTION_HELP)}", unknown=True
        )
    values = current.as_dict()
    for name, value in update.items():
        if name == "default_fee_percentage":
            values[name] = _number(name, value, minimum=0.0, maximum=10.0)
        elif name == "fee_percentage_by_source":
            values[name] = _fees(value)
        elif name == "min_profit_percentage":
            values[name] = _min_profit(value, current.min_profit_percentage)
        elif name == "max_cycle_length":
            values[name] = _integer(name, value, minimum=2, maximum=MAX_CYCLE_LENGTH_LIMIT)
        elif name == "max_quote_age_ms":
            values[name] = _integer(name, value, minimum=1, maximum=86_400_000)
        elif name == "epsilon":
            values[name] = _number(name, value, minimum=0.0, maximum=0.01)
        elif name == "severity_thresholds":
            values[name] = _severity(value, current.severity_thresholds)
        elif name == "update_threshold_percentage" or name == "close_margin_percentage":
            values[name] = _number(name, value, minimum=0.0, maximum=100.0)
        elif name == "enabled_types":
            values[name] = _types(value)
        elif name == "suppress_dominated":
            if not isinstance(value, bool):
                raise ConfigValidationError(name, f"must be true or false, got {type(value).__name__}")
            values[name] = value
    values["enabled_types"] = tuple(values["enabled_types"])
    return DetectorConfig(**values)


def from_stored(stored: Any) -> DetectorConfig:
    """The config persisted in Redis, validated like an update (a bad stored value is refused)."""
    return apply_update(DetectorConfig(), stored)

"""``arbitrage_opportunity``: an arbitrage signal with a spread of at least x %."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option


class ArbitrageOpportunity(FieldPattern):
    name = "arbitrage_opportunity"
    default_field = "spread_percentage"
    help = (
        "An event on the `signals` stream whose `spread_percentage` (or `field`) ≥ "
        "`min_spread_percentage`, optionally only for some signal `types`."
    )
    default_stream = "signals"
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["min_spread_percentage"],
        "properties": {
            "min_spread_percentage": {"type": "number", "minimum": 0},
            "field": field_option(default_field),
            "types": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        },
    }
    example: ClassVar[dict[str, Any]] = {"min_spread_percentage": 0.5, "types": ["triangular"]}
    aliases: ClassVar[dict[str, str]] = {
        "threshold": "min_spread_percentage",
        "min_spread": "min_spread_percentage",
        "spread_threshold": "min_spread_percentage",
    }
    #: Original ASCEP: ``spread_threshold`` defaulted to 0.1 %.
    original_defaults: ClassVar[dict[str, Any]] = {"min_spread_percentage": 0.1}

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.minimum = float(conditions["min_spread_percentage"])
        types = conditions.get("types")
        self.types = frozenset(types) if types else None

    def on_event(self, state: None, event: Mapping[str, Any], ts: int) -> Match | None:
        spread = self.read(event)
        if spread is None or spread < self.minimum:
            return None
        if self.types is not None and event.get("type") not in self.types:
            return None
        return Match(
            [event],
            f"{event.get('type', 'arbitrage')} opportunity: spread {spread:g}% ≥ {self.minimum:g}%",
            {"spread_percentage": spread, "type": event.get("type")},
        )

"""The patterns a rule can use, listed explicitly (like mitmproxy's ``default_addons()``).

To add a pattern: write one module with one :class:`~ascep.cep.patterns.base.Pattern` subclass
(name, help, parameter schema, example, hooks) and add it to :func:`default_patterns`. Any other
name a rule gives is a :class:`~ascep.cep.patterns.custom.Custom` pattern (:func:`pattern_class`),
as in the original ASCEP engine.
"""

from __future__ import annotations

import re

from ascep.cep.patterns.absence import Absence
from ascep.cep.patterns.aggregate import Aggregate
from ascep.cep.patterns.arbitrage_opportunity import ArbitrageOpportunity
from ascep.cep.patterns.base import Match, Pattern
from ascep.cep.patterns.custom import Custom
from ascep.cep.patterns.price_spike import PriceSpike
from ascep.cep.patterns.sequence import Sequence
from ascep.cep.patterns.threshold import Threshold
from ascep.cep.patterns.trend_reversal import TrendReversal
from ascep.cep.patterns.volatility import Volatility
from ascep.cep.patterns.volume_surge import VolumeSurge

__all__ = [
    "CUSTOM_NAME",
    "PATTERNS",
    "Match",
    "Pattern",
    "default_patterns",
    "is_custom_name",
    "pattern_class",
]

#: What a custom pattern name may look like (it is a label: shown in alerts and lists).
CUSTOM_NAME = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
_CUSTOM_NAME = re.compile(CUSTOM_NAME)


def default_patterns() -> list[type[Pattern]]:
    return [
        Threshold,
        PriceSpike,
        Volatility,
        VolumeSurge,
        TrendReversal,
        ArbitrageOpportunity,
        Aggregate,
        Sequence,
        Absence,
        Custom,
    ]


#: Pattern name -> class.
PATTERNS: dict[str, type[Pattern]] = {p.name: p for p in default_patterns()}


def is_custom_name(name: object) -> bool:
    """A name that is not built in but may label a custom pattern."""
    return isinstance(name, str) and name not in PATTERNS and _CUSTOM_NAME.match(name) is not None


def pattern_class(name: object) -> type[Pattern] | None:
    """The class a rule's ``pattern`` name stands for: built in, else custom; ``None`` if neither."""
    if isinstance(name, str) and name in PATTERNS:
        return PATTERNS[name]
    return Custom if is_custom_name(name) else None

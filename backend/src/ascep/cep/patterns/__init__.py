"""The patterns a rule can use, listed explicitly (like mitmproxy's ``default_addons()``).

To add a pattern: write one module with one :class:`~ascep.cep.patterns.base.Pattern` subclass
(name, help, parameter schema, example, hooks) and add it to :func:`default_patterns`.
"""

from __future__ import annotations

from ascep.cep.patterns.absence import Absence
from ascep.cep.patterns.aggregate import Aggregate
from ascep.cep.patterns.arbitrage_opportunity import ArbitrageOpportunity
from ascep.cep.patterns.base import Match, Pattern
from ascep.cep.patterns.price_spike import PriceSpike
from ascep.cep.patterns.sequence import Sequence
from ascep.cep.patterns.threshold import Threshold
from ascep.cep.patterns.trend_reversal import TrendReversal
from ascep.cep.patterns.volatility import Volatility
from ascep.cep.patterns.volume_surge import VolumeSurge

__all__ = ["PATTERNS", "Match", "Pattern", "default_patterns"]


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
    ]


#: Pattern name -> class.
PATTERNS: dict[str, type[Pattern]] = {p.name: p for p in default_patterns()}

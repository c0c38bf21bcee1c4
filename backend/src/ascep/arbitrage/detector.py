"""Detection: quotes in, priced opportunities out. Pure Python — no Flask, no Redis, no clock.

The caller passes ``now`` (epoch ms) so freshness is decided by the quotes' own ``ts`` and tests
can replay any moment. An :class:`Opportunity` is one profitable cycle with everything a trader
needs to judge it: its legs (symbol, side, price, venue), net profit after fees, the gross profit
and what the fees cost, and — when the venues told us their top-of-book sizes — how much of the
start currency the weakest leg lets through.
"""

from __future__ import annotations

import math
from collections.abc import Container
from dataclasses import dataclass

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.graph import Edge, QuoteGraph
from ascep.arbitrage.quotes import Quote

PairKey = frozenset[str]


def cycle_type(legs: int) -> str:
    """2 legs: direct (two venues, or A/B vs B/A); 3: triangular; more: cycle."""
    if legs == 2:
        return "direct"
    return "triangular" if legs == 3 else "cycle"


def canonical_nodes(nodes: tuple[str, ...]) -> tuple[str, ...]:
    """Rotate so the smallest currency comes first: one key per cycle whatever leg it was found
    from. Direction is kept — A->B->C->A and A->C->B->A are different trades."""
    start = nodes.index(min(nodes))
    return nodes[start:] + nodes[:start]


def cycle_key(nodes: tuple[str, ...]) -> str:
    rotated = canonical_nodes(nodes)
    return f"{cycle_type(len(rotated))}:{'>'.join(rotated)}"


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A profitable cycle at one moment; ``net``/``gross`` are fractions (0.01 = 1 %)."""

    key: str
    type: str
    nodes: tuple[str, ...]  # start first, not repeated at the end
    legs: tuple[Edge, ...]
    net: float
    gross: float
    executable_size: float | None  # in units of nodes[0]

    @property
    def spread_percentage(self) -> float:
        return self.net * 100.0

    @property
    def gross_percentage(self) -> float:
        return self.gross * 100.0

    @property
    def fees_percentage(self) -> float:
        """Percentage points of profit the fees take (gross minus net)."""
        return (self.gross - self.net) * 100.0

    @property
    def oldest_ts(self) -> int:
        return min(leg.ts for leg in self.legs)

    @property
    def pairs(self) -> list[PairKey]:
        return [frozenset((leg.src, leg.dst)) for leg in self.legs]


def price_cycle(nodes: tuple[str, ...], legs: list[Edge]) -> Opportunity:
    """Price the cycle ``nodes`` through ``legs`` (already rotated to the canonical start)."""
    gross = 1.0
    net = 1.0
    size: float | None = math.inf
    for leg in legs:
        if leg.capacity is None:
            size = None
        elif size is not None:
            # ``net`` is how many units of this leg's input one start unit has become so far.
            size = min(size, leg.capacity / net)
        gross *= leg.rate
        net *= leg.rate * (1.0 - leg.fee)
    return Opportunity(
        key=cycle_key(nodes),
        type=cycle_type(len(nodes)),
        nodes=nodes,
        legs=tuple(legs),
        net=net - 1.0,
        gross=gross - 1.0,
        executable_size=size,
    )


class Detector:
    """Keeps the quote graph and finds the opportunities a tick creates, keeps or removes."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.graph = QuoteGraph()
        self.config = config or DetectorConfig()
        self._limits = self._weight_limits(self.config)
        #: Keys of the open signals (the tracker's live map): these stay opportunities down to the
        #: close threshold (``min_profit - close_margin``); new ones must reach ``min_profit``.
        self.keep_open: Container[str] = ()
        self.stale_skipped = 0
        self.out_of_order = 0

    def reconfigure(self, config: DetectorConfig) -> None:
        """Apply a new config; edges are rebuilt only when fees changed."""
        fees_changed = (config.default_fee_percentage, dict(config.fee_percentage_by_source)) != (
            self.config.default_fee_percentage,
            dict(self.config.fee_percentage_by_source),
        )
        self.config = config
        self._limits = self._weight_limits(config)
        if fees_changed:
            self.graph.rebuild(config.fee_for)

    @staticmethod
    def _weight_limits(config: DetectorConfig) -> list[float | None]:
        """``limits[legs]``: a cycle counts when its total weight is below this (None: type off).

        net > min_profit  <=>  -sum(w) > log(1 + min_profit)  <=>  sum(w) < -log1p(min_profit);
        epsilon keeps float noise on a fair market (sum ~ -1e-16) from ever counting. The search
        uses the *closing* threshold (``min_profit - close_margin``) so open signals can be kept;
        :meth:`search` holds new ones to ``min_profit``.
        """
        limits: list[float | None] = [None] * (config.max_cycle_length + 1)
        for legs in range(2, config.max_cycle_length + 1):
            kind = cycle_type(legs)
            if kind in config.enabled_types:
                threshold = (
                    max(0.0, config.min_profit_percentage[kind] - config.close_margin_percentage) / 100.0
                )
                limits[legs] = min(-math.log1p(threshold), -config.epsilon)
        return limits

    def on_quote(self, quote: Quote, now_ms: int) -> tuple[PairKey, list[Opportunity]] | None:
        """Apply one tick; return its currency pair and every opportunity through that pair now.

        ``None`` when the tick is older than the stored quote for the same venue (out of order):
        nothing changed. A tick that is already stale on arrival removes its venue's quote.
        """
        pair: PairKey = frozenset((quote.base, quote.quote))
        if now_ms - quote.ts > self.config.max_quote_age_ms:
            self.stale_skipped += 1
            key = (quote.symbol, quote.source)
            stored = self.graph.quotes.get(key)
            if stored is not None and stored.ts <= quote.ts:
                self.graph.remove(key)
            return pair, self.search(quote.base, quote.quote, now_ms)
        if not self.graph.upsert(quote, self.config.fee_for(quote.source)):
            self.out_of_order += 1
            return None
        return pair, self.search(quote.base, quote.quote, now_ms)

    def search(self, a: str, b: str, now_ms: int) -> list[Opportunity]:
        """Every opportunity through the ``a``-``b`` pair, with fresh quotes only.

        Staleness is checked on the (rare) profitable cycles instead of on every edge visited: a
        stale leg evicts its quote and the search runs again, so a fresh but slightly worse venue
        can take its place.
        """
        cutoff = now_ms - self.config.max_quote_age_ms
        for _attempt in range(3):
            found: dict[str, Opportunity] = {}
            evicted = False
            for _weight, nodes in self.graph.cycles_through(a, b, self.config.max_cycle_length, self._limits):
                rotated = canonical_nodes(nodes)
                try:
                    legs = self.graph.edges_of(rotated)
                except KeyError:  # a leg was evicted by an earlier cycle of this attempt
                    evicted = True
                    continue
                stale = [leg for leg in legs if leg.ts < cutoff]
                if stale:
                    for leg in stale:
                        if self.graph.remove((leg.symbol, leg.source)) is not None:
                            self.stale_skipped += 1
                    evicted = True
                    continue
                opportunity = price_cycle(rotated, legs)
                opening = self.config.min_profit_percentage[opportunity.type]
                if opportunity.spread_percentage < opening and opportunity.key not in self.keep_open:
                    continue  # in the hysteresis band: keeps an open signal, opens none
                found.setdefault(opportunity.key, opportunity)
            if not evicted:
                break
        return sorted(found.values(), key=lambda o: -o.net)

    def scan_all(self, now_ms: int) -> list[Opportunity]:
        """Every opportunity in the market (after a config change, or for a full check)."""
        self.stale_skipped += len(self.graph.evict_older_than(now_ms - self.config.max_quote_age_ms))
        found: dict[str, Opportunity] = {}
        pairs = {frozenset((q.base, q.quote)) for q in self.graph.quotes.values()}
        for pair in pairs:
            a, b = sorted(pair)
            for opportunity in self.search(a, b, now_ms):
                found.setdefault(opportunity.key, opportunity)
        return sorted(found.values(), key=lambda o: -o.net)

    def evict_stale(self, now_ms: int) -> int:
        """Drop quotes past ``max_quote_age_ms``; return how many."""
        evicted = len(self.graph.evict_older_than(now_ms - self.config.max_quote_age_ms))
        self.stale_skipped += evicted
        return evicted

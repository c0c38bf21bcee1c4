"""The quote graph: currencies are nodes, every quote gives two fee-aware edges.

A quote of ``BASE/QUOTE`` on a venue with taker fee ``f`` gives

* ``BASE -> QUOTE`` (sell the base at the bid): rate ``bid``,
* ``QUOTE -> BASE`` (buy the base at the ask): rate ``1 / ask``,

each weighted ``-log(rate * (1 - f))``. A cycle whose weights sum below zero turns one unit of
its start currency into more than one unit after fees: an arbitrage. Between two currencies only
the best edge matters (several venues or both spellings ``A/B``, ``B/A`` compete), so the graph
keeps every candidate but searches over the best one per direction.

Search is incremental: a tick only changes the edges of one currency pair, and a cycle's profit
only changes when one of its edges does, so :meth:`QuoteGraph.cycles_through` enumerates the simple
cycles (2 to ``max_len`` legs) through the changed pair and nothing else. This is an exhaustive,
length-bounded negative-cycle search — every profitable cycle is reported, not just the one
Bellman-Ford happens to find — at a cost of about ``degree ** (max_len - 2)`` steps per tick,
with the last step done as a C-level set intersection.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ascep.arbitrage.quotes import Quote

QuoteKey = tuple[str, str]  # (symbol, source)
_EMPTY: dict[str, float] = {}


@dataclass(frozen=True, slots=True)
class Edge:
    """One executable conversion ``src -> dst`` at the top of one venue's book."""

    src: str
    dst: str
    symbol: str
    source: str
    side: str  # "sell": base -> quote at the bid; "buy": quote -> base at the ask
    price: float
    rate: float  # units of dst per unit of src, before fees
    fee: float  # fraction
    weight: float  # -log(rate * (1 - fee))
    ts: int
    capacity: float | None  # most src units the top of book absorbs, when sizes are known


def quote_edges(quote: Quote, fee: float) -> tuple[Edge, Edge]:
    """The sell-at-bid and buy-at-ask edges of ``quote`` under taker fee ``fee``."""
    keep = 1.0 - fee
    sell = Edge(
        quote.base,
        quote.quote,
        quote.symbol,
        quote.source,
        "sell",
        quote.bid,
        quote.bid,
        fee,
        -math.log(quote.bid * keep),
        quote.ts,
        quote.bid_size,
    )
    buy_rate = 1.0 / quote.ask
    buy = Edge(
        quote.quote,
        quote.base,
        quote.symbol,
        quote.source,
        "buy",
        quote.ask,
        buy_rate,
        fee,
        -math.log(buy_rate * keep),
        quote.ts,
        None if quote.ask_size is None else quote.ask_size * quote.ask,
    )
    return sell, buy


class QuoteGraph:
    """Latest quote per (symbol, source), and the best edge per ordered currency pair."""

    def __init__(self) -> None:
        self.quotes: dict[QuoteKey, Quote] = {}
        self._candidates: dict[tuple[str, str], dict[QuoteKey, Edge]] = {}
        self.best: dict[tuple[str, str], Edge] = {}
        #: ``weights[u][v]``: weight of the best edge u -> v; ``into[v][u]`` the same, reversed.
        self.weights: dict[str, dict[str, float]] = {}
        self.into: dict[str, dict[str, float]] = {}

    def __len__(self) -> int:
        return len(self.quotes)

    def currencies(self) -> set[str]:
        return set(self.weights) | set(self.into)

    def upsert(self, quote: Quote, fee: float) -> bool:
        """Store ``quote`` (``False``, and nothing changes, when an equal or newer one is stored)."""
        key = (quote.symbol, quote.source)
        stored = self.quotes.get(key)
        if stored is not None and stored.ts > quote.ts:
            return False
        self.quotes[key] = quote
        for edge in quote_edges(quote, fee):
            self._candidates.setdefault((edge.src, edge.dst), {})[key] = edge
            self._reselect(edge.src, edge.dst)
        return True

    def remove(self, key: QuoteKey) -> Quote | None:
        quote = self.quotes.pop(key, None)
        if quote is not None:
            for src, dst in ((quote.base, quote.quote), (quote.quote, quote.base)):
                self._candidates.get((src, dst), {}).pop(key, None)
                self._reselect(src, dst)
        return quote

    def evict_older_than(self, cutoff_ts: int) -> list[Quote]:
        """Drop every quote with ``ts < cutoff_ts``; return them (stale quotes never trade)."""
        stale = [key for key, quote in self.quotes.items() if quote.ts < cutoff_ts]
        return [q for q in (self.remove(key) for key in stale) if q is not None]

    def rebuild(self, fee_for: Callable[[str], float]) -> None:
        """Recompute every edge (fees changed)."""
        quotes = list(self.quotes.values())
        for table in (self.quotes, self._candidates, self.best, self.weights, self.into):
            table.clear()
        for quote in quotes:
            self.upsert(quote, fee_for(quote.source))

    def _reselect(self, src: str, dst: str) -> None:
        candidates = self._candidates.get((src, dst))
        if not candidates:
            self._candidates.pop((src, dst), None)
            self.best.pop((src, dst), None)
            self.weights.get(src, {}).pop(dst, None)
            self.into.get(dst, {}).pop(src, None)
            return
        edge = min(candidates.values(), key=_weight)
        self.best[(src, dst)] = edge
        self.weights.setdefault(src, {})[dst] = edge.weight
        self.into.setdefault(dst, {})[src] = edge.weight

    def cycles_through(
        self, a: str, b: str, max_len: int, limits: list[float | None]
    ) -> list[tuple[float, tuple[str, ...]]]:
        """Every simple cycle of 2..``max_len`` legs using an ``a``-``b`` edge whose total weight is
        below ``limits[legs]`` (``None``: that length is not wanted). Nodes are listed without
        repeating the start."""
        if max_len <= 4:
            return self._short_cycles(a, b, max_len, limits)
        return self._general_cycles(a, b, max_len, limits)

    def _general_cycles(
        self, a: str, b: str, max_len: int, limits: list[float | None]
    ) -> list[tuple[float, tuple[str, ...]]]:
        """Depth-first enumeration for any ``max_len``; the last hop is a set intersection."""
        found: list[tuple[float, tuple[str, ...]]] = []
        for u, v in ((a, b), (b, a)):
            w0 = self.weights.get(u, {}).get(v)
            if w0 is None:
                continue
            into_u = self.into.get(u, {})
            if u == b:  # the 2-cycle a->b->a was already found from the other side
                self._extend(u, [u, v], w0, into_u, max_len, limits, found, skip_two=True)
            else:
                self._extend(u, [u, v], w0, into_u, max_len, limits, found, skip_two=False)
        return found

    def _short_cycles(
        self, a: str, b: str, max_len: int, limits: list[float | None]
    ) -> list[tuple[float, tuple[str, ...]]]:
        """:meth:`cycles_through` for up to 4 legs, unrolled: the per-tick hot path (the default
        ``max_cycle_length`` is 4), about twice as fast as the general recursion."""
        found: list[tuple[float, tuple[str, ...]]] = []
        weights = self.weights
        limit2 = limits[2]
        limit3 = limits[3] if max_len >= 3 else None
        limit4 = limits[4] if max_len >= 4 else None
        for u, v in ((a, b), (b, a)):
            w0 = weights.get(u, _EMPTY).get(v)
            if w0 is None:
                continue
            into_u = self.into.get(u, _EMPTY)
            closing = into_u.get(v)
            if u == a and closing is not None and limit2 is not None and w0 + closing < limit2:
                found.append((w0 + closing, (u, v)))
            if limit3 is None and limit4 is None:
                continue
            into_keys = into_u.keys()
            for x, wvx in weights.get(v, _EMPTY).items():
                if x == u:
                    continue
                partial = w0 + wvx
                closing = into_u.get(x)
                if closing is not None and limit3 is not None and partial + closing < limit3:
                    found.append((partial + closing, (u, v, x)))
                if limit4 is None:
                    continue
                out_x = weights.get(x, _EMPTY)
                for y in out_x.keys() & into_keys:
                    if y == v:
                        continue
                    total = partial + out_x[y] + into_u[y]
                    if total < limit4:
                        found.append((total, (u, v, x, y)))
        return found

    def _extend(
        self,
        u: str,
        path: list[str],
        weight: float,
        into_u: dict[str, float],
        max_len: int,
        limits: list[float | None],
        found: list[tuple[float, tuple[str, ...]]],
        *,
        skip_two: bool = False,
    ) -> None:
        last = path[-1]
        legs = len(path)  # closing last -> u now makes a cycle of this many legs
        closing = into_u.get(last)
        if closing is not None and not (skip_two and legs == 2):
            limit = limits[legs]
            if limit is not None and weight + closing < limit:
                found.append((weight + closing, tuple(path)))
        if legs >= max_len:
            return
        out_last = self.weights.get(last, {})
        if legs + 1 == max_len:
            limit = limits[legs + 1]
            if limit is None:
                return
            for x in out_last.keys() & into_u.keys():
                if x in path:
                    continue
                total = weight + out_last[x] + into_u[x]
                if total < limit:
                    found.append((total, (*path, x)))
            return
        for x, wx in out_last.items():
            if x in path:
                continue
            path.append(x)
            self._extend(u, path, weight + wx, into_u, max_len, limits, found)
            path.pop()

    def edges_of(self, nodes: Iterable[str]) -> list[Edge]:
        """The best edges along the closed cycle through ``nodes`` (KeyError if one is missing)."""
        seq = list(nodes)
        return [self.best[(seq[i], seq[(i + 1) % len(seq)])] for i in range(len(seq))]


def _weight(edge: Edge) -> float:
    return edge.weight

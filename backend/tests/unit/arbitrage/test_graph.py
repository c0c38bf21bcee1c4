"""The unrolled short-cycle search agrees with the general depth-first one on any market."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ascep.arbitrage.graph import QuoteGraph
from ascep.arbitrage.quotes import Quote

NODES = ["A", "B", "C", "D", "E", "F"]


@st.composite
def noisy_market(draw: st.DrawFn) -> list[Quote]:
    """Random, inconsistent quotes: plenty of profitable cycles of every length."""
    quotes = []
    for i in range(draw(st.integers(1, 25))):
        base, quote = draw(st.permutations(NODES))[:2]
        bid = draw(st.floats(0.5, 2.0))
        ask = bid * (1 + draw(st.floats(0.0, 0.05)))
        quotes.append(Quote(f"{base}/{quote}", base, quote, bid, ask, draw(st.sampled_from("xy")), i))
    return quotes


@settings(max_examples=200, deadline=None)
@given(market=noisy_market(), max_len=st.integers(2, 4), fee=st.sampled_from([0.0, 0.01]))
def test_short_and_general_search_agree(market: list[Quote], max_len: int, fee: float) -> None:
    graph = QuoteGraph()
    for quote in market:
        graph.upsert(quote, fee)
    limits: list[float | None] = [None, None, *([-1e-9] * (max_len - 1))]
    last = market[-1]
    fast = graph._short_cycles(last.base, last.quote, max_len, limits)
    general = graph._general_cycles(last.base, last.quote, max_len, limits)
    assert sorted(nodes for _, nodes in fast) == sorted(nodes for _, nodes in general)
    for weight, nodes in fast:
        assert math.isclose(weight, sum(e.weight for e in graph.edges_of(nodes)), abs_tol=1e-12)

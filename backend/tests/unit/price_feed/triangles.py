"""Test helper: is a set of forex quotes free of triangular arbitrage across bid/ask?

For a cross X/Y whose legs trade against a numeraire N (X/N or N/X, Y/N or N/Y), the synthetic
quote is bid = X_in_N_bid / Y_in_N_ask and ask = X_in_N_ask / Y_in_N_bid. There is an
opportunity when the cross's bid exceeds the synthetic ask (sell the cross, buy the legs) or the
cross's ask is below the synthetic bid; ``edge`` is that relative gain, before fees.
"""

from __future__ import annotations

from collections.abc import Mapping


def _in_numeraire(
    quotes: Mapping[str, tuple[float, float]], asset: str, numeraire: str
) -> tuple[float, float]:
    if f"{asset}/{numeraire}" in quotes:
        return quotes[f"{asset}/{numeraire}"]
    bid, ask = quotes[f"{numeraire}/{asset}"]
    return 1 / ask, 1 / bid


def triangle_edges(quotes: Mapping[str, tuple[float, float]], numeraire: str = "USD") -> dict[str, float]:
    """``{cross: edge}`` for every cross with both legs quoted; edge <= 0 means consistent."""
    edges: dict[str, float] = {}
    for symbol, (bid, ask) in quotes.items():
        base, _, quote = symbol.partition("/")
        if numeraire in (base, quote):
            continue
        try:
            base_bid, base_ask = _in_numeraire(quotes, base, numeraire)
            quote_bid, quote_ask = _in_numeraire(quotes, quote, numeraire)
        except KeyError:
            continue
        synthetic_bid, synthetic_ask = base_bid / quote_ask, base_ask / quote_bid
        edges[symbol] = max(bid / synthetic_ask - 1, synthetic_bid / ask - 1)
    return edges

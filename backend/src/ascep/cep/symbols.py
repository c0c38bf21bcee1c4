"""Symbols in the original rule shape, spelt the way people type them, resolved to the feed's.

Original clients write ``conditions.symbol`` as ``"BTC/USDT"``; the feed publishes ``BTCUSDT``
(and ``EUR/USD`` for forex), and a ``where`` filter compares exact strings, so the rule would
never fire. Before a rule is validated, the HTTP API resolves those spellings with the price
feed's instrument index (``CRYPTO_SYMBOLS``, ``FOREX_SYMBOLS``: the same resolution as
``GET /prices/<symbol>``). A symbol the index does not know is kept as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ascep.common.symbols import SymbolIndex


def _resolved(index: SymbolIndex, raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    pair = index.resolve(raw)
    return pair.symbol if pair is not None else raw


def resolve_condition_symbols(rule: Any, index: SymbolIndex) -> Any:
    """``rule`` with ``conditions.symbol``/``conditions.symbols`` in the feed's spelling."""
    if not isinstance(rule, Mapping):
        return rule
    conditions = rule.get("conditions")
    if not isinstance(conditions, Mapping) or not ({"symbol", "symbols"} & set(conditions)):
        return rule
    fixed = dict(conditions)
    if "symbol" in fixed:
        fixed["symbol"] = _resolved(index, fixed["symbol"])
    if isinstance(fixed.get("symbols"), list):
        fixed["symbols"] = [_resolved(index, s) for s in fixed["symbols"]]
    return {**rule, "conditions": fixed}

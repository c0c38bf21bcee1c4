"""Small builders shared by the CEP unit tests."""

from __future__ import annotations

from typing import Any


def tick(ts: int, price: float, symbol: str = "BTCUSDT", **extra: Any) -> dict[str, Any]:
    return {"symbol": symbol, "price": price, "ts": ts, **extra}


def rule(pattern: str, conditions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": f"test {pattern}", "pattern": pattern, "conditions": conditions, **fields}

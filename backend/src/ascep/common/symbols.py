"""Instrument names: one canonical spelling per symbol, many accepted spellings on the way in.

Canonical forms are what every record and Redis key uses: crypto as Binance writes it
(``BTCUSDT``), forex with a slash (``EUR/USD``). Clients type all sorts of things in URLs and
queries (``btc/usdt``, ``EURUSD``, ``eur-usd``), so lookups go through :class:`SymbolIndex`, which
compares the *compact* form: letters and digits only, upper case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["crypto", "forex"]

#: Quote assets recognised when splitting a Binance symbol, longest first so ``USDT`` beats ``USD``.
CRYPTO_QUOTE_ASSETS: tuple[str, ...] = ("FDUSD", "USDT", "USDC", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY")

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
_FOREX = re.compile(r"^([A-Z]{3})/?([A-Z]{3})$")


class SymbolError(ValueError):
    """A symbol cannot be understood; ``symbol`` is the offending input."""

    def __init__(self, symbol: str, reason: str) -> None:
        super().__init__(f"{symbol!r}: {reason}")
        self.symbol = symbol
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Pair:
    """One instrument: canonical symbol, base and quote asset, and which market it belongs to."""

    symbol: str
    base: str
    quote: str
    kind: Kind


def compact(raw: str) -> str:
    """``eur-usd`` -> ``EURUSD``: the spelling-independent key used for lookups."""
    return _NOT_ALNUM.sub("", raw).upper()


def crypto_pair(raw: str) -> Pair:
    """Split a Binance symbol (``BTCUSDT``, ``btc/usdt``) into base and quote."""
    symbol = compact(raw)
    for quote in CRYPTO_QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return Pair(symbol, symbol[: -len(quote)], quote, "crypto")
    raise SymbolError(raw, f"no known quote asset ({', '.join(CRYPTO_QUOTE_ASSETS)})")


def forex_pair(raw: str) -> Pair:
    """``EURUSD``/``eur/usd``/``EUR-USD`` -> ``EUR/USD`` (two ISO 4217 codes)."""
    match = _FOREX.match(compact(raw))
    if match is None:
        raise SymbolError(raw, "expected two three-letter currency codes, e.g. EUR/USD")
    base, quote = match.groups()
    if base == quote:
        raise SymbolError(raw, "base and quote currency are the same")
    return Pair(f"{base}/{quote}", base, quote, "forex")


class SymbolIndex:
    """Resolve any accepted spelling to the canonical symbol of a known instrument."""

    def __init__(self, pairs: Iterable[Pair] = ()) -> None:
        self._by_compact: dict[str, Pair] = {}
        for pair in pairs:
            self.add(pair)

    def add(self, pair: Pair) -> None:
        key = compact(pair.symbol)
        existing = self._by_compact.get(key)
        if existing is not None and existing != pair:
            raise SymbolError(pair.symbol, f"clashes with {existing.symbol}")
        self._by_compact[key] = pair

    def resolve(self, raw: str) -> Pair | None:
        """The known instrument ``raw`` names, or ``None``."""
        return self._by_compact.get(compact(raw))

    def symbols(self) -> list[str]:
        return sorted(pair.symbol for pair in self._by_compact.values())

    def __len__(self) -> int:
        return len(self._by_compact)

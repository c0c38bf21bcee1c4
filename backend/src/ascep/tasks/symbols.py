"""Task arguments name instruments the way ``GET /prices/<symbol>`` does: one resolver for both.

The price feed resolves a symbol with a :class:`SymbolIndex` of its configured instruments
(``CRYPTO_SYMBOLS``, ``FOREX_SYMBOLS``); the tasks API builds the same index from the same
settings with the same parsers, so ``EURUSD``, ``eur-usd`` and ``EUR/USD`` all mean the history
stored under ``EUR/USD``. A symbol the feed has published but this process was not configured
with (a feed run with other settings) is found in the latest-prices hash instead.
"""

from __future__ import annotations

import redis

from ascep.common import channels
from ascep.common.instruments import InstrumentSettings, configured_index
from ascep.common.redis_replies import texts
from ascep.common.symbols import compact
from ascep.tasks.catalog import SymbolResolver

__all__ = ["configured_index", "symbol_resolver"]


def symbol_resolver(settings: InstrumentSettings, client: redis.Redis) -> SymbolResolver:
    index = configured_index(settings)

    def resolve(raw: str) -> str | None:
        pair = index.resolve(raw)
        if pair is not None:
            return pair.symbol
        wanted = compact(raw)
        published = texts(client.hkeys(channels.PRICES_LATEST_KEY))
        return next((symbol for symbol in published if compact(symbol) == wanted), None)

    return resolve

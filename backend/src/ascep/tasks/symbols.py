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
from ascep.common.errors import ConfigError
from ascep.common.instruments import InstrumentSettings
from ascep.common.redis_replies import texts
from ascep.common.symbols import SymbolError, SymbolIndex, compact, crypto_pair, forex_pair
from ascep.tasks.catalog import SymbolResolver


def configured_index(settings: InstrumentSettings) -> SymbolIndex:
    """The price feed's index of instruments, from the price feed's settings."""
    pairs = []
    for setting, symbols, parse in (
        ("CRYPTO_SYMBOLS", settings.crypto_symbols, crypto_pair),
        ("FOREX_SYMBOLS", settings.forex_symbols, forex_pair),
    ):
        try:
            pairs += [parse(symbol) for symbol in symbols]
        except SymbolError as exc:
            raise ConfigError(setting, str(exc)) from exc
    return SymbolIndex(pairs)


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

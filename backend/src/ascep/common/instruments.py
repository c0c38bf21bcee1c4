"""The instrument universe: the symbols the price feed serves, which the tasks API resolves too.

Its own module so both services read one declaration (task symbols resolve exactly as
``/prices/<symbol>`` does) without one service importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from ascep.common.config import setting
from ascep.common.errors import ConfigError
from ascep.common.symbols import SymbolError, SymbolIndex, crypto_pair, forex_pair

DEFAULT_CRYPTO_SYMBOLS: tuple[str, ...] = (
    "BTCUSDT",
    "ETHUSDT",
    "BNBUSDT",
    "ADAUSDT",
    "SOLUSDT",
    "XRPUSDT",
    "DOGEUSDT",
    "DOTUSDT",
    "LTCUSDT",
    "LINKUSDT",
    # Cross pairs so that crypto triangles exist (BTC-ETH-USDT, BTC-BNB-USDT, ETH-BNB-USDT, ...).
    "ETHBTC",
    "BNBBTC",
    "BNBETH",
    "SOLBTC",
    "LTCBTC",
)

DEFAULT_FOREX_SYMBOLS: tuple[str, ...] = (
    "EUR/USD",
    "GBP/USD",
    "USD/JPY",
    "USD/CHF",
    "AUD/USD",
    "USD/CAD",
    "NZD/USD",
    # Crosses, derived from the majors (see market_sim): EUR/USD x USD/JPY = EUR/JPY, etc.
    "EUR/GBP",
    "EUR/JPY",
    "GBP/JPY",
    "EUR/CHF",
    "AUD/JPY",
    "CHF/JPY",
)


@dataclass(frozen=True, kw_only=True)
class InstrumentSettings:
    """The configured instruments: the price feed's, and the tasks API's (so task symbols resolve
    exactly as ``/prices/<symbol>`` does)."""

    crypto_symbols: tuple[str, ...] = setting(DEFAULT_CRYPTO_SYMBOLS, "Crypto symbols (Binance spelling).")
    forex_symbols: tuple[str, ...] = setting(
        DEFAULT_FOREX_SYMBOLS, "Simulated forex pairs (`EUR/USD` spelling)."
    )


def configured_index(settings: InstrumentSettings) -> SymbolIndex:
    """The price feed's index of instruments, from the price feed's settings (any service that
    resolves symbols the way ``/prices/<symbol>`` does builds it from the same settings)."""
    pairs = []
    for name, symbols, parse in (
        ("CRYPTO_SYMBOLS", settings.crypto_symbols, crypto_pair),
        ("FOREX_SYMBOLS", settings.forex_symbols, forex_pair),
    ):
        try:
            pairs += [parse(symbol) for symbol in symbols]
        except SymbolError as exc:
            raise ConfigError(name, str(exc)) from exc
    return SymbolIndex(pairs)

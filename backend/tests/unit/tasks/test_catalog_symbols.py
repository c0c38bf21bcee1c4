"""Symbol arguments resolve with the price feed's own index and parsers; unknown ones are a 422."""

from __future__ import annotations

import pytest

from ascep.common.errors import ConfigError, ValidationFailed
from ascep.common.instruments import InstrumentSettings
from ascep.tasks.catalog import build_catalog
from ascep.tasks.symbols import configured_index

CONFIG = InstrumentSettings(crypto_symbols=("BTCUSDT", "ETHBTC"), forex_symbols=("EUR/USD",))


def resolver(raw: str) -> str | None:
    pair = configured_index(CONFIG).resolve(raw)
    return pair.symbol if pair else None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("EURUSD", "EUR/USD"), ("eur-usd", "EUR/USD"), ("EUR/USD", "EUR/USD"), ("btcusdt", "BTCUSDT")],
)
def test_symbols_are_stored_in_canonical_form(raw: str, canonical: str) -> None:
    _, args = build_catalog(resolve_symbol=resolver).validate("export_prices", {"symbol": raw})
    assert args == {"symbol": canonical}


def test_an_unknown_symbol_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_catalog(resolve_symbol=resolver).validate("export_prices", {"symbol": "DOGEUSDT"})
    assert caught.value.details["field"] == "args.symbol"


def test_without_a_resolver_arguments_pass_unchanged() -> None:
    _, args = build_catalog().validate("export_prices", {"symbol": "eurusd"})
    assert args == {"symbol": "eurusd"}


def test_a_malformed_configured_symbol_fails_at_start_up() -> None:
    with pytest.raises(ConfigError, match="FOREX_SYMBOLS"):
        configured_index(InstrumentSettings(crypto_symbols=(), forex_symbols=("EURO",)))

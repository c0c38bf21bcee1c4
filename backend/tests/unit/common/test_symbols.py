"""Symbol spelling: canonical forms and the lookups clients may type."""

from __future__ import annotations

import pytest

from ascep.common.symbols import Pair, SymbolError, SymbolIndex, compact, crypto_pair, forex_pair


@pytest.mark.parametrize(
    ("raw", "base", "quote"),
    [
        ("BTCUSDT", "BTC", "USDT"),
        ("btc/usdt", "BTC", "USDT"),
        ("ETHBTC", "ETH", "BTC"),
        ("BNBETH", "BNB", "ETH"),
    ],
)
def test_crypto_pair_splits_on_the_longest_known_quote(raw: str, base: str, quote: str) -> None:
    assert crypto_pair(raw) == Pair(f"{base}{quote}", base, quote, "crypto")


@pytest.mark.parametrize("raw", ["EUR/USD", "EURUSD", "eur-usd", "eur_usd", " Eur/Usd "])
def test_forex_pair_canonical_form_has_a_slash(raw: str) -> None:
    assert forex_pair(raw) == Pair("EUR/USD", "EUR", "USD", "forex")


@pytest.mark.parametrize("raw", ["EURO/USD", "EUR", "EUR/EUR", ""])
def test_forex_pair_rejects_malformed(raw: str) -> None:
    with pytest.raises(SymbolError):
        forex_pair(raw)


def test_crypto_pair_rejects_unknown_quote() -> None:
    with pytest.raises(SymbolError, match="quote asset"):
        crypto_pair("BTCXYZ")


def test_compact_keeps_only_letters_and_digits() -> None:
    assert compact("eur-usd/ x") == "EURUSDX"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("BTCUSDT", "BTCUSDT"),
        ("btcusdt", "BTCUSDT"),
        ("BTC/USDT", "BTCUSDT"),
        ("btc-usdt", "BTCUSDT"),
        ("EUR/USD", "EUR/USD"),
        ("EURUSD", "EUR/USD"),
        ("eur-usd", "EUR/USD"),
        ("eur_usd", "EUR/USD"),
    ],
)
def test_index_resolves_every_accepted_spelling(typed: str, canonical: str) -> None:
    index = SymbolIndex([crypto_pair("BTCUSDT"), forex_pair("EUR/USD")])
    resolved = index.resolve(typed)
    assert resolved is not None
    assert resolved.symbol == canonical


def test_index_unknown_is_none_and_lists_symbols() -> None:
    index = SymbolIndex([crypto_pair("BTCUSDT"), forex_pair("EUR/USD")])
    assert index.resolve("DOGEUSDT") is None
    assert index.symbols() == ["BTCUSDT", "EUR/USD"]
    assert len(index) == 2

"""Detection on hand-built markets: exact profits, fees, freshness, every cycle length."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.detector import Detector, canonical_nodes, cycle_key
from ascep.arbitrage.quotes import Quote, QuoteRejected, quote_from_record, split_symbol

NOW = 1_700_000_000_000


def q(symbol: str, bid: float, ask: float, source: str = "x", ts: int = NOW, **sizes: float) -> Quote:
    base, quote = split_symbol(symbol)
    return Quote(symbol, base, quote, bid, ask, source, ts, sizes.get("bid_size"), sizes.get("ask_size"))


def detector(fee_pct: float = 0.0, **overrides: object) -> Detector:
    values: dict[str, object] = {
        "default_fee_percentage": fee_pct,
        "min_profit_percentage": {"direct": 0.0, "triangular": 0.0, "cycle": 0.0},
    }
    values.update(overrides)
    return Detector(DetectorConfig(**values))  # type: ignore[arg-type]


def feed(det: Detector, *quotes: Quote, now: int = NOW) -> list:
    found: list = []
    for quote in quotes:
        result = det.on_quote(quote, now)
        found = result[1] if result else found
    return found


# A fair EUR/USD/JPY market: EUR=1.10 USD, USD=150 JPY, so EUR/JPY fair = 165.
FAIR = (q("EUR/USD", 1.0999, 1.1001), q("USD/JPY", 149.99, 150.01))


def test_planted_triangle_is_found_with_its_exact_net_profit() -> None:
    det = detector(fee_pct=0.1)
    found = feed(det, *FAIR, q("EUR/JPY", 166.0, 166.02))  # the cross is 0.6 % rich
    assert [o.key for o in found] == ["triangular:EUR>JPY>USD"]
    (opp,) = found
    # Sell EUR for JPY at 166.0, buy USD with JPY at 150.01, buy EUR with USD at 1.1001.
    keep = 1 - 0.001
    expected_net = (166.0 * keep) * (1 / 150.01 * keep) * (1 / 1.1001 * keep) - 1
    expected_gross = 166.0 / 150.01 / 1.1001 - 1
    assert opp.type == "triangular"
    assert opp.nodes == ("EUR", "JPY", "USD")
    assert opp.net == pytest.approx(expected_net, rel=1e-12)
    assert opp.gross == pytest.approx(expected_gross, rel=1e-12)
    assert opp.spread_percentage == pytest.approx(expected_net * 100, rel=1e-12)
    assert opp.fees_percentage == pytest.approx((expected_gross - expected_net) * 100, rel=1e-12)
    assert [(leg.symbol, leg.side, leg.price) for leg in opp.legs] == [
        ("EUR/JPY", "sell", 166.0),
        ("USD/JPY", "buy", 150.01),
        ("EUR/USD", "buy", 1.1001),
    ]


def test_fees_remove_a_marginal_cycle() -> None:
    marginal = q("EUR/JPY", 165.3, 165.32)  # ~0.16 % gross, below 3 x 0.1 % fees
    assert feed(detector(fee_pct=0.0), *FAIR, marginal)
    assert feed(detector(fee_pct=0.1), *FAIR, marginal) == []


def test_per_source_fee_applies_to_that_venue_only() -> None:
    marginal = q("EUR/JPY", 165.3, 165.32, source="cheap")
    det = detector(fee_pct=0.1, fee_percentage_by_source={"cheap": 0.0, "x": 0.0})
    assert feed(det, *FAIR, marginal)


def test_fair_market_yields_nothing() -> None:
    assert feed(detector(), *FAIR, q("EUR/JPY", 164.99, 165.01)) == []


def test_direct_between_two_venues() -> None:
    det = detector(fee_pct=0.1)
    found = feed(det, q("BTCUSDT", 65000, 65001, "a"), q("BTCUSDT", 65200, 65201, "b"))
    (opp,) = found
    assert opp.type == "direct"
    assert {(leg.side, leg.source, leg.price) for leg in opp.legs} == {
        ("buy", "a", 65001),
        ("sell", "b", 65200),
    }
    assert opp.net == pytest.approx(65200 / 65001 * 0.999**2 - 1, rel=1e-12)


def test_direct_between_inverse_symbols() -> None:
    # EUR/USD vs USD/EUR: selling 1 EUR for 1.10 USD then 1.10 USD at 0.92 EUR/USD > 1 EUR.
    found = feed(detector(), q("EUR/USD", 1.10, 1.1001), q("USD/EUR", 0.92, 0.9201))
    (opp,) = found
    assert opp.type == "direct"
    assert {leg.symbol for leg in opp.legs} == {"EUR/USD", "USD/EUR"}
    assert opp.net == pytest.approx(1.10 * 0.92 - 1, rel=1e-12)


def test_four_leg_cycle_is_found_and_three_leg_limit_misses_it() -> None:
    # A chain A->B->C->D->A with no shorter cycle: every pair rate 1 except one 1 % rich leg.
    market = (
        q("AAA/BBB", 1.0, 1.0001),
        q("BBB/CCC", 1.0, 1.0001),
        q("CCC/DDD", 1.0, 1.0001),
        q("DDD/AAA", 1.01, 1.0101),
    )
    found = feed(detector(), *market)
    (opp,) = found
    assert opp.type == "cycle"
    assert opp.nodes == ("AAA", "BBB", "CCC", "DDD")
    assert opp.net == pytest.approx(1.01 - 1, rel=1e-12)
    assert feed(detector(max_cycle_length=3), *market) == []


def test_cycle_is_found_from_whichever_leg_ticks_last() -> None:
    market = [
        q("AAA/BBB", 1.0, 1.0001),
        q("BBB/CCC", 1.0, 1.0001),
        q("CCC/DDD", 1.0, 1.0001),
        q("DDD/AAA", 1.01, 1.0101),
    ]
    for last in range(4):
        order = market[:last] + market[last + 1 :] + [market[last]]
        assert [o.key for o in feed(detector(), *order)] == ["cycle:AAA>BBB>CCC>DDD"]


def test_stale_quotes_are_ignored() -> None:
    det = detector(max_quote_age_ms=1000)
    old_leg = q("USD/JPY", 149.99, 150.01, ts=NOW - 5000)
    found = feed(det, q("EUR/USD", 1.0999, 1.1001), old_leg, q("EUR/JPY", 166.0, 166.02))
    assert found == []
    assert det.stale_skipped >= 1
    # A fresh venue for the stale pair brings the opportunity back.
    assert feed(det, q("USD/JPY", 149.99, 150.01, source="fresh"))


def test_stale_leg_falls_back_to_a_fresh_worse_venue() -> None:
    det = detector(max_quote_age_ms=1000)
    feed(det, q("EUR/USD", 1.0999, 1.1001), q("USD/JPY", 149.99, 150.01, source="fresh"), now=NOW)
    feed(det, q("USD/JPY", 149.0, 149.02, source="old", ts=NOW - 900), now=NOW)  # best, ageing
    found = feed(det, q("EUR/JPY", 166.0, 166.02, ts=NOW + 500), now=NOW + 500)
    assert [leg.source for leg in found[0].legs if leg.symbol == "USD/JPY"] == ["fresh"]


def test_out_of_order_tick_is_ignored() -> None:
    det = detector()
    assert det.on_quote(q("EUR/USD", 1.1, 1.2, ts=NOW), NOW) is not None
    assert det.on_quote(q("EUR/USD", 1.0, 1.1, ts=NOW - 1), NOW) is None
    assert det.out_of_order == 1


def test_executable_size_is_the_weakest_leg_in_start_currency() -> None:
    det = detector()
    found = feed(
        det,
        q("EUR/USD", 1.0999, 1.1001, ask_size=1000.0),  # buy <= 1000 EUR: 1100.1 USD in
        q("USD/JPY", 149.99, 150.01, ask_size=500.0),  # buy <= 500 USD: 75005 JPY in
        q("EUR/JPY", 166.0, 166.02, bid_size=10_000.0),  # sell <= 10000 EUR
    )
    (opp,) = found
    # JPY leg: 75005 JPY / 166 JPY per EUR ~ 451.8 EUR is the binding constraint.
    assert opp.executable_size == pytest.approx(500 * 150.01 / 166.0, rel=1e-9)
    assert feed(detector(), *FAIR, q("EUR/JPY", 166.0, 166.02))[0].executable_size is None


def test_min_profit_per_type_and_disabled_types() -> None:
    rich = q("EUR/JPY", 166.0, 166.02)
    assert (
        feed(detector(min_profit_percentage={"direct": 0, "triangular": 1.0, "cycle": 0}), *FAIR, rich) == []
    )
    assert feed(detector(enabled_types=("direct", "cycle")), *FAIR, rich) == []


def test_fee_change_rebuilds_edges() -> None:
    det = detector(fee_pct=0.0)
    assert feed(det, *FAIR, q("EUR/JPY", 165.3, 165.32))
    det.reconfigure(
        DetectorConfig(default_fee_percentage=0.1, min_profit_percentage=det.config.min_profit_percentage)
    )
    assert det.scan_all(NOW) == []


def test_canonical_key_ignores_the_starting_leg_but_not_direction() -> None:
    assert canonical_nodes(("USD", "EUR", "JPY")) == ("EUR", "JPY", "USD")
    assert cycle_key(("JPY", "USD", "EUR")) == cycle_key(("EUR", "JPY", "USD"))
    assert cycle_key(("EUR", "USD", "JPY")) != cycle_key(("EUR", "JPY", "USD"))


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"symbol": "EUR/USD", "source": "x", "ts": NOW, "bid": None, "ask": 1.1}, "no_book"),
        ({"symbol": "EUR/USD", "source": "x", "ts": NOW, "bid": 1.2, "ask": 1.1}, "crossed"),
        ({"symbol": "EUR/USD", "source": "x", "ts": NOW, "bid": -1, "ask": 1.1}, "non_positive"),
        ({"symbol": "EUR/USD", "source": "x", "ts": "now", "bid": 1, "ask": 1.1}, "malformed"),
        ({"symbol": "XYZ", "source": "x", "ts": NOW, "bid": 1, "ask": 1.1}, "bad_symbol"),
    ],
)
def test_unusable_records_are_rejected(record: dict, reason: str) -> None:
    with pytest.raises(QuoteRejected) as info:
        quote_from_record(record)
    assert info.value.reason == reason


def test_binance_symbols_and_sizes_are_understood() -> None:
    quote = quote_from_record(
        {"symbol": "ETHBTC", "source": "binance", "ts": NOW, "bid": 0.05, "ask": 0.0501, "bid_qty": 3}
    )
    assert (quote.base, quote.quote, quote.bid_size, quote.ask_size) == ("ETH", "BTC", 3.0, None)


# --- property: a market built from one consistent price vector with bid <= ask is arbitrage-free ---

CURRENCIES = [f"C{i:02d}" for i in range(8)]


@st.composite
def consistent_market(draw: st.DrawFn) -> list[Quote]:
    values = {c: draw(st.floats(min_value=1e-4, max_value=1e5)) for c in CURRENCIES}
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES)).filter(
                lambda p: p[0] != p[1]
            ),
            min_size=1,
            max_size=28,
        )
    )
    quotes = []
    for i, (base, quote) in enumerate(pairs):
        mid = values[base] / values[quote]
        half_spread = draw(st.floats(min_value=0.0, max_value=0.01))
        venue = draw(st.sampled_from(["a", "b", "c"]))
        bid, ask = mid * (1 - half_spread), mid * (1 + half_spread)
        quotes.append(Quote(f"{base}/{quote}", base, quote, bid, ask, venue, NOW + i))
    return quotes


@settings(max_examples=150, deadline=None)
@given(market=consistent_market(), fee=st.sampled_from([0.0, 0.1]), length=st.integers(2, 5))
def test_consistent_market_never_signals(market: list[Quote], fee: float, length: int) -> None:
    det = detector(fee_pct=fee, max_cycle_length=length)
    for quote in market:
        result = det.on_quote(quote, NOW + len(market))
        assert result is None or result[1] == []
    assert det.scan_all(NOW + len(market)) == []
    assert math.isfinite(
        sum(det.graph.weights.get(c, {}).get(d, 0.0) for c in CURRENCIES for d in CURRENCIES)
    )

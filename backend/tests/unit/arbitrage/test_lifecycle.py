"""Signal lifecycle: open once, update on material change, close on disappearance or staleness."""

from __future__ import annotations

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.engine import ArbitrageEngine

NOW = 1_700_000_000_000
ZERO = {"direct": 0.0, "triangular": 0.0, "cycle": 0.0}


def record(symbol: str, bid: float, ask: float, ts: int = NOW, source: str = "forex") -> dict:
    return {"symbol": symbol, "bid": bid, "ask": ask, "price": (bid + ask) / 2, "source": source, "ts": ts}


def engine(**overrides: object) -> ArbitrageEngine:
    values: dict[str, object] = {"default_fee_percentage": 0.0, "min_profit_percentage": ZERO}
    values.update(overrides)
    return ArbitrageEngine(DetectorConfig(**values))  # type: ignore[arg-type]


def kinds(events: list) -> list[str]:
    return [e.kind for e in events]


def seed(eng: ArbitrageEngine, now: int = NOW) -> None:
    assert eng.on_record(record("EUR/USD", 1.0999, 1.1001, now), now) == []
    assert eng.on_record(record("USD/JPY", 149.99, 150.01, now), now) == []


def test_open_then_no_repeat_then_material_update_then_close() -> None:
    eng = engine(update_threshold_percentage=0.05)
    seed(eng)
    (opened,) = eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)
    assert opened.kind == "open"
    payload = opened.payload
    assert payload["type"] == "triangular"
    assert payload["status"] == "open"
    assert payload["symbols"] == ["EUR/JPY", "USD/JPY", "EUR/USD"]
    assert payload["path"] == ["EUR", "JPY", "USD", "EUR"]
    assert [leg["side"] for leg in payload["legs"]] == ["sell", "buy", "buy"]
    assert payload["prices"] == [166.0, 150.01, 1.1001]
    assert payload["timestamp"].endswith("Z")
    first = payload["spread_percentage"]

    # The same opportunity on other legs' ticks, tiny moves: no new publication.
    assert eng.on_record(record("EUR/USD", 1.0999, 1.1001, NOW + 1), NOW + 1) == []
    assert eng.on_record(record("EUR/JPY", 166.01, 166.03, NOW + 2), NOW + 2) == []
    # A material move: one update with a higher peak.
    (update,) = eng.on_record(record("EUR/JPY", 166.5, 166.52, NOW + 3), NOW + 3)
    assert update.kind == "update"
    assert update.state is opened.state
    assert update.payload["peak_spread_percentage"] > first
    # The mispricing is removed: closed once, through the pair that fixed it.
    (close,) = eng.on_record(record("EUR/JPY", 164.99, 165.01, NOW + 4), NOW + 4)
    assert close.kind == "close"
    assert close.payload["status"] == "closed"
    assert close.payload["close_reason"] == "disappeared"
    assert close.payload["peak_spread_percentage"] == update.payload["spread_percentage"]
    assert eng.tracker.open == {}


def test_stale_quotes_close_the_signal_on_sweep() -> None:
    eng = engine(max_quote_age_ms=1000)
    seed(eng)
    assert kinds(eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)) == ["open"]
    assert eng.sweep(NOW + 500) == []
    (close,) = eng.sweep(NOW + 1500)
    assert (close.kind, close.payload["close_reason"]) == ("close", "stale")


def test_reconfirmed_signal_is_touched_not_republished() -> None:
    eng = engine()
    seed(eng)
    (opened,) = eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)
    opened.state.id = 7  # as the store would
    assert eng.on_record(record("EUR/JPY", 166.0, 166.02, NOW + 10), NOW + 10) == []
    assert kinds(eng.sweep(NOW + 20)) == ["touch"]
    assert eng.sweep(NOW + 30) == []  # nothing new to store


def test_config_change_is_applied_by_rescanning() -> None:
    eng = engine()
    seed(eng)
    assert kinds(eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)) == ["open"]
    eng.request_config(DetectorConfig(default_fee_percentage=0.3, min_profit_percentage=ZERO))
    assert eng.config.default_fee_percentage == 0.3  # reported at once
    (close,) = eng.apply_pending(NOW + 1)  # 0.6 % rich < 3 x 0.3 % fees
    assert close.kind == "close"


def test_severity_follows_thresholds() -> None:
    eng = engine(severity_thresholds={"high": 0.5, "medium": 0.1})
    seed(eng)
    (opened,) = eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)  # ~0.58 %
    assert opened.payload["severity"] == "high"
    eng = engine(severity_thresholds={"high": 5.0, "medium": 0.5})
    seed(eng)
    assert eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)[0].payload["severity"] == "medium"


def test_adopted_signal_keeps_its_id_and_closes_when_stale() -> None:
    eng = engine(max_quote_age_ms=1000)
    seed(eng)
    (opened,) = eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)
    opened.state.id = 41
    stored = opened.state.payload(eng.config, "open", NOW)

    fresh = engine(max_quote_age_ms=1000)
    assert fresh.takeover({stored["key"]: stored}, NOW + 100) == []
    seed(fresh, NOW + 100)
    (update,) = fresh.on_record(record("EUR/JPY", 166.5, 166.52, NOW + 100), NOW + 100)
    assert (update.kind, update.state.id) == ("update", 41)
    (close,) = fresh.sweep(NOW + 5000)
    assert (close.kind, close.state.id) == ("close", 41)


def test_rejected_records_are_counted_and_times_recorded() -> None:
    eng = engine()
    assert eng.on_record({"symbol": "EUR/USD", "source": "x", "ts": NOW, "price": 1.1}, NOW) == []
    seed(eng)
    stats = eng.stats()
    assert stats["rejected_records"] == {"no_book": 1}
    assert stats["ticks_processed"] == 2
    assert stats["detection_ms_p99"] is not None


def test_crossing_a_severity_threshold_is_an_update_even_when_small() -> None:
    eng = engine(update_threshold_percentage=10.0, severity_thresholds={"high": 0.6, "medium": 0.1})
    seed(eng)
    (opened,) = eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW)  # ~0.59 %: medium
    assert opened.payload["severity"] == "medium"
    (update,) = eng.on_record(record("EUR/JPY", 166.05, 166.07, NOW + 1), NOW + 1)  # ~0.62 %: high
    assert (update.kind, update.payload["severity"]) == ("update", "high")


def test_longer_cycles_through_the_same_mispricing_are_suppressed() -> None:
    def run(**overrides: object) -> list[str]:
        eng = engine(default_fee_percentage=0.05, **overrides)
        seed(eng)
        eng.on_record(record("GBP/USD", 1.2699, 1.2701), NOW)
        eng.on_record(record("GBP/JPY", 190.49, 190.51), NOW)  # fair: 1.27 x 150
        return sorted(e.state.key for e in eng.on_record(record("EUR/JPY", 166.0, 166.02), NOW))

    assert run() == ["triangular:EUR>JPY>USD"]
    unsuppressed = run(suppress_dominated=False)
    assert "triangular:EUR>JPY>USD" in unsuppressed
    assert any(key.startswith("cycle:") for key in unsuppressed)


def test_takeover_keeps_stored_ids_and_announces_what_redis_lacks() -> None:
    standby = engine()
    seed(standby)
    (seen_by_both,) = standby.on_record(record("EUR/JPY", 166.0, 166.02), NOW)
    standby.on_record(record("GBP/USD", 1.2699, 1.2701), NOW)
    (only_here,) = standby.on_record(record("GBP/JPY", 191.5, 191.52), NOW)  # GBP>JPY>USD
    stored = dict(seen_by_both.payload, id=5, first_seen_ts=NOW - 1000, peak_spread_percentage=9.0)
    only_in_redis = dict(stored, id=6, key="triangular:AUD>NZD>USD", path=["AUD", "NZD", "USD", "AUD"])

    events = standby.takeover({stored["key"]: stored, only_in_redis["key"]: only_in_redis}, NOW + 1)
    assert [(e.kind, e.state.key, e.state.id) for e in events] == [("open", only_here.state.key, None)]
    assert (seen_by_both.state.id, seen_by_both.state.first_seen) == (5, NOW - 1000)
    assert seen_by_both.state.peak_spread_percentage == 9.0
    assert standby.tracker.open["triangular:AUD>NZD>USD"].id == 6


def test_unreadable_stored_signals_are_skipped_on_takeover() -> None:
    eng = engine()
    assert (
        eng.takeover({"k": {"key": "k", "status": "open", "legs": [{"ts": 1}], "path": ["A", "B", "A"]}}, NOW)
        == []
    )
    assert eng.tracker.open == {}


def test_hysteresis_opens_at_min_profit_and_closes_only_below_min_minus_margin() -> None:
    """EUR->JPY->USD->EUR nets bid / (150.01 * 1.1001) - 1 with no fees."""
    eng = engine(
        min_profit_percentage={"direct": 0.5, "triangular": 0.5, "cycle": 0.5}, close_margin_percentage=0.2
    )
    seed(eng)
    cost = 150.01 * 1.1001

    def tick(net_percentage: float, ts: int) -> list:
        bid = round(cost * (1 + net_percentage / 100), 6)
        return eng.on_record(record("EUR/JPY", bid, bid + 0.02, ts), ts)

    assert tick(0.4, NOW) == []  # in the band: opens nothing
    (opened,) = tick(0.6, NOW + 1)
    assert opened.kind == "open"
    assert kinds(tick(0.4, NOW + 2)) == ["update"]  # in the band: kept open (and republished)
    assert kinds(tick(0.35, NOW + 3)) == ["update"]
    (closed,) = tick(0.25, NOW + 4)  # below 0.5 - 0.2
    assert closed.kind == "close"
    assert tick(0.4, NOW + 5) == []  # closed: the band does not reopen it
    assert kinds(tick(0.55, NOW + 6)) == ["open"]

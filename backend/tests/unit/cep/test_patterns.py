"""Every pattern with events that match and events that just miss (edges, cooldown, partitions)."""

from __future__ import annotations

import pytest

from ascep.cep.replay import replay, replay_rule
from unit.cep.helpers import rule, tick


def fired_at(alerts: list[dict]) -> list[int]:
    return [a["ts"] for a in alerts]


# --- threshold -------------------------------------------------------------------------------
def test_threshold_fires_when_crossing_not_while_staying_above() -> None:
    r = rule("threshold", {"field": "price", "op": ">", "value": 100})
    events = [tick(0, 99), tick(1, 101), tick(2, 102), tick(3, 99), tick(4, 100.5)]
    assert fired_at(replay_rule(r, events)) == [1, 4]


def test_threshold_first_event_is_not_a_crossing_but_level_mode_fires_on_each() -> None:
    events = [tick(0, 101), tick(1, 102)]
    assert replay_rule(rule("threshold", {"field": "price", "op": ">", "value": 100}), events) == []
    level = rule("threshold", {"field": "price", "op": ">", "value": 100, "mode": "level"})
    assert fired_at(replay_rule(level, events)) == [0, 1]


@pytest.mark.parametrize(("op", "fires"), [(">", False), (">=", True)])
def test_threshold_equal_value_just_misses_strict_operator(op: str, fires: bool) -> None:
    r = rule("threshold", {"field": "price", "op": op, "value": 100})
    assert bool(replay_rule(r, [tick(0, 99), tick(1, 100)])) is fires


def test_threshold_state_is_per_partition() -> None:
    r = rule("threshold", {"field": "price", "op": ">", "value": 100})
    events = [tick(0, 99, "BTCUSDT"), tick(1, 101, "ETHUSDT"), tick(2, 101, "BTCUSDT")]
    alerts = replay_rule(r, events)
    assert [a["partition"] for a in alerts] == [{"symbol": "BTCUSDT"}]


# --- price_spike -----------------------------------------------------------------------------
@pytest.mark.parametrize(("at", "fires"), [(60_000, True), (60_001, False)])
def test_price_spike_window_edge(at: int, fires: bool) -> None:
    r = rule("price_spike", {"percent": 2, "window": "60s"})
    alerts = replay_rule(r, [tick(0, 100), tick(at, 102)])
    assert bool(alerts) is fires
    if fires:
        assert alerts[0]["values"]["change_percent"] == pytest.approx(2.0)
        assert [e["ts"] for e in alerts[0]["matched_events"]] == [0, 60_000]


def test_price_spike_just_below_percent_does_not_fire() -> None:
    r = rule("price_spike", {"percent": 2, "window": 60})
    assert replay_rule(r, [tick(0, 100), tick(1000, 101.99)]) == []


def test_price_spike_compares_with_the_extreme_inside_the_window() -> None:
    r = rule("price_spike", {"percent": 2, "window": "60s", "direction": "down"})
    events = [tick(0, 100), tick(10_000, 103), tick(20_000, 100.9)]
    alerts = replay_rule(r, events)
    assert fired_at(alerts) == [20_000]
    assert alerts[0]["values"]["from"] == 103
    up_only = {**r, "conditions": {**r["conditions"], "direction": "up"}}
    assert fired_at(replay_rule(up_only, events)) == [10_000]


def test_price_spike_partitions_and_cooldown() -> None:
    r = rule("price_spike", {"percent": 1, "window": "60s"}, cooldown="10s")
    events = [
        tick(0, 100, "BTCUSDT"),
        tick(1_000, 102, "ETHUSDT"),  # other partition: no reference there yet
        tick(2_000, 102, "BTCUSDT"),  # fires
        tick(5_000, 104, "BTCUSDT"),  # would fire, cooldown
        tick(12_000, 106, "BTCUSDT"),  # cooldown over (10 s after 2 000)
    ]
    result = replay(r, events)
    assert fired_at(result.matches) == [2_000, 12_000]
    assert result.suppressed == 1


# --- volatility ------------------------------------------------------------------------------
def test_volatility_fires_on_choppy_prices_not_on_a_steady_trend() -> None:
    r = rule("volatility", {"threshold": 0.9, "window": "1m", "min_events": 4})
    choppy = [tick(i * 1000, 100 if i % 2 == 0 else 101) for i in range(6)]
    alerts = replay_rule(r, choppy)
    assert fired_at(alerts)[0] == 4000  # the 4th return
    assert alerts[0]["values"]["stddev_percent"] >= 0.9
    steady = [tick(i * 1000, 100 * 1.01**i) for i in range(10)]
    assert replay_rule(r, steady) == []


def test_volatility_needs_min_events_inside_the_window() -> None:
    r = rule("volatility", {"threshold": 0.5, "window": "3s", "min_events": 4})
    spaced = [tick(i * 2000, 100 if i % 2 == 0 else 101) for i in range(8)]  # only ~2 returns per 3 s
    assert replay_rule(r, spaced) == []


# --- volume_surge ----------------------------------------------------------------------------
@pytest.mark.parametrize(("volume", "fires"), [(30.0, True), (29.9, False)])
def test_volume_surge_against_the_previous_average(volume: float, fires: bool) -> None:
    r = rule("volume_surge", {"multiplier": 3, "periods": 5, "min_events": 5})
    events = [tick(i, 100, volume=10.0) for i in range(5)] + [tick(5, 100, volume=volume)]
    alerts = replay_rule(r, events)
    assert bool(alerts) is fires
    if fires:
        assert alerts[0]["values"]["ratio"] == pytest.approx(3.0)


def test_volume_surge_waits_for_a_baseline() -> None:
    r = rule("volume_surge", {"multiplier": 2, "periods": 5, "min_events": 5})
    assert replay_rule(r, [tick(i, 100, volume=10.0 * (i + 1) ** 2) for i in range(5)]) == []


def test_volume_surge_time_window_drops_old_baseline() -> None:
    r = rule("volume_surge", {"multiplier": 3, "window": "10s", "min_events": 1})
    events = [tick(0, 1, volume=1.0), tick(20_000, 1, volume=10.0), tick(21_000, 1, volume=20.0)]
    assert replay_rule(r, events) == []  # 10 is not compared with the expired 1


# --- trend_reversal --------------------------------------------------------------------------
def _v_shape() -> list[dict]:
    prices = [110, 108, 106, 104, 102, 100, 99, 101, 104, 107, 110, 113]
    return [tick(i * 1000, p) for i, p in enumerate(prices)]


def test_trend_reversal_bullish_cross() -> None:
    alerts = replay_rule(rule("trend_reversal", {"short": 2, "long": 5}), _v_shape())
    assert [a["values"]["direction"] for a in alerts] == ["bullish"]
    assert (
        replay_rule(rule("trend_reversal", {"short": 2, "long": 5, "direction": "bearish"}), _v_shape()) == []
    )


def test_trend_reversal_needs_long_events_first() -> None:
    assert replay_rule(rule("trend_reversal", {"short": 2, "long": 12}), _v_shape()) == []


# --- arbitrage_opportunity -------------------------------------------------------------------
@pytest.mark.parametrize(("spread", "kind", "fires"), [(0.5, "triangular", True), (0.49, "triangular", False),
                                                        (0.9, "direct", False)])  # fmt: skip
def test_arbitrage_opportunity(spread: float, kind: str, fires: bool) -> None:
    r = rule("arbitrage_opportunity", {"min_spread_percentage": 0.5, "types": ["triangular"]})
    signal = {"id": "s1", "type": kind, "spread_percentage": spread, "ts": 1}
    alerts = replay_rule(r, [signal])
    assert bool(alerts) is fires
    if fires:
        assert alerts[0]["stream"] == "signals"
        assert alerts[0]["partition"] == {}


# --- aggregate -------------------------------------------------------------------------------
def test_aggregate_sliding_time_count_with_window_edge() -> None:
    r = rule("aggregate", {"function": "count", "window": "10s", "having": {"op": ">=", "value": 3}})
    assert fired_at(replay_rule(r, [tick(0, 1), tick(5_000, 1), tick(10_000, 1)])) == [10_000]
    assert replay_rule(r, [tick(0, 1), tick(5_000, 1), tick(10_001, 1)]) == []


def test_aggregate_sliding_count_avg() -> None:
    r = rule(
        "aggregate", {"function": "avg", "field": "price", "count": 3, "having": {"op": ">", "value": 20}}
    )
    events = [tick(0, 10), tick(1, 20), tick(2, 30), tick(3, 40)]  # averages 20 then 30
    alerts = replay_rule(r, events)
    assert fired_at(alerts) == [3]
    assert alerts[0]["values"]["result"] == pytest.approx(30)


def test_aggregate_tumbling_time_windows_close_on_the_next_window() -> None:
    r = rule("aggregate", {"function": "max", "field": "price", "window": "10s", "mode": "tumbling",
                           "having": {"op": ">=", "value": 50}})  # fmt: skip
    events = [tick(1_000, 10), tick(9_999, 50), tick(10_000, 1), tick(19_000, 49), tick(20_000, 1)]
    alerts = replay_rule(r, events)
    assert fired_at(alerts) == [9_999]  # window [0, 10 s) closes; [10 s, 20 s) peaks at 49
    assert alerts[0]["values"]["events_in_window"] == 2


def test_aggregate_tumbling_count_and_min_sum() -> None:
    tumbling_sum = rule("aggregate", {"function": "sum", "field": "price", "count": 2, "mode": "tumbling",
                                      "having": {"op": "==", "value": 3}})  # fmt: skip
    assert fired_at(replay_rule(tumbling_sum, [tick(0, 1), tick(1, 2), tick(2, 1), tick(3, 3)])) == [1]
    sliding_min = rule("aggregate", {"function": "min", "field": "price", "count": 3,
                                     "having": {"op": "<", "value": 5}})  # fmt: skip
    assert fired_at(
        replay_rule(sliding_min, [tick(0, 9), tick(1, 4), tick(2, 9), tick(3, 9), tick(4, 9)])
    ) == [
        1,
        2,
        3,
    ]

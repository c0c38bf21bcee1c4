"""Rules in the original ASCEP shape: what they become, and that they really fire (replay)."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.cep.errors import RuleValidationError
from ascep.cep.replay import replay_rule
from ascep.cep.rules import canonical, validate_rule
from unit.cep.helpers import tick


def original(pattern: str, action: str, conditions: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the original dashboard's "Add rule" form sends."""
    return {"name": f"{pattern} rule", "pattern": pattern, "action": action,
            "conditions": conditions if conditions is not None else {}, "enabled": True}  # fmt: skip


@pytest.mark.parametrize(
    ("word", "action"),
    [("send_alert", "emit_alert"), ("generate_alert", "emit_alert"), ("create_signal", "emit_signal"),
     ("generate_signal", "emit_signal"), ("log_event", "log"), ("Send_Alert ", "emit_alert")],
)  # fmt: skip
def test_every_original_action_word_maps_to_an_action(word: str, action: str) -> None:
    spec = canonical(original("price_spike", word, {"price_change_threshold": 3.0}))
    assert spec["action"] == [{"type": action}]


def test_an_action_object_may_use_an_original_word_too() -> None:
    raw = {
        **original("price_spike", "x", {"percent": 1, "window": 5}),
        "action": {"type": "create_signal", "severity": "high"},
    }
    spec = canonical(raw)
    assert spec["action"] == [{"type": "emit_signal", "severity": "high"}]


def test_unknown_action_words_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule(original("price_spike", "trigger_order"))
    assert caught.value.path == "$.action[0].type"
    assert "emit_signal" in caught.value.errors[0].message


# --- price_spike / price_change_threshold: % change vs the symbol's previous price ------------------
def test_price_change_threshold_compares_with_the_previous_price() -> None:
    spec = canonical(original("price_spike", "send_alert", {"price_change_threshold": 3.0}))
    assert spec["conditions"] == {"percent": 3.0, "reference": "previous"}
    events = [tick(0, 100), tick(1, 102), tick(2, 104), tick(3, 107.5), tick(4, 104.0)]
    # 100 -> 104 over two ticks is 4 % but no single step is 3 %: only 104 -> 107.5 (+3.4 %)
    # and 107.5 -> 104 (-3.3 %) fire.
    assert [a["ts"] for a in replay_rule(spec, events)] == [3, 4]


def test_previous_price_is_per_symbol() -> None:
    spec = original("price_spike", "send_alert", {"price_change_threshold": 1.0})
    events = [
        tick(0, 100, "BTCUSDT"),
        tick(1, 200, "ETHUSDT"),
        tick(2, 100.5, "BTCUSDT"),
        tick(3, 203, "ETHUSDT"),
    ]
    assert [a["partition"]["symbol"] for a in replay_rule(spec, events)] == ["ETHUSDT"]


def test_an_original_price_spike_without_conditions_takes_the_original_5_percent() -> None:
    spec = canonical(original("price_spike", "create_signal"))
    assert spec["conditions"] == {"percent": 5.0, "reference": "previous"}
    assert [a["ts"] for a in replay_rule(spec, [tick(0, 100), tick(1, 104.9), tick(2, 110.2)])] == [2]


def test_a_canonical_rule_without_percent_is_still_refused() -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule({"name": "x", "pattern": "price_spike", "conditions": {}})
    assert caught.value.path == "$.conditions.percent"


def test_reference_previous_with_a_window_is_refused() -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule({"name": "x", "pattern": "price_spike",
                       "conditions": {"percent": 1, "reference": "previous", "window": 5}})  # fmt: skip
    assert caught.value.path == "$.conditions.window"


# --- volume_surge / volume_threshold: an absolute level ---------------------------------------------
def test_volume_threshold_fires_when_the_volume_reaches_it_then_after_each_dip() -> None:
    spec = canonical(original("volume_surge", "send_alert", {"volume_threshold": 2_000_000}))
    assert spec["conditions"] == {"min_value": 2_000_000}
    volumes = [1_000_000, 2_100_000, 2_500_000, 1_500_000, 2_000_000]
    events = [tick(i, 1.0, volume=v) for i, v in enumerate(volumes)]
    assert [a["ts"] for a in replay_rule(spec, events)] == [1, 4]
    assert replay_rule(spec, events)[0]["values"] == {"value": 2_100_000, "min_value": 2_000_000}


def test_volume_already_above_the_level_fires_on_the_first_event() -> None:
    spec = original("volume_surge", "log_event", {})  # the original default: 1 000 000
    assert canonical(spec)["conditions"] == {"min_value": 1_000_000}
    assert [a["ts"] for a in replay_rule(spec, [tick(0, 1.0, volume=3e6), tick(1, 1.0, volume=3e6)])] == [0]


def test_multiplier_and_min_value_together_need_both() -> None:
    spec = {"name": "v", "pattern": "volume_surge",
            "conditions": {"multiplier": 2, "periods": 3, "min_events": 3, "min_value": 500}}  # fmt: skip
    events = [tick(i, 1.0, volume=v) for i, v in enumerate([100, 100, 100, 300, 100, 100, 600])]
    assert [a["ts"] for a in replay_rule(spec, events)] == [6]  # 300 is 3x but under 500


def test_volume_surge_needs_a_multiplier_or_a_level() -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule({"name": "v", "pattern": "volume_surge", "conditions": {"periods": 3}})
    assert caught.value.path == "$.conditions.multiplier"


# --- arbitrage_opportunity / spread_threshold -------------------------------------------------------
def test_spread_threshold_is_the_minimum_spread_percentage() -> None:
    spec = canonical(original("arbitrage_opportunity", "create_signal", {"spread_threshold": 0.2}))
    assert spec["conditions"] == {"min_spread_percentage": 0.2}
    assert spec["stream"] == "signals"
    signals = [{"type": "triangular", "spread_percentage": s, "ts": i} for i, s in enumerate([0.1, 0.25])]
    assert [a["ts"] for a in replay_rule(spec, signals)] == [1]
    assert canonical(original("arbitrage_opportunity", "send_alert"))["conditions"] == {
        "min_spread_percentage": 0.1
    }


# --- trend_reversal / ma_short + ma_long: a real moving-average crossover --------------------------
def test_ma_short_and_ma_long_are_a_moving_average_crossover() -> None:
    spec = canonical(
        original("trend_reversal", "log_event", {"ma_short": 2, "ma_long": 4, "symbol": "EUR/USD"})
    )
    assert spec["conditions"] == {"short": 2, "long": 4}
    prices = [10, 9, 8, 7, 8, 10, 11, 9, 6]
    events = [tick(i, p, "EUR/USD") for i, p in enumerate(prices)]
    fired = replay_rule(spec, events)
    # averages: t3 7.5 < 8.5 (the first side), t5 9 > 8.25 (bullish), t8 7.5 < 9 (bearish)
    assert [(a["ts"], a["values"]["direction"]) for a in fired] == [(5, "bullish"), (8, "bearish")]


def test_the_original_threshold_of_a_trend_reversal_is_a_minimum_separation() -> None:
    loose = original("trend_reversal", "log_event", {"ma_short": 2, "ma_long": 4})
    strict = original("trend_reversal", "log_event", {"ma_short": 2, "ma_long": 4, "threshold": 10})
    assert canonical(strict)["conditions"]["min_separation_percent"] == 10
    prices = [10, 9, 8, 7, 8, 10, 11, 9, 6]
    events = [tick(i, p) for i, p in enumerate(prices)]
    assert [a["ts"] for a in replay_rule(loose, events)] == [5, 8]
    # t5: 9 vs 8.25 is only +9 %; t6: 10.5 vs 9 is +16.7 %, a clear cross
    assert [a["ts"] for a in replay_rule(strict, events)] == [6, 8]


def test_an_original_trend_reversal_without_windows_takes_the_dashboards_10_and_50() -> None:
    assert canonical(original("trend_reversal", "log_event"))["conditions"] == {"short": 10, "long": 50}


# --- custom patterns: any other name with conditions.custom_condition -------------------------------
def test_a_custom_substring_matches_like_the_original_engine() -> None:
    spec = canonical(original("my_custom_pattern", "log_event", {"custom_condition": "BTC"}))
    assert spec["pattern"] == "my_custom_pattern"
    assert spec["conditions"] == {"custom_condition": "BTC", "match": "substring"}
    events = [tick(0, 1.0, "ETHUSDT"), tick(1, 1.0, "BTCUSDT"), tick(2, 1.0, "ETHBTC")]
    fired = replay_rule(spec, events)
    assert [a["ts"] for a in fired] == [1, 2]
    assert fired[0]["pattern"] == "my_custom_pattern"


def test_a_custom_expression_is_evaluated_over_the_event() -> None:
    spec = original("btc_price_alert", "create_signal",
                    {"custom_condition": 'price > 50000 and symbol == "BTCUSDT"'})  # fmt: skip
    assert canonical(spec)["conditions"]["match"] == "expression"
    events = [tick(0, 49_000), tick(1, 51_000), tick(2, 60_000, "ETHUSDT")]
    assert [a["ts"] for a in replay_rule(spec, events)] == [1]


def test_price_change_in_an_expression_is_the_change_since_the_previous_price() -> None:
    spec = original("jump", "send_alert", {"custom_condition": "price_change > 5%"})
    events = [tick(0, 100), tick(1, 104), tick(2, 110), tick(3, 100, "ETHUSDT"), tick(4, 200, "ETHUSDT")]
    fired = replay_rule(spec, events)
    assert [a["ts"] for a in fired] == [2, 4]
    assert fired[0]["matched_events"][0]["price_change"] == pytest.approx(5.769, abs=1e-3)


def test_match_can_be_forced() -> None:
    spec = original("lit", "log_event", {"custom_condition": "price > 1", "match": "substring"})
    assert replay_rule(spec, [tick(0, 5.0)]) == []
    assert len(replay_rule(spec, [{"symbol": "X", "note": "price > 1", "ts": 0}])) == 1


@pytest.mark.parametrize(
    ("conditions", "path", "message"),
    [
        ({}, "$.pattern", "needs conditions.custom_condition"),
        ({"price_threshold": 50000}, "$.pattern", "needs conditions.custom_condition"),
        ({"custom_condition": "price >> 5"}, "$.conditions.custom_condition", "not a valid expression"),
        ({"custom_condition": "x" * 501}, "$.conditions.custom_condition", "too long"),
        ({"custom_condition": 5}, "$.conditions.custom_condition", "not of type 'string'"),
        ({"custom_condition": ["BTC"]}, "$.conditions.custom_condition", "not of type 'string'"),
        ({"custom_condition": "BTC", "match": "fuzzy"}, "$.conditions.match", "is not one of"),
        ({"custom_condition": "BTC", "exchanges": ["a"]}, "$.conditions.exchanges", "unknown field"),
        ({"custom_condition": "(" * 9 + "a > 1" + ")" * 9}, "$.conditions.custom_condition", "nested"),
    ],
)
def test_bad_custom_patterns_are_422s_naming_the_field(
    conditions: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule(original("my_pattern", "log_event", conditions))
    errors = {e.path: e.message for e in caught.value.errors}
    assert path in errors, errors
    assert message in errors[path]


def test_legacy_symbol_becomes_the_where_of_any_pattern() -> None:
    spec = canonical(
        original("my_custom_pattern", "send_alert", {"custom_condition": "price > 1", "symbol": "X"})
    )
    assert spec["where"] == {"field": "symbol", "op": "==", "value": "X"}


def test_server_fields_of_the_original_list_are_accepted_and_ignored() -> None:
    spec = canonical({**original("price_spike", "send_alert"), "last_triggered": None, "trigger_count": 4})
    assert "trigger_count" not in spec
    assert "last_triggered" not in spec

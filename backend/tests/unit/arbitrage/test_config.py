"""Live configuration: validation names the field, a bad update changes nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ascep.arbitrage.config import (
    ConfigValidationError,
    DetectorConfig,
    apply_update,
    from_stored,
    markdown_table,
)
from ascep.arbitrage.options import declared


@pytest.mark.parametrize(
    ("update", "field", "unknown"),
    [
        ({"nope": 1}, "nope", True),
        ({"max_cycle_length": "4"}, "max_cycle_length", False),
        ({"max_cycle_length": 4.0}, "max_cycle_length", False),
        ({"max_cycle_length": True}, "max_cycle_length", False),
        ({"max_cycle_length": 1}, "max_cycle_length", False),
        ({"max_cycle_length": 7}, "max_cycle_length", False),
        ({"max_quote_age_ms": 0}, "max_quote_age_ms", False),
        ({"default_fee_percentage": 11}, "default_fee_percentage", False),
        ({"default_fee_percentage": float("nan")}, "default_fee_percentage", False),
        ({"fee_percentage_by_source": []}, "fee_percentage_by_source", False),
        ({"fee_percentage_by_source": {"binance": -0.1}}, "fee_percentage_by_source.binance", False),
        ({"min_profit_percentage": {"stat": 1}}, "min_profit_percentage.stat", True),
        ({"min_profit_percentage": {"direct": "1"}}, "min_profit_percentage.direct", False),
        ({"severity_thresholds": {"critical": 1}}, "severity_thresholds.critical", True),
        ({"severity_thresholds": {"high": 0.05}}, "severity_thresholds.high", False),
        ({"enabled_types": ["direct", "statistical"]}, "enabled_types", False),
        ({"enabled_types": "direct"}, "enabled_types", False),
        ({"epsilon": 0.5}, "epsilon", False),
    ],
)
def test_bad_updates_name_the_field(update: dict, field: str, unknown: bool) -> None:
    current = DetectorConfig()
    with pytest.raises(ConfigValidationError) as info:
        apply_update(current, update)
    assert (info.value.field, info.value.unknown) == (field, unknown)
    assert current == DetectorConfig()


def test_partial_updates_merge() -> None:
    config = apply_update(
        DetectorConfig(),
        {
            "min_profit_percentage": {"cycle": 0.5},
            "severity_thresholds": {"medium": 0.2},
            "fee_percentage_by_source": {"forex": 0.002},
            "max_cycle_length": 3,
            "enabled_types": ["cycle", "direct"],
        },
    )
    assert config.min_profit_percentage == {"direct": 0.01, "triangular": 0.01, "cycle": 0.5}
    assert config.severity_thresholds == {"high": 0.5, "medium": 0.2}
    assert config.fee_for("forex") == pytest.approx(0.00002)
    assert config.fee_for("binance") == pytest.approx(0.001)
    assert config.enabled_types == ("direct", "cycle")
    assert apply_update(config, {"min_profit_percentage": 0.3}).min_profit_percentage == dict.fromkeys(
        ("direct", "triangular", "cycle"), 0.3
    )


def test_round_trip_through_storage() -> None:
    config = apply_update(DetectorConfig(), {"max_quote_age_ms": 1234, "default_fee_percentage": 0.2})
    assert from_stored(config.as_dict()) == config


@pytest.mark.parametrize(
    ("spread", "severity"), [(0.6, "high"), (0.5, "high"), (0.2, "medium"), (0.05, "low")]
)
def test_severity(spread: float, severity: str) -> None:
    assert DetectorConfig().severity(spread) == severity


README = (Path(__file__).resolve().parents[4] / "README.md").read_text()


def test_every_field_is_a_declared_option_and_the_answer_lists_them_in_order() -> None:
    """One declaration per option: a field without one would be neither validated nor documented."""
    names = [f.name for f in dataclasses.fields(DetectorConfig)]
    assert list(declared(DetectorConfig)) == names
    assert list(DetectorConfig().as_dict()) == names


def test_the_readme_table_is_the_generated_one() -> None:
    assert markdown_table() in README


def test_get_config_answer_is_plain_json_of_the_defaults() -> None:
    assert DetectorConfig().as_dict() == {
        "default_fee_percentage": 0.1,
        "fee_percentage_by_source": {},
        "min_profit_percentage": {"direct": 0.01, "triangular": 0.01, "cycle": 0.02},
        "max_cycle_length": 4,
        "max_quote_age_ms": 10_000,
        "epsilon": 1e-9,
        "severity_thresholds": {"high": 0.5, "medium": 0.1},
        "update_threshold_percentage": 0.02,
        "close_margin_percentage": 0.005,
        "enabled_types": ["direct", "triangular", "cycle"],
        "max_new_signals_per_tick": 20,
        "suppress_dominated": True,
    }


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"suppress_dominated": 1}, "suppress_dominated"),
        ({"update_threshold_percentage": 101}, "update_threshold_percentage"),
        ({"close_margin_percentage": -1}, "close_margin_percentage"),
        ({"severity_thresholds": [0.5]}, "severity_thresholds"),
        ({"min_profit_percentage": [1]}, "min_profit_percentage"),
        ({"fee_percentage_by_source": {"": 0.1}}, "fee_percentage_by_source"),
        ({"max_quote_age_ms": 86_400_001}, "max_quote_age_ms"),
    ],
)
def test_every_kind_refuses_what_it_does_not_take(update: dict, field: str) -> None:
    with pytest.raises(ConfigValidationError) as info:
        apply_update(DetectorConfig(), update)
    assert (info.value.field, info.value.unknown) == (field, False)


def test_an_unknown_option_is_refused_before_any_value() -> None:
    with pytest.raises(ConfigValidationError) as info:
        apply_update(DetectorConfig(), {"max_cycle_length": 0, "zzz": 1})
    assert (info.value.field, info.value.unknown) == ("zzz", True)
    assert "known: default_fee_percentage, fee_percentage_by_source" in info.value.reason

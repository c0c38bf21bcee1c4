"""The original ASCEP config keys: answered beside ours, accepted as updates, never a second value."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.arbitrage.aliases import AliasConflict, resolve_aliases, with_aliases
from ascep.arbitrage.config import ConfigValidationError, DetectorConfig, apply_update
from ascep.arbitrage.detector import Opportunity
from ascep.arbitrage.graph import Edge
from ascep.arbitrage.lifecycle import SignalTracker


def updated(update: dict[str, Any]) -> DetectorConfig:
    current = DetectorConfig()
    return apply_update(current, resolve_aliases(update, current))


def test_get_answers_the_original_keys_with_the_values_of_ours() -> None:
    config = DetectorConfig(min_profit_percentage={"direct": 0.1, "triangular": 0.2, "cycle": 0.3})
    answer = with_aliases(config.as_dict())
    assert answer["cross_currency_threshold"] == 0.1
    assert answer["triangular_threshold"] == 0.2
    assert answer["max_signals_per_cycle"] == 20
    assert answer["min_profit_percentage"] == {"direct": 0.1, "triangular": 0.2, "cycle": 0.3}


def test_original_keys_update_our_options() -> None:
    config = updated(
        {"cross_currency_threshold": 0.15, "triangular_threshold": 0.25, "max_signals_per_cycle": 5}
    )
    assert config.min_profit_percentage == {"direct": 0.15, "triangular": 0.25, "cycle": 0.02}
    assert config.max_new_signals_per_tick == 5


def test_an_alias_merges_into_a_partial_map_given_beside_it() -> None:
    config = updated({"triangular_threshold": 0.3, "min_profit_percentage": {"cycle": 0.5}})
    assert config.min_profit_percentage == {"direct": 0.01, "triangular": 0.3, "cycle": 0.5}


def test_the_answer_of_get_can_be_posted_back_unchanged() -> None:
    body = with_aliases(DetectorConfig(max_new_signals_per_tick=7).as_dict())
    assert updated(body) == DetectorConfig(max_new_signals_per_tick=7)


@pytest.mark.parametrize(
    ("update", "fields"),
    [
        ({"cross_currency_threshold": 0.2, "min_profit_percentage": {"direct": 0.3}},
         ("cross_currency_threshold", "min_profit_percentage.direct")),
        ({"triangular_threshold": 0.2, "min_profit_percentage": 0.3},
         ("triangular_threshold", "min_profit_percentage.triangular")),
        ({"max_signals_per_cycle": 5, "max_new_signals_per_tick": 6},
         ("max_signals_per_cycle", "max_new_signals_per_tick")),
    ],
)  # fmt: skip
def test_an_alias_and_its_option_with_two_values_are_refused_naming_both(
    update: dict[str, Any], fields: tuple[str, str]
) -> None:
    with pytest.raises(AliasConflict) as caught:
        updated(update)
    assert caught.value.fields == fields
    assert caught.value.unknown  # a 400, as a key that cannot be applied
    assert fields[1] in caught.value.reason


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"cross_currency_threshold": "0.1"}, "cross_currency_threshold"),
        ({"triangular_threshold": 101}, "triangular_threshold"),
        ({"max_signals_per_cycle": 0}, "max_signals_per_cycle"),
        ({"max_signals_per_cycle": 2.5}, "max_signals_per_cycle"),
        ({"max_signals_per_cycle": True}, "max_signals_per_cycle"),
    ],
)
def test_a_bad_alias_value_is_named_by_the_alias(update: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        updated(update)
    assert (caught.value.field, caught.value.unknown) == (field, False)


def test_the_other_original_keys_are_still_unknown_options() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        updated({"signal_memory_limit": 100})
    assert caught.value.unknown


# --- max_new_signals_per_tick: what the original max_signals_per_cycle capped ------------------------
def triangle(nodes: tuple[str, str, str], net: float) -> Opportunity:
    legs = tuple(
        Edge(a, b, f"{a}{b}", "test", "sell", 1.0, 1.0, 0.0, 0.0, 1, None)
        for a, b in zip(nodes, (*nodes[1:], nodes[0]), strict=True)
    )
    return Opportunity(f"triangular:{'>'.join(nodes)}", "triangular", nodes, legs, net, net, None)


def test_a_pass_opens_at_most_the_cap_the_most_profitable_first_the_rest_later() -> None:
    tracker = SignalTracker(DetectorConfig(max_new_signals_per_tick=2, suppress_dominated=False))
    found = [
        triangle(("A", "B", "C"), 0.001),
        triangle(("A", "C", "D"), 0.003),
        triangle(("B", "C", "D"), 0.002),
    ]
    first = tracker.reconcile(found, now_ms=1)
    assert sorted(e.state.key for e in first if e.kind == "open") == sorted(o.key for o in found[1:])
    assert tracker.deferred == 1
    second = tracker.reconcile(found, now_ms=2)
    assert [e.state.key for e in second if e.kind == "open"] == [found[0].key]

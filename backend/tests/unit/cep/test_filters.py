"""The where-filter language: every operator, missing fields, nesting, references."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ascep.cep.errors import RuleError
from ascep.cep.filters import compile_filter, is_symbol_pin, symbols_of

EVENT = {"symbol": "BTCUSDT", "price": 100.0, "count": 3, "tags": ["hot", "new"], "note": "big move",
         "ok": True, "nested": {"level": 2}}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("price", "==", 100, True),
        ("price", "!=", 100, False),
        ("price", ">", 99.99, True),
        ("price", ">", 100, False),
        ("price", ">=", 100, True),
        ("price", "<", 100, False),
        ("price", "<=", 100, True),
        ("symbol", "in", ["ETHUSDT", "BTCUSDT"], True),
        ("symbol", "not_in", ["ETHUSDT", "BTCUSDT"], False),
        ("tags", "contains", "hot", True),
        ("note", "contains", "move", True),
        ("note", "contains", "tiny", False),
        ("note", "matches", "^big\\s", True),
        ("note", "matches", "^move", False),
        ("symbol", ">", "ADAUSDT", True),  # strings order as strings
        ("symbol", ">", 5, False),  # never an error, just no match
        ("ok", "==", 1, False),  # a bool is not a number
        ("count", "==", 3.0, True),
        ("nested.level", ">=", 2, True),
        ("tags", "in", ["hot"], False),  # unhashable field value: no match, no error
    ],
)
def test_operators(field: str, op: str, value: Any, expected: bool) -> None:
    assert compile_filter({"field": field, "op": op, "value": value}, "$")(EVENT, None) is expected


@pytest.mark.parametrize("op", ["==", "!=", ">", "in", "not_in", "contains", "matches"])
def test_a_missing_field_never_matches(op: str) -> None:
    value: Any = ["x"] if op in ("in", "not_in") else "x"
    assert compile_filter({"field": "absent", "op": op, "value": value}, "$")(EVENT, None) is False


def test_nesting_and_operator_alias() -> None:
    spec = {"all": [{"field": "price", "operator": ">", "value": 50},
                    {"any": [{"field": "symbol", "op": "==", "value": "ETHUSDT"},
                             {"not": {"field": "count", "op": "<", "value": 3}}]}]}  # fmt: skip
    predicate = compile_filter(spec, "$.where")
    assert predicate(EVENT, None) is True
    assert predicate({**EVENT, "count": 2}, None) is False


def test_references_to_earlier_steps() -> None:
    spec = {"field": "price", "op": "<", "value": {"ref": "first.price", "factor": 0.5, "offset": 10}}
    predicate = compile_filter(spec, "$", ["first"])
    assert predicate({"price": 59}, {"first": {"price": 100}}) is True
    assert predicate({"price": 60}, {"first": {"price": 100}}) is False
    assert predicate({"price": 1}, {"first": {}}) is False
    assert predicate({"price": 1}, None) is False


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"field": "a", "op": "in", "value": {"ref": "first.a"}}, "$.value"),
        ({"field": "a", "op": "==", "value": {"ref": "nodot"}}, "$.value.ref"),
        ({"field": "a", "op": "==", "value": {"ref": "first.a", "factor": "x"}}, "$.value.factor"),
        ({"field": "a", "op": "==", "value": 1, "extra": 1}, "$.extra"),
        ({"all": [{"field": "a", "op": "==", "value": 1}], "field": "b"}, "$"),
        ({"all": []}, "$.all"),
        ({"field": "a", "op": ">", "value": [1]}, "$.value"),
        ({"field": "", "op": "==", "value": 1}, "$.field"),
    ],
)
def test_compile_errors_name_the_path(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_filter(spec, "$", ["first"])
    assert caught.value.path == path


def test_symbol_pins_drive_the_index() -> None:
    pin = {"field": "symbol", "op": "in", "value": ["A", "B"]}
    assert symbols_of(pin) == frozenset({"A", "B"})
    assert is_symbol_pin(pin)
    both = {
        "all": [pin, {"field": "symbol", "op": "==", "value": "A"}, {"field": "price", "op": ">", "value": 1}]
    }
    assert symbols_of(both) == frozenset({"A"})
    assert not is_symbol_pin(both)
    assert symbols_of({"any": [pin]}) is None
    assert symbols_of({"field": "symbol", "op": "!=", "value": "A"}) is None


@pytest.mark.parametrize("length", [26, 5_000])
def test_a_catastrophic_pattern_runs_in_linear_time(length: int) -> None:
    """``^(a+)+$`` against ``a...a!`` took 5 s at 26 characters (doubling per character) with ``re``."""
    predicate = compile_filter({"field": "note", "op": "matches", "value": "^(a+)+$"}, "$.where")
    started = time.perf_counter()
    assert predicate({"note": "a" * length + "!"}, None) is False
    assert time.perf_counter() - started < 0.5  # microseconds with RE2; generous for a loaded machine
    assert predicate({"note": "a" * length}, None) is True


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("(?i)^btc", "BTCUSDT", True),
        ("USDT$", "BTCUSDT", True),
        (r"^\d{3}-\d+$", "123-45", True),
        ("^(?P<base>[A-Z]+)/USD$", "EUR/USD", True),
        ("é", "café", True),
        ("^BTC", "ETHBTC", False),
    ],
)
def test_matches_searches_with_re2_syntax(pattern: str, text: str, expected: bool) -> None:
    predicate = compile_filter({"field": "s", "op": "matches", "value": pattern}, "$")
    assert predicate({"s": text}, None) is expected

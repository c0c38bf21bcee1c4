"""Rule validation: the original ASCEP shape, defaults, and precise errors with JSON paths."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ascep.cep.errors import RuleValidationError
from ascep.cep.patterns import default_patterns
from ascep.cep.rules import MAX_RULE_NESTING, canonical, validate_rule
from ascep.cep.schema import rule_schema
from unit.cep.helpers import rule

ORIGINAL = {
    "name": "BTC spike",
    "pattern": "price_spike",
    "action": "alert",
    "conditions": {"symbol": "BTCUSDT", "threshold": 5.0, "timeframe": 300},
    "enabled": True,
}


def test_original_ascep_shape_is_accepted_and_normalised() -> None:
    spec = canonical(ORIGINAL)
    assert spec["conditions"] == {"percent": 5.0, "window": 300}
    assert spec["where"] == {"field": "symbol", "op": "==", "value": "BTCUSDT"}
    assert spec["action"] == [{"type": "emit_alert"}]
    assert spec["stream"] == "prices"
    assert spec["partition_by"] == ["symbol"]
    assert spec["severity"] == "medium"
    compiled = validate_rule(ORIGINAL)
    assert compiled.symbols == frozenset({"BTCUSDT"})
    assert compiled.pattern.window_ms == 300_000  # type: ignore[attr-defined]


def test_original_shape_with_symbols_list_and_object_action() -> None:
    spec = canonical({"name": "arb", "pattern": "arbitrage_opportunity", "enabled": False,
                      "action": {"type": "log", "level": "warning"},
                      "conditions": {"min_spread": 0.4, "symbols": ["BTCUSDT"]}})  # fmt: skip
    assert spec["stream"] == "signals"
    assert spec["partition_by"] == []
    assert spec["conditions"] == {"min_spread_percentage": 0.4}
    assert spec["where"] == {"field": "symbol", "op": "in", "value": ["BTCUSDT"]}
    assert spec["action"] == [{"type": "log", "level": "warning"}]


@pytest.mark.parametrize("pattern", default_patterns(), ids=lambda p: p.name)
def test_every_pattern_example_is_valid(pattern: Any) -> None:
    validate_rule(rule(pattern.name, pattern.example, stream=pattern.default_stream))


def test_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(rule_schema())


def test_server_fields_are_accepted_and_ignored() -> None:
    spec = canonical({**ORIGINAL, "rule_id": 9, "created_at": "x", "version": 3, "error": None})
    assert "rule_id" not in spec


PLAIN = rule("threshold", {"field": "price", "op": ">", "value": 1})
#: Channels services and the dashboard trust, the engine's inputs, and near misses of the prefix.
FORBIDDEN_CHANNELS = ("service_status", "task_updates", "price_updates", "cep_alerts",
                      "ascep:cep:rule_changes", "arbitrage_signals", "cep:", "xcep:a")  # fmt: skip
LOOKBEHIND = {"field": "s", "op": "matches", "value": "(?<=x)y"}

INVALID = [
    ([], "$", "a rule must be a JSON object"),
    ({"pattern": "threshold", "conditions": {}}, "$.conditions.field", "is required"),
    ({"name": "x", "conditions": {}}, "$.pattern", "is required"),
    ({**ORIGINAL, "pattern": "nope"}, "$.pattern", "needs conditions.custom_condition"),
    ({**ORIGINAL, "pattern": "two words"}, "$.pattern", "a custom pattern name is a letter"),
    ({**ORIGINAL, "pattern": 5}, "$.pattern", "is not valid"),
    ({**ORIGINAL, "conditions": {"percent": 0, "window": 1}}, "$.conditions.percent", "less than or equal"),
    ({**ORIGINAL, "conditions": {"percent": 1, "window": "ten"}}, "$.conditions.window", "not valid"),
    ({**ORIGINAL, "conditions": {"percent": 1, "window": 1, "wat": 1}}, "$.conditions.wat", "unknown field"),
    ({**ORIGINAL, "colour": "red"}, "$.colour", "unknown field"),
    ({**ORIGINAL, "stream": "trades"}, "$.stream", "is not one of"),
    ({**ORIGINAL, "cooldown": -1}, "$.cooldown", "not valid"),
    ({**PLAIN, "where": {"field": "price", "op": "~", "value": 1}}, "$.where.op", "is not one of"),
    (
        {**PLAIN, "where": {"any": [{"field": "p", "op": "matches", "value": "("}]}},
        "$.where.any[0].value",
        "invalid regular expression",
    ),
    (
        {**PLAIN, "where": {"all": [{"field": "p", "op": "in", "value": 3}]}},
        "$.where.all[0].value",
        "needs a list",
    ),
    (
        {**PLAIN, "where": {"field": "p", "op": ">", "value": 1, "any": [PLAIN["conditions"]]}},
        "$.where",
        "exactly one",
    ),
    (
        {**PLAIN, "where": {"field": "p", "op": ">", "value": {"ref": "first.price"}}},
        "$.where.value.ref",
        "unknown step",
    ),
    ({**ORIGINAL, "action": [{"type": "webhook"}]}, "$.action[0].url", "is required"),
    ({**ORIGINAL, "action": [{"type": "webhook", "url": "ftp://x"}]}, "$.action[0].url", "does not match"),
    ({**ORIGINAL, "action": "explode"}, "$.action[0].type", "is not one of"),
    (
        {**ORIGINAL, "action": [{"type": "publish", "channel": "a b"}]},
        "$.action[0].channel",
        "does not match",
    ),
    *[
        (
            {**ORIGINAL, "action": [{"type": "log"}, {"type": "publish", "channel": channel}]},
            "$.action[1].channel",
            "only on channels starting with 'cep:'",
        )
        for channel in FORBIDDEN_CHANNELS
    ],
    (
        {**PLAIN, "where": {"field": "note", "op": "matches", "value": "(a)\\1"}},
        "$.where.value",
        "invalid regular expression (RE2 syntax): invalid escape sequence",
    ),
    (
        {**PLAIN, "where": {"not": {"field": "note", "op": "matches", "value": "^(?=a)"}}},
        "$.where.not.value",
        "RE2 syntax",
    ),
    (
        {**PLAIN, "where": {"field": "note", "op": "matches", "value": "a" * 513}},
        "$.where.value",
        "limited to 512 characters",
    ),
    (
        rule("sequence", {"first": LOOKBEHIND, "then": {"field": "a", "op": "==", "value": 1}, "within": 5}),
        "$.conditions.steps[0].where.value",
        "RE2 syntax",
    ),
    (rule("trend_reversal", {"short": 20, "long": 5}), "$.conditions.short", "smaller than long"),
    (
        rule("aggregate", {"function": "avg", "count": 5, "having": {"op": ">", "value": 1}}),
        "$.conditions.field",
        "is required",
    ),
    (
        rule("aggregate", {"function": "count", "having": {"op": ">", "value": 1}}),
        "$.conditions.window",
        "exactly one",
    ),
    (
        rule("aggregate", {"function": "count", "count": 2, "having": {"op": ">"}}),
        "$.conditions.having.value",
        "is required",
    ),
    (
        rule("sequence", {"steps": [{"where": {"field": "a", "op": "==", "value": 1}}], "within": 5}),
        "$.conditions.steps",
        "too short",
    ),
    (
        rule(
            "sequence",
            {
                "first": {"field": "a", "op": "==", "value": 1},
                "then": {"field": "a", "op": "==", "value": {"ref": "then.a"}},
                "within": 5,
            },
        ),
        "$.conditions.steps[1].where.value.ref",
        "unknown step 'then'",
    ),
    (
        rule(
            "absence",
            {"first": {"field": "a", "op": "==", "value": 1}, "then": {"field": "a"}, "within": "1m"},
        ),
        "$.conditions.then.op",
        "is required",
    ),
    (
        rule("volume_surge", {"multiplier": 2, "periods": 3, "window": "1m"}),
        "$.conditions.window",
        "not both",
    ),
]


@pytest.mark.parametrize(("raw", "path", "message"), INVALID, ids=[i[1] for i in INVALID])
def test_invalid_rules_name_the_offending_field(raw: Any, path: str, message: str) -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule(raw)
    paths = {e.path: e.message for e in caught.value.errors}
    assert path in paths, caught.value.details()
    assert message in paths[path]
    assert caught.value.details()["path"] == caught.value.errors[0].path


def nested_filter(levels: int, combinator: str = "not") -> dict[str, Any]:
    spec: dict[str, Any] = {"field": "price", "op": ">", "value": 1}
    for _ in range(levels):
        spec = {combinator: spec} if combinator == "not" else {combinator: [spec]}
    return spec


@pytest.mark.parametrize("levels", [1_000, 20_000])
@pytest.mark.parametrize("combinator", ["not", "all"])
def test_a_deep_where_is_refused_before_the_schema_recurses(levels: int, combinator: str) -> None:
    with pytest.raises(RuleValidationError) as caught:
        validate_rule({**PLAIN, "where": nested_filter(levels, combinator)})
    assert caught.value.path.startswith("$.where.")
    assert f"at most {MAX_RULE_NESTING} levels" in caught.value.errors[0].message


def test_filters_nest_at_most_eight_levels() -> None:
    validate_rule({**PLAIN, "where": nested_filter(8, "all")})
    with pytest.raises(RuleValidationError) as caught:
        validate_rule({**PLAIN, "where": nested_filter(9, "all")})
    assert "filters nest at most 8 levels" in caught.value.errors[0].message


def test_a_deep_where_in_a_sequence_step_is_refused() -> None:
    conditions = {"first": nested_filter(5_000), "then": {"field": "a", "op": "==", "value": 1}, "within": 5}
    with pytest.raises(RuleValidationError) as caught:
        validate_rule(rule("sequence", conditions))
    assert caught.value.path.startswith("$.conditions.")


@pytest.mark.parametrize("channel", ["cep:my_alerts", "cep:desk.eu-1"])
def test_rules_publish_in_their_own_namespace(channel: str) -> None:
    compiled = validate_rule({**PLAIN, "action": [{"type": "publish", "channel": channel}]})
    assert compiled.actions[0]["channel"] == channel

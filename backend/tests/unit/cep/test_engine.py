"""The engine's own duties: indexing, partitions, event time, isolation of bad events and rules."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.cep.engine import Engine
from ascep.cep.limits import Limits
from ascep.cep.replay import replay
from ascep.cep.rules import validate_rule
from unit.cep.helpers import rule, tick

ABOVE = rule("threshold", {"field": "price", "op": ">", "value": 100, "mode": "level"})


def compiled(spec: dict[str, Any], rule_id: int = 1, version: int = 1, limits: Limits | None = None):
    return validate_rule(spec, limits, rule_id=rule_id, version=version)


def test_rules_are_indexed_by_stream_and_symbol() -> None:
    engine = Engine()
    engine.upsert(compiled({**ABOVE, "where": {"field": "symbol", "op": "in", "value": ["BTCUSDT"]}}, 1))
    engine.upsert(compiled(ABOVE, 2))
    engine.upsert(compiled({**ABOVE, "stream": "signals", "partition_by": []}, 3))
    for i in range(3):
        engine.process("prices", tick(i, 101, "ETHUSDT"))
    engine.process("prices", tick(9, 101, "BTCUSDT"))
    evaluated = {rt.rule.rule_id: rt.stats.evaluated for rt in engine.runtimes()}
    assert evaluated == {1: 1, 2: 4, 3: 0}


def test_malformed_events_are_counted_and_skipped() -> None:
    engine = Engine()
    engine.upsert(compiled(ABOVE))
    for bad in (["not", "an", "object"], {"symbol": "X", "price": 101, "ts": "yesterday"}, None):
        assert engine.process("prices", bad) == []
    assert engine.stats.malformed == 3
    assert len(engine.process("prices", tick(1, 101))) == 1  # still running


def test_events_without_a_partition_field_do_not_match() -> None:
    engine = Engine()
    engine.upsert(compiled(ABOVE))
    assert engine.process("prices", {"price": 150, "ts": 1}) == []
    assert engine.process("prices", {"symbol": ["a"], "price": 150, "ts": 1}) == []


def test_a_rule_that_raises_is_disabled_and_the_others_go_on() -> None:
    errors: list[tuple[int, str]] = []
    engine = Engine(on_rule_error=lambda r, e: errors.append((r.rule_id, e)))
    broken = compiled(ABOVE, 1)

    def boom(*_args: Any) -> None:
        raise ZeroDivisionError("bad maths")

    broken.pattern.on_event = boom  # type: ignore[method-assign]
    engine.upsert(broken)
    engine.upsert(compiled(ABOVE, 2))
    first = engine.process("prices", tick(1, 101))
    second = engine.process("prices", tick(2, 101))
    assert [f.rule.rule_id for f in first + second] == [2, 2]
    assert errors == [(1, "ZeroDivisionError: bad maths")]
    runtime = engine.runtime(1)
    assert runtime is not None
    assert runtime.error == "ZeroDivisionError: bad maths"
    assert runtime.stats.evaluated == 1


def test_small_disorder_is_tolerated_larger_is_late() -> None:
    r = rule("aggregate", {"function": "count", "window": "60s", "having": {"op": ">=", "value": 3}})
    result = replay(r, [tick(10_000, 1), tick(8_500, 1), tick(5_000, 1), tick(10_500, 1)])
    assert [a["ts"] for a in result.matches] == [10_500]  # 8 500 counted, 5 000 (5 s late) dropped
    assert result.late == 1


def test_partitions_are_bounded_least_recently_used_evicted() -> None:
    engine = Engine(Limits(max_partitions=2))
    engine.upsert(compiled(rule("threshold", {"field": "price", "op": ">", "value": 100})))
    for i, symbol in enumerate(["A", "B", "A", "C"]):
        engine.process("prices", tick(i, 99, symbol))
    runtime = engine.runtime(1)
    assert runtime is not None
    assert list(runtime.partitions) == ["A", "C"]


def test_windows_are_bounded() -> None:
    r = rule("aggregate", {"function": "count", "window": "1h", "having": {"op": ">=", "value": 6}})
    result = replay(r, [tick(i, 1) for i in range(10)], Limits(max_window_events=5))
    assert result.matches == []


def test_upsert_keeps_newer_versions_and_resets_state_on_change() -> None:
    engine = Engine()
    assert engine.upsert(compiled(ABOVE, 1, version=2))
    assert not engine.upsert(compiled(ABOVE, 1, version=1))
    assert not engine.upsert(compiled(ABOVE, 1, version=2))
    assert engine.upsert(compiled({**ABOVE, "enabled": False}, 1, version=3))
    assert engine.process("prices", tick(1, 101)) == []
    assert engine.remove(1)
    assert engine.runtimes() == []


def test_alerts_never_loop() -> None:
    engine = Engine()
    conditions = {"field": "severity_level", "op": ">=", "value": 0, "mode": "level"}
    engine.upsert(compiled(rule("threshold", conditions, stream="alerts", partition_by=[]), 7))
    own = {"rule_id": 7, "severity_level": 1, "ts": 1, "depth": 0}
    other = {"rule_id": 8, "severity_level": 1, "ts": 2, "depth": 0}
    deep = {"rule_id": 8, "severity_level": 1, "ts": 3, "depth": 3}
    assert engine.process("alerts", own) == []
    fired = engine.process("alerts", other)
    assert [f.alert["depth"] for f in fired] == [1]
    assert engine.process("alerts", deep) == []
    assert engine.stats.loops_dropped == 1


def test_alert_payload_and_message_template() -> None:
    spec = {**ABOVE, "severity": "high",
            "action": [{"type": "emit_alert", "message": "{symbol} at {price} ({rule}) {nope}"}]}  # fmt: skip
    [alert] = replay(spec, [tick(5, 101.5)]).matches
    assert alert["message"] == "BTCUSDT at 101.5 (test threshold) {nope}"
    assert alert["severity"] == "high"
    assert alert["partition"] == {"symbol": "BTCUSDT"}
    assert alert["matched_events"] == [tick(5, 101.5)]
    assert alert["timestamp"] == "1970-01-01T00:00:00.005Z"
    assert set(alert) >= {"rule_id", "rule", "pattern", "stream", "values", "ts"}


def test_replay_is_deterministic_and_pure() -> None:
    events = [tick(i * 1000, 100 + (i % 7)) for i in range(50)]
    spec = rule("price_spike", {"percent": 3, "window": "5s"})
    assert replay(spec, events).matches == replay(spec, events).matches


@pytest.mark.parametrize("disabled", [True, False])
def test_replay_ignores_enabled(disabled: bool) -> None:
    assert len(replay({**ABOVE, "enabled": not disabled}, [tick(0, 101)]).matches) == 1


def test_replay_pauses_between_chunks_without_changing_results() -> None:
    calls: list[int] = []
    events = [tick(i, 101) for i in range(1_200)]
    paused = replay(ABOVE, events, pause=lambda: calls.append(1))
    assert len(calls) == 2  # after 500 and 1 000 events
    assert paused.matches == replay(ABOVE, events).matches

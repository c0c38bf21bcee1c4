"""``Engine.report()``: the typed ``GET /stats`` report, built by the engine from its own state."""

from __future__ import annotations

from typing import Any

from ascep.cep.engine import Engine
from ascep.cep.report import EngineReport, RuleReport
from ascep.cep.rules import validate_rule
from unit.cep.helpers import rule, tick

ABOVE = rule("threshold", {"field": "price", "op": ">", "value": 100, "mode": "level"})


def loaded(*specs: dict[str, Any]) -> Engine:
    engine = Engine()
    for rule_id, spec in enumerate(specs, start=1):
        engine.upsert(validate_rule(spec, rule_id=rule_id, version=1))
    return engine


def test_the_report_counts_the_engine_and_every_rule() -> None:
    engine = loaded(ABOVE, {**ABOVE, "enabled": False})
    engine.process("prices", tick(1, 101, "BTCUSDT"))
    engine.process("prices", tick(2, 99, "ETHUSDT"))
    report = engine.report()
    assert isinstance(report, EngineReport)
    assert (report.rules_loaded, report.rules_active) == (2, 1)
    first, second = report.rules
    assert isinstance(first, RuleReport)
    assert (first.rule_id, first.version, first.pattern, first.stream) == (1, 1, "threshold", "prices")
    assert (first.active, first.error, first.partitions) == (True, None, 2)
    assert (first.counters["events_evaluated"], first.counters["matches"]) == (2, 1)
    assert (second.rule_id, second.enabled, second.active, second.partitions) == (2, False, False, 0)


def test_a_disabled_rule_reports_its_error() -> None:
    engine = loaded(ABOVE)
    runtime = engine.runtime(1)
    assert runtime is not None

    def boom(*_args: Any) -> None:
        raise ZeroDivisionError("bad maths")

    runtime.rule.pattern.on_event = boom  # type: ignore[method-assign]
    engine.process("prices", tick(1, 101))
    (only,) = engine.report().rules
    assert (only.active, only.error) == (False, "ZeroDivisionError: bad maths")
    assert engine.report().rules_active == 0


def test_as_dict_is_the_stats_body_the_view_serialises() -> None:
    engine = loaded(ABOVE)
    engine.process("prices", tick(1, 101))
    body = engine.report().as_dict()
    assert set(body) == {"engine", "rules"}
    assert body["engine"]["events"] == 1
    assert (body["engine"]["rules_loaded"], body["engine"]["rules_active"]) == (1, 1)
    (row,) = body["rules"]
    assert row["name"] == "test threshold"
    assert row["matches"] == 1
    assert row["suppressed_by_cooldown"] == 0

"""Run one rule over a list of events, deterministically and without side effects.

Used by ``POST /rules/test``, ``POST /rules/<id>/test`` and the Celery ``backtest_rule`` task:
a fresh engine holding only this rule, fed the events in order as its stream, then flushed (the
sample counts as complete up to its newest event, so pending ``absence`` timers that are due
fire). Events without a time take the newest time seen so far (0 at first) — never the wall
clock — so the same input always gives the same output. No Redis, no actions run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ascep.cep.engine import Engine
from ascep.cep.limits import Limits
from ascep.cep.rules import validate_rule

MAX_REPLAY_EVENTS = 100_000
PAUSE_EVERY = 500


@dataclass
class ReplayResult:
    matches: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    malformed: int = 0
    late: int = 0
    suppressed: int = 0
    error: str | None = None  # the rule raised and was disabled at this point

    def as_dict(self) -> dict[str, Any]:
        return {
            "matches": self.matches,
            "count": len(self.matches),
            "events": self.events,
            "malformed_events": self.malformed,
            "late_events": self.late,
            "suppressed_by_cooldown": self.suppressed,
            "error": self.error,
        }


def replay(
    rule: Mapping[str, Any],
    events: Iterable[Any],
    limits: Limits | None = None,
    *,
    until: int | None = None,
    pause: Callable[[], object] | None = None,
) -> ReplayResult:
    """Full replay report; raises :class:`~ascep.cep.errors.RuleValidationError` for a bad rule.

    ``until`` (epoch ms): after the events, let event time run to this instant so ``absence``
    timers up to it fire even without later events. ``pause`` is called every
    :data:`PAUSE_EVERY` events: the service passes ``time.sleep(0)`` so a long test request lets
    the live engine (same OS thread under eventlet) run in between.
    """
    raw = dict(rule)
    rule_id = raw.get("rule_id") if isinstance(raw.get("rule_id"), int) else 0
    raw["enabled"] = True  # testing a disabled rule still shows what it would do
    compiled = validate_rule(raw, limits, rule_id=rule_id or 0)
    newest = [0]
    engine = Engine(limits, clock=lambda: newest[0])
    engine.upsert(compiled)
    result = ReplayResult()
    for event in events:
        result.events += 1
        if result.events > MAX_REPLAY_EVENTS:
            raise ValueError(f"at most {MAX_REPLAY_EVENTS} events per replay")
        ts = event.get("ts") if isinstance(event, Mapping) else None
        if isinstance(ts, int | float) and not isinstance(ts, bool) and ts > newest[0]:
            newest[0] = int(ts)
        result.matches.extend(f.alert for f in engine.process(compiled.stream, event))
        if pause is not None and result.events % PAUSE_EVERY == 0:
            pause()
    result.matches.extend(f.alert for f in engine.flush())
    if until is not None:
        result.matches.extend(f.alert for f in engine.advance(until))
    runtime = engine.runtime(compiled.rule_id)
    assert runtime is not None
    result.malformed = engine.stats.malformed
    result.late = runtime.stats.late
    result.suppressed = runtime.stats.suppressed
    result.error = runtime.error
    return result


def replay_rule(rule: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``cep_alert`` payloads ``rule`` would produce on ``events``, in order.

    Deterministic and side-effect free; raises
    :class:`~ascep.cep.errors.RuleValidationError` (``.details()`` has the JSON paths) for a bad rule.
    """
    return replay(rule, events).matches

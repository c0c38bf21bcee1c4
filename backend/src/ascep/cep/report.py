"""What ``GET /stats`` reports: the engine's counters and each loaded rule's, as typed values.

The engine builds it (:meth:`ascep.cep.engine.Engine.report`) because only the engine knows its
internals (runtimes, partitions, errors); the view just adds the runner's subscription state and
serialises. Plain data, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RuleReport:
    rule_id: int
    version: int
    name: str
    pattern: str
    stream: str
    enabled: bool
    #: Enabled and not disabled by an error.
    active: bool
    #: Why the engine disabled the rule, or why it could not be loaded (``spec.error``).
    error: str | None
    partitions: int
    #: ``RuleStats.as_dict()``: evaluations, matches, cooldown, late events, timings.
    counters: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "version": self.version,
            "name": self.name,
            "pattern": self.pattern,
            "stream": self.stream,
            "enabled": self.enabled,
            "active": self.active,
            "error": self.error,
            "partitions": self.partitions,
            **self.counters,
        }


@dataclass(frozen=True, slots=True)
class EngineReport:
    #: ``EngineStats.as_dict()``: events, rate, malformed events, dropped loops, alerts, errors.
    counters: Mapping[str, Any]
    rules: tuple[RuleReport, ...]

    @property
    def rules_loaded(self) -> int:
        return len(self.rules)

    @property
    def rules_active(self) -> int:
        return sum(1 for r in self.rules if r.active)

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": {**self.counters, "rules_loaded": self.rules_loaded, "rules_active": self.rules_active},
            "rules": [r.as_dict() for r in self.rules],
        }

"""A loaded rule as the engine runs it: partitions, statistics, the error that disabled it.

The fields the hot path reads (``key_field``, ``where``) are precomputed here once per load, so
:meth:`ascep.cep.engine.Engine.process` does as little as possible per event and rule.
"""

from __future__ import annotations

from typing import Any

from ascep.cep.partitions import Partition, partition_key
from ascep.cep.report import RuleReport
from ascep.cep.rules import CompiledRule
from ascep.cep.stats import RuleStats


class RuleRuntime:
    """A loaded rule with its partitions, statistics and (when it broke) its error."""

    __slots__ = ("error", "key_field", "key_of", "partitions", "rule", "stats", "where")

    def __init__(self, rule: CompiledRule) -> None:
        self.rule = rule
        self.partitions: dict[Any, Partition] = {}
        self.stats = RuleStats()
        self.error: str | None = None
        self.key_of = partition_key(rule.partition_by)
        fields = rule.partition_by
        #: the one plain partition field, read inline on the hot path (else ``key_of`` is used)
        self.key_field = fields[0] if len(fields) == 1 and "." not in fields[0] else None
        #: ``where`` minus what the symbol index already guarantees
        self.where = None if rule.where_is_symbol_pin else rule.where

    @property
    def active(self) -> bool:
        return self.rule.enabled and self.error is None

    def report(self) -> RuleReport:
        rule = self.rule
        return RuleReport(
            rule_id=rule.rule_id,
            version=rule.version,
            name=rule.name,
            pattern=rule.spec["pattern"],
            stream=rule.stream,
            enabled=rule.enabled,
            active=self.active,
            error=self.error or (rule.spec.get("error") or {}).get("message"),
            partitions=len(self.partitions),
            counters=self.stats.as_dict(),
        )

"""The rule engine: every event of a stream against every enabled rule that concerns it.

Plain Python, no I/O: events in, :class:`Firing` (rule + ``cep_alert`` payload) out; the caller
runs the actions. What the engine owns, so that patterns stay small:

* an index of rules by stream, and by symbol for rules whose ``where`` pins ``symbol`` — an
  event only meets the rules that can match it;
* per-rule, per-partition state (``partition_by``), at most ``max_partitions`` partitions per rule
  (least recently used evicted);
* event time (``ts``): events up to ``max_disorder_ms`` older than the newest of their partition
  are evaluated, older ones are counted as late and skipped; timers fire on the stream's
  watermark (newest ``ts`` minus the tolerance) or on :meth:`Engine.advance`;
* cooldowns per partition (in event time);
* isolation: a malformed event is counted and skipped; a rule that raises is disabled, its error
  recorded and reported through ``on_rule_error`` — the other rules go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ascep.cep.alert_payload import build_alert
from ascep.cep.fields import MISSING, BadEventTime, event_time
from ascep.cep.limits import Limits
from ascep.cep.partitions import Partition, key_is_unhashable
from ascep.cep.patterns import Match
from ascep.cep.report import EngineReport
from ascep.cep.rule_runtime import RuleRuntime
from ascep.cep.rules import CompiledRule
from ascep.cep.stats import EngineStats
from ascep.common.timeutil import now_ms

logger = logging.getLogger(__name__)

SWEEP_EVERY_MS = 100  # how far a stream's watermark moves before timers are checked again
TIMING_SAMPLE_MASK = 7  # time one evaluation in 8: the clock calls would cost more than many rules
_perf_ns = time.perf_counter_ns


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule matched: the alert payload and the rule whose actions must run."""

    rule: CompiledRule
    alert: dict[str, Any]


class Engine:
    def __init__(
        self,
        limits: Limits | None = None,
        *,
        clock: Callable[[], int] = now_ms,
        on_rule_error: Callable[[CompiledRule, str], None] | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self.on_rule_error = on_rule_error
        self.stats = EngineStats()
        self._rules: dict[int, RuleRuntime] = {}
        self._index: dict[str, tuple[list[RuleRuntime], dict[str, list[RuleRuntime]]]] = {}
        self._timers: dict[str, list[RuleRuntime]] = {}
        self._stream_max_ts: dict[str, int] = {}
        self._swept_at: dict[str, int] = {}

    # --- rules -----------------------------------------------------------------------------
    def upsert(self, rule: CompiledRule) -> bool:
        """Load or replace a rule (its state starts afresh); ignored if not newer than loaded."""
        current = self._rules.get(rule.rule_id)
        if current is not None and current.rule.version >= rule.version and rule.version:
            return False
        self._rules[rule.rule_id] = RuleRuntime(rule)
        self._reindex()
        return True

    def remove(self, rule_id: int) -> bool:
        found = self._rules.pop(rule_id, None) is not None
        if found:
            self._reindex()
        return found

    def replace_all(self, rules: Iterable[CompiledRule]) -> None:
        """Load exactly ``rules``, keeping the state of those whose version did not change."""
        wanted = {r.rule_id: r for r in rules}
        for rule_id in list(self._rules):
            if rule_id not in wanted:
                del self._rules[rule_id]
        for rule in wanted.values():
            current = self._rules.get(rule.rule_id)
            if current is None or current.rule.version != rule.version or not rule.version:
                self._rules[rule.rule_id] = RuleRuntime(rule)
        self._reindex()

    def rule_count(self) -> int:
        return len(self._rules)

    def runtimes(self) -> list[RuleRuntime]:
        return [self._rules[k] for k in sorted(self._rules)]

    def runtime(self, rule_id: int) -> RuleRuntime | None:
        return self._rules.get(rule_id)

    def report(self) -> EngineReport:
        """The engine's counters and every loaded rule's (what ``GET /stats`` shows)."""
        return EngineReport(self.stats.as_dict(), tuple(rt.report() for rt in self.runtimes()))

    def _reindex(self) -> None:
        index: dict[str, tuple[list[RuleRuntime], dict[str, list[RuleRuntime]]]] = {}
        timers: dict[str, list[RuleRuntime]] = {}
        for rt in self.runtimes():
            if not rt.active:
                continue
            any_symbol, by_symbol = index.setdefault(rt.rule.stream, ([], {}))
            if rt.rule.symbols is None:
                any_symbol.append(rt)
            else:
                for symbol in rt.rule.symbols:
                    by_symbol.setdefault(symbol, []).append(rt)
            if rt.rule.pattern.uses_timers:
                timers.setdefault(rt.rule.stream, []).append(rt)
        self._index = index
        self._timers = timers

    # --- events ----------------------------------------------------------------------------
    def process(self, stream: str, event: Any) -> list[Firing]:
        """Evaluate one event of ``stream``; return what fired (possibly nothing)."""
        self.stats.events += 1
        if not isinstance(event, Mapping):
            self.stats.malformed += 1
            return []
        ts = event.get("ts")
        if type(ts) is not int:  # the common case needs no parsing
            try:
                ts = event_time(event)
            except BadEventTime:
                self.stats.malformed += 1
                return []
            if ts is None:
                ts = self.clock()
        depth = 0
        if stream == "alerts":
            raw_depth = event.get("depth", 0)
            depth = raw_depth if isinstance(raw_depth, int) and not isinstance(raw_depth, bool) else 0
            if depth >= self.limits.max_alert_depth:
                self.stats.loops_dropped += 1
                return []
        entry = self._index.get(stream)
        firings: list[Firing] = []
        if entry is not None:
            any_symbol, by_symbol = entry
            pinned = by_symbol.get(event.get("symbol")) if by_symbol else None  # type: ignore[arg-type]
            candidates = (any_symbol + pinned if any_symbol else pinned) if pinned else any_symbol
            if stream == "alerts":  # never feed a rule its own alerts
                candidates = [rt for rt in candidates if rt.rule.rule_id != event.get("rule_id")]
            disorder = self.limits.max_disorder_ms
            # The body of this loop is the engine's hot path (events x rules): kept inline on
            # purpose, a method call per rule costs more than most patterns.
            for rt in candidates:
                stats = rt.stats
                stats.evaluated += 1
                timed = not stats.evaluated & TIMING_SAMPLE_MASK
                started = _perf_ns() if timed else 0
                try:
                    where = rt.where
                    if where is not None and not where(event, None):
                        continue
                    field = rt.key_field
                    key = event.get(field, MISSING) if field is not None else rt.key_of(event)
                    if key is MISSING:
                        continue
                    partition = rt.partitions.get(key)
                    if partition is None:
                        partition = self._new_partition(rt, key)
                    last = partition.max_ts
                    if last is None or ts > last:
                        partition.max_ts = ts
                    elif ts < last - disorder:
                        stats.late += 1
                        continue
                    match = rt.rule.pattern.on_event(partition.state, event, ts)
                    if match is not None:
                        self._fire(rt, stream, partition, match, ts, depth, firings)
                except TypeError as exc:
                    if not key_is_unhashable(exc):
                        self._disable(rt, exc)
                    # else: a list/object where the partition key should be: not this rule's event
                except Exception as exc:
                    self._disable(rt, exc)
                finally:
                    if timed:
                        stats.record_time(_perf_ns() - started)
        if ts > self._stream_max_ts.get(stream, ts - 1):
            self._stream_max_ts[stream] = ts
            if stream in self._timers:
                watermark = ts - self.limits.max_disorder_ms
                if watermark >= self._swept_at.get(stream, watermark - SWEEP_EVERY_MS) + SWEEP_EVERY_MS:
                    firings.extend(self._sweep(self._timers[stream], watermark, stream))
        return firings

    def _new_partition(self, rt: RuleRuntime, key: Any) -> Partition:
        """Create a partition; when full, evict the tenth that saw events least recently."""
        partitions = rt.partitions
        if len(partitions) >= self.limits.max_partitions:
            by_age = sorted(partitions.items(), key=lambda kv: kv[1].max_ts or 0)
            for old_key, _ in by_age[: max(1, len(by_age) // 10)]:
                del partitions[old_key]
        fields = rt.rule.partition_by
        keys = key if len(fields) > 1 else (key,)
        partition = Partition(rt.rule.pattern.new_state(), dict(zip(fields, keys, strict=False)))
        partitions[key] = partition
        return partition

    def _fire(
        self,
        rt: RuleRuntime,
        stream: str,
        partition: Partition,
        match: Match,
        ts: int,
        depth: int,
        out: list[Firing],
    ) -> None:
        rule = rt.rule
        at = match.ts if match.ts is not None else ts
        if partition.last_fired is not None and at - partition.last_fired < rule.cooldown_ms:
            rt.stats.suppressed += 1
            return
        partition.last_fired = at
        rt.stats.matches += 1
        rt.stats.last_triggered = time.time()
        self.stats.alerts += 1
        out.append(Firing(rule, build_alert(rule, stream, partition.values, match, at, depth)))

    def _disable(self, rt: RuleRuntime, exc: Exception) -> None:
        rt.error = f"{type(exc).__name__}: {exc}"
        self.stats.rule_errors += 1
        logger.exception("rule %s (%r) raised and is disabled", rt.rule.rule_id, rt.rule.name)
        self._reindex()
        if self.on_rule_error is not None:
            self.on_rule_error(rt.rule, rt.error)

    # --- time ------------------------------------------------------------------------------
    def advance(self, watermark: int) -> list[Firing]:
        """Fire the timers due before ``watermark`` (epoch ms) on every stream (called on a tick)."""
        self.stats.snapshot()
        firings: list[Firing] = []
        for stream, runtimes in list(self._timers.items()):
            if watermark > self._swept_at.get(stream, watermark - 1):
                firings.extend(self._sweep(runtimes, watermark, stream))
        return firings

    def flush(self) -> list[Firing]:
        """End of input (replay): fire every timer due before the newest event time seen."""
        firings: list[Firing] = []
        for stream, runtimes in list(self._timers.items()):
            newest = self._stream_max_ts.get(stream)
            if newest is not None:
                firings.extend(self._sweep(runtimes, newest + 1, stream))
        return firings

    def _sweep(self, runtimes: list[RuleRuntime], watermark: int, stream: str | None = None) -> list[Firing]:
        stream = stream or runtimes[0].rule.stream
        self._swept_at[stream] = watermark
        firings: list[Firing] = []
        for rt in list(runtimes):
            if not rt.active:
                continue
            try:
                for partition in list(rt.partitions.values()):
                    for match in rt.rule.pattern.on_time(partition.state, watermark):
                        self._fire(rt, stream, partition, match, watermark, 0, firings)
            except Exception as exc:
                self._disable(rt, exc)
        return firings

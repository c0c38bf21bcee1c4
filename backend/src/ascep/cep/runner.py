"""The live side of the engine: Redis subscriptions in, actions out, rule changes applied at once.

One supervised loop (a green thread under eventlet) subscribes to the three event streams and to
``CEP_RULE_CHANGES``, (re)loads every rule from Redis each time it (re)subscribes — so a change
missed while disconnected is never lost — and then feeds each message to the engine, running the
actions of what fired. Between messages, at least every ``tick_interval``, it advances the
engine's timers with the wall clock (so ``absence`` notices silence). On any Redis error it logs,
backs off (capped, reset after a successful subscribe) and starts over; ``state`` tells the
health check whether the subscription is alive.

Before each (re)load it checks the data epoch (:mod:`ascep.common.data_epoch`): a Redis that came
back empty would otherwise make the reload wipe every rule from memory. On a loss the rules held in
memory are written back first (:meth:`restore_rules`), so they survive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import redis

from ascep.cep.actions import ActionRunner
from ascep.cep.engine import Engine, Firing
from ascep.cep.errors import RuleValidationError
from ascep.cep.rules import CompiledRule, validate_rule
from ascep.cep.store import RuleStore
from ascep.common import channels
from ascep.common.data_epoch import DataEpochWatch, DataLoss
from ascep.common.events import EventFormatError, RuleChange
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.subscriber import BusSubscriber
from ascep.common.timeutil import now_ms

logger = logging.getLogger(__name__)

#: Redis channel -> rule stream.
STREAM_CHANNELS: dict[str, str] = {
    channels.PRICE_UPDATES: "prices",
    channels.ARBITRAGE_SIGNALS: "signals",
    channels.CEP_ALERTS: "alerts",
}


class EngineRunner(BusSubscriber):
    label = "CEP engine"

    def __init__(
        self,
        redis_url: str,
        engine: Engine,
        store: RuleStore,
        actions: ActionRunner,
        *,
        sleep: Callable[[float], Any],
        tick_interval: float = 0.2,
    ) -> None:
        super().__init__(
            redis_url,
            (*STREAM_CHANNELS, channels.CEP_RULE_CHANGES),
            sleep=sleep,
            tick_interval=tick_interval,
        )
        self.engine = engine
        self.store = store
        self.actions = actions
        self.lock = threading.RLock()  # engine state: the loop and API requests both touch it
        self.firings: list[Firing] = []  # fired during the current turn; acted on after it
        self._thread: threading.Thread | None = None
        self.data_epoch: DataEpochWatch | None = None
        engine.on_rule_error = self._rule_failed

    def watch_data_epoch(self, watch: DataEpochWatch) -> None:
        """Restore the rules held in memory whenever ``watch`` notices that Redis lost its data."""
        self.data_epoch = watch
        watch.on_loss(self.restore_rules)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> EngineRunner:
        self._thread = threading.Thread(target=self.run, name="cep-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop and wait (up to ``timeout``) for its current turn to finish."""
        super().stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def on_subscribed(self, client: redis.Redis) -> None:
        if self.data_epoch is not None:
            self.data_epoch.check(strict=True)  # a loss restores the rules before the reload reads them
        self.reload()

    def subscribed_message(self) -> str:
        return f"CEP engine subscribed; {self.engine.rule_count()} rule(s) loaded"

    # --- rules -----------------------------------------------------------------------------
    def reload(self) -> None:
        """Load every stored rule (kept state for unchanged versions)."""
        compiled = [c for c in (self._compile(doc) for doc in self.store.all()) if c is not None]
        with self.lock:
            self.engine.replace_all(compiled)

    def highest_version(self) -> int:
        """The highest rule version in memory (versions and ids share one counter): the id floor."""
        with self.lock:
            return max((rt.rule.version for rt in self.engine.runtimes()), default=0)

    def restore_rules(self, loss: DataLoss | None = None) -> int:
        """Write the rules held in memory back to a Redis that lost them; how many were missing."""
        with self.lock:
            docs = [dict(rt.rule.spec, version=rt.rule.version) for rt in self.engine.runtimes()]
        restored = self.store.restore(docs)
        if docs:
            logger.warning(
                "restored %d of %d rule(s) from memory after Redis lost its data", restored, len(docs)
            )
        return restored

    def apply_change(self, payload: Mapping[str, Any]) -> None:
        """Apply one :class:`~ascep.common.events.RuleChange` (an upsert or a delete)."""
        try:
            change = RuleChange.from_dict(payload)
        except EventFormatError:
            logger.warning("ignoring malformed rule change %r", payload)
            return
        if change.rule_id is not None:
            with self.lock:
                self.engine.remove(change.rule_id)
        elif change.rule is not None:
            compiled = self._compile(change.rule)
            if compiled is not None:
                with self.lock:
                    self.engine.upsert(compiled)

    def _compile(self, doc: Mapping[str, Any]) -> CompiledRule | None:
        try:
            return validate_rule(
                doc, self.engine.limits, rule_id=doc["rule_id"], version=doc.get("version", 0)
            )
        except (RuleValidationError, KeyError, TypeError) as exc:
            logger.error("stored rule %r cannot be loaded: %s", doc.get("rule_id"), exc)
            return None

    def _rule_failed(self, rule: CompiledRule, error: str) -> None:
        try:
            self.store.record_error(rule.rule_id, error)
        except REDIS_UNAVAILABLE_ERRORS:
            logger.warning("rule %s disabled locally; Redis unavailable to record it", rule.rule_id)

    # --- events ----------------------------------------------------------------------------
    def turn(self) -> threading.RLock:
        return self.lock

    def on_malformed(self) -> None:
        self.engine.stats.malformed += 1

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        if channel == channels.CEP_RULE_CHANGES:
            self.apply_change(payload)
            return
        stream = STREAM_CHANNELS.get(channel)
        if stream is not None:
            self.firings.extend(self.engine.process(stream, payload))

    def tick(self) -> None:
        """Advance timers with the wall clock (minus the tolerated disorder): absence sees silence."""
        self.firings.extend(self.engine.advance(now_ms() - self.engine.limits.max_disorder_ms))

    def after_turn(self) -> None:
        firings, self.firings = self.firings, []
        if firings:
            self.actions.run(firings)

    # --- reporting -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self.connection_status() | {"messages": dict(self.received)}

"""The live side of the engine: Redis subscriptions in, actions out, rule changes applied at once.

One supervised loop (a green thread under eventlet) subscribes to the three event streams and to
``CEP_RULE_CHANGES``, (re)loads every rule from Redis each time it (re)subscribes — so a change
missed while disconnected is never lost — and then feeds each message to the engine, running the
actions of what fired. Between messages, at least every ``tick_interval``, it advances the
engine's timers with the wall clock (so ``absence`` notices silence). On any Redis error it logs,
backs off (capped, reset after a successful subscribe) and starts over; ``state`` tells the
health check whether the subscription is alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import redis

from ascep.cep.actions import ActionRunner
from ascep.cep.engine import Engine, Firing
from ascep.cep.errors import RuleValidationError
from ascep.cep.rules import CompiledRule, validate_rule
from ascep.cep.store import RuleStore
from ascep.common import channels
from ascep.common.backoff import Backoff
from ascep.common.events import EventFormatError, decode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.common.timeutil import now_ms

logger = logging.getLogger(__name__)

#: Redis channel -> rule stream.
STREAM_CHANNELS: dict[str, str] = {
    channels.PRICE_UPDATES: "prices",
    channels.ARBITRAGE_SIGNALS: "signals",
    channels.CEP_ALERTS: "alerts",
}
MAX_MESSAGES_PER_TURN = 500


class EngineRunner:
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
        self.redis_url = redis_url
        self.engine = engine
        self.store = store
        self.actions = actions
        self.sleep = sleep
        self.tick_interval = tick_interval
        self.lock = threading.RLock()  # engine state: the loop and API requests both touch it
        self.state = "starting"
        self.connected_since: float | None = None
        self.last_message_at: float | None = None
        self.received: Counter[str] = Counter()
        self.malformed = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        engine.on_rule_error = self._rule_failed

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> EngineRunner:
        self._thread = threading.Thread(target=self.run, name="cep-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self.state = "stopped"

    def run(self) -> None:
        backoff = Backoff(initial=0.1, cap=5.0)
        while not self._stopping:
            client = connect(self.redis_url, for_pubsub=True, retries=0)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(*STREAM_CHANNELS, channels.CEP_RULE_CHANGES)
                self.reload()
                if self.state != "connected":
                    logger.info("CEP engine subscribed; %d rule(s) loaded", self.engine.rule_count())
                self.state = "connected"
                self.connected_since = time.time()
                backoff.reset()
                self._pump(pubsub)
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._lost(exc, backoff)
            except Exception as exc:
                logger.exception("CEP engine loop failed unexpectedly")
                self._lost(exc, backoff)
            finally:
                _close_quietly(pubsub, client)

    def _lost(self, exc: BaseException, backoff: Backoff) -> None:
        if self._stopping:
            return
        delay = backoff.next_delay()
        if self.state == "connected":
            self.reconnects += 1
        self.state = "reconnecting"
        self.connected_since = None
        self.last_error = f"{type(exc).__name__}: {exc}"
        logger.warning("CEP engine lost Redis (%s); retrying in %.2fs", self.last_error, delay)
        self.sleep(delay)

    # --- rules -----------------------------------------------------------------------------
    def reload(self) -> None:
        """Load every stored rule (kept state for unchanged versions)."""
        compiled = [c for c in (self._compile(doc) for doc in self.store.all()) if c is not None]
        with self.lock:
            self.engine.replace_all(compiled)

    def apply_change(self, change: Mapping[str, Any]) -> None:
        """Apply one ``{"op": "upsert", "rule": doc}`` / ``{"op": "delete", "rule_id": id}``."""
        op = change.get("op")
        if op == "delete" and isinstance(change.get("rule_id"), int):
            with self.lock:
                self.engine.remove(change["rule_id"])
        elif op == "upsert" and isinstance(change.get("rule"), Mapping):
            compiled = self._compile(change["rule"])
            if compiled is not None:
                with self.lock:
                    self.engine.upsert(compiled)
        else:
            logger.warning("ignoring malformed rule change %r", change)

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
    def _pump(self, pubsub: redis.client.PubSub) -> None:
        next_tick = time.monotonic() + self.tick_interval
        while not self._stopping:
            message = pubsub.get_message(timeout=max(0.0, next_tick - time.monotonic()))
            firings: list[Firing] = []
            handled = 0
            with self.lock:
                while message is not None:
                    self._dispatch(message, firings)
                    handled += 1
                    if handled >= MAX_MESSAGES_PER_TURN:
                        break
                    message = pubsub.get_message(timeout=0.0)
                if time.monotonic() >= next_tick:
                    firings.extend(self.engine.advance(now_ms() - self.engine.limits.max_disorder_ms))
                    next_tick = time.monotonic() + self.tick_interval
            if firings:
                self.actions.run(firings)
            self.sleep(0)  # let HTTP requests run between bursts

    def _dispatch(self, message: Mapping[str, Any], firings: list[Firing]) -> None:
        channel = message.get("channel")
        try:
            payload = decode(message["data"])
        except EventFormatError as exc:
            self.malformed += 1
            self.engine.stats.malformed += 1
            if self.malformed <= 10 or self.malformed % 1000 == 0:
                logger.warning(
                    "skipping malformed message on %s (%s); %d so far", channel, exc, self.malformed
                )
            return
        self.last_message_at = time.time()
        self.received[channel] += 1  # type: ignore[index]
        if channel == channels.CEP_RULE_CHANGES:
            self.apply_change(payload)
            return
        stream = STREAM_CHANNELS.get(channel)  # type: ignore[arg-type]
        if stream is not None:
            firings.extend(self.engine.process(stream, payload))

    # --- reporting -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        age = round(time.time() - self.last_message_at, 3) if self.last_message_at else None
        return {
            "state": self.state,
            "connected_since": self.connected_since,
            "last_message_age_seconds": age,
            "messages": dict(self.received),
            "malformed_messages": self.malformed,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }


def _close_quietly(pubsub: redis.client.PubSub, client: redis.Redis) -> None:
    for closer in (pubsub.close, client.close):
        try:
            closer()
        except Exception:  # closing a broken connection may fail; nothing to do about it
            logger.debug("ignoring error while closing a Redis connection", exc_info=True)

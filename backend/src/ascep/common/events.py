"""Shapes of the events on the Redis bus, defined once for every producer and consumer.

Producers build these frozen dataclasses and publish ``to_dict()`` as JSON on the channel named
in :mod:`ascep.common.channels`; consumers parse with ``from_dict()``, which names the offending
field when a payload is malformed. Times travel as epoch milliseconds (``ts``) with an ISO 8601
UTC rendering (``timestamp``) for humans.

Every event on the bus has its one definition here:

========================  ==========================================  ===========================
class                     channel                                     producer
========================  ==========================================  ===========================
:class:`PriceUpdate`      ``price_updates``                           price feed (and outsiders)
:class:`ArbitrageSignal`  ``arbitrage_signals``                       arbitrage detector
:class:`CepAlert`         ``cep_alerts``                              CEP engine (``emit_alert``)
:class:`CepSignal`        ``cep_signals``                             CEP engine (``emit_signal``)
:class:`ServiceStatus`    ``service_status``                          health monitor
:class:`TaskUpdate`       ``task_updates``                            tasks API and workers
:class:`ConfigChange`     ``<prefix>config_changes`` (internal)       arbitrage ``PUT /config``
:class:`RuleChange`       ``<prefix>cep:rule_changes`` (internal)     CEP rule API
========================  ==========================================  ===========================

``from_dict`` ignores fields it does not know: other processes may publish on the public channels
(README, "Publishing from other processes") and add their own. The gateway is a relay, not a
consumer of the payload: it forwards what was published unchanged (extra fields included, and
without re-encoding a tick) and reads only what it routes by, through the ``route`` helpers of the
definitions (:meth:`PriceUpdate.route`, :meth:`ArbitrageSignal.route`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ascep.common.timeutil import iso_utc


class EventFormatError(ValueError):
    """A payload does not have the documented shape; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _number(data: Mapping[str, Any], name: str, *, required: bool = True) -> float | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventFormatError(name, "is required")
        return None
    if isinstance(value, bool):
        raise EventFormatError(name, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise EventFormatError(name, "must be a number") from exc
    if not math.isfinite(number):
        raise EventFormatError(name, "must be finite")
    return number


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise EventFormatError(name, "must be a non-empty string")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise EventFormatError(name, "must be a string or null")
    return value


def _string(data: Mapping[str, Any], name: str) -> str:
    """A string that may be empty (a task's ``message``)."""
    value = data.get(name)
    if not isinstance(value, str):
        raise EventFormatError(name, "must be a string")
    return value


def _integer(data: Mapping[str, Any], name: str) -> int:
    value = _number(data, name)
    assert value is not None
    return int(value)


def _optional_integer(data: Mapping[str, Any], name: str) -> int | None:
    value = _number(data, name, required=False)
    return None if value is None else int(value)


def _required_number(data: Mapping[str, Any], name: str) -> float:
    value = _number(data, name)
    assert value is not None
    return value


def _sequence(data: Mapping[str, Any], name: str) -> tuple[Any, ...]:
    value = data.get(name)
    if not isinstance(value, list | tuple):
        raise EventFormatError(name, "must be a list")
    return tuple(value)


def _objects(data: Mapping[str, Any], name: str) -> tuple[dict[str, Any], ...]:
    """A list of JSON objects (signal legs, an alert's matched events), each copied."""
    items = _sequence(data, name)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise EventFormatError(f"{name}[{index}]", "must be an object")
    return tuple(dict(item) for item in items)


def _mapping(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, Mapping):
        raise EventFormatError(name, "must be an object")
    return dict(value)


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name)
    if not isinstance(value, bool):
        raise EventFormatError(name, "must be true or false")
    return value


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    """Latest quote of one instrument (Socket.IO ``price_update``, channel ``price_updates``).

    ``price`` is the last trade when the source reports trades, else the bid/ask mid.
    """

    symbol: str
    price: float
    bid: float | None
    ask: float | None
    volume: float | None
    source: str
    ts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "price": self.price,
            "bid": self.bid,
            "ask": self.ask,
            "volume": self.volume,
            "source": self.source,
            "timestamp": iso_utc(self.ts),
            "ts": self.ts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceUpdate:
        price = _number(data, "price")
        ts = _number(data, "ts")
        assert price is not None
        assert ts is not None
        return cls(
            symbol=_text(data, "symbol"),
            price=price,
            bid=_number(data, "bid", required=False),
            ask=_number(data, "ask", required=False),
            volume=_number(data, "volume", required=False),
            source=_text(data, "source"),
            ts=int(ts),
        )

    @staticmethod
    def route(data: Mapping[str, Any]) -> tuple[str, int | float]:
        """``(symbol, ts)``: what a relay orders updates by, checked without building the event.

        A relay forwards the payload as published, so this is all it validates: a tick costs two
        look-ups, not a parse, on the ~20 000/s path.
        """
        symbol = data.get("symbol")
        ts = data.get("ts")
        if not isinstance(symbol, str) or not isinstance(ts, (int, float)):  # a tuple: cheaper than a union
            raise EventFormatError("symbol/ts", "a price update needs a symbol and a numeric ts")
        return symbol, ts


@dataclass(frozen=True, slots=True)
class ArbitrageSignal:
    """One ``open``/``update``/``close`` (or silent ``touch``) of an arbitrage opportunity.

    Channel ``arbitrage_signals``, Socket.IO ``arbitrage_signal``; the stored document of
    ``GET /signals`` is the same. ``id`` is ``None`` only before the store numbers the signal;
    ``path`` is closed (first currency repeated last); times are ISO (``first_seen``) plus epoch
    ms (``first_seen_ts``). ``legs`` are ``{symbol, side, price, source, from, to,
    fee_percentage, ts}``.
    """

    id: int | None
    event: str
    type: str
    status: str
    key: str
    symbols: tuple[str, ...]
    path: tuple[str, ...]
    legs: tuple[dict[str, Any], ...]
    prices: tuple[float, ...]
    spread: float
    spread_percentage: float
    gross_percentage: float
    fees_percentage: float
    severity: str
    executable_size: float | None
    size_currency: str
    first_seen: str
    last_seen: str
    first_seen_ts: int
    last_seen_ts: int
    peak_spread_percentage: float
    close_reason: str | None
    timestamp: str
    ts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "type": self.type,
            "status": self.status,
            "key": self.key,
            "symbols": list(self.symbols),
            "path": list(self.path),
            "legs": [dict(leg) for leg in self.legs],
            "prices": list(self.prices),
            "spread": self.spread,
            "spread_percentage": self.spread_percentage,
            "gross_percentage": self.gross_percentage,
            "fees_percentage": self.fees_percentage,
            "severity": self.severity,
            "executable_size": self.executable_size,
            "size_currency": self.size_currency,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "first_seen_ts": self.first_seen_ts,
            "last_seen_ts": self.last_seen_ts,
            "peak_spread_percentage": self.peak_spread_percentage,
            "close_reason": self.close_reason,
            "timestamp": self.timestamp,
            "ts": self.ts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArbitrageSignal:
        legs = _objects(data, "legs")
        return cls(
            id=_optional_integer(data, "id"),
            event=_text(data, "event"),
            type=_text(data, "type"),
            status=_text(data, "status"),
            key=_text(data, "key"),
            symbols=_sequence(data, "symbols"),
            path=_sequence(data, "path"),
            legs=legs,
            prices=_sequence(data, "prices"),
            spread=_required_number(data, "spread"),
            spread_percentage=_required_number(data, "spread_percentage"),
            gross_percentage=_required_number(data, "gross_percentage"),
            fees_percentage=_required_number(data, "fees_percentage"),
            severity=_text(data, "severity"),
            executable_size=_number(data, "executable_size", required=False),
            size_currency=_text(data, "size_currency"),
            first_seen=_text(data, "first_seen"),
            last_seen=_text(data, "last_seen"),
            first_seen_ts=_integer(data, "first_seen_ts"),
            last_seen_ts=_integer(data, "last_seen_ts"),
            peak_spread_percentage=_required_number(data, "peak_spread_percentage"),
            close_reason=_optional_text(data, "close_reason"),
            timestamp=_text(data, "timestamp"),
            ts=_integer(data, "ts"),
        )

    @staticmethod
    def route(data: Mapping[str, Any]) -> tuple[Any, float | None]:
        """``(type, best spread)`` a relay filters by: the larger of ``spread_percentage`` and
        ``peak_spread_percentage`` among those that are numbers (``None`` if neither is).

        Lenient on purpose: a subscriber filter that cannot match simply does not match, the
        payload is never refused (other processes may publish partial signals).
        """
        spreads = [
            float(v)
            for v in (data.get("spread_percentage"), data.get("peak_spread_percentage"))
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        return data.get("type"), (max(spreads) if spreads else None)


@dataclass(frozen=True, slots=True)
class CepAlert:
    """A rule's match (channel ``cep_alerts``, Socket.IO ``cep_alert``, ``GET /alerts``).

    ``ts``/``timestamp`` are event time, so a replay of the same events gives the same alert.
    ``alert_id`` and ``detected_at`` are given when the alert is emitted; a match that is not
    emitted (a backtest's) has neither, and ``to_dict`` leaves them out.
    """

    rule_id: int
    rule: str
    pattern: str
    stream: str
    partition: dict[str, Any]
    severity: str
    message: str
    matched_events: tuple[dict[str, Any], ...]
    values: dict[str, Any]
    ts: int
    timestamp: str
    depth: int
    alert_id: str | None = None
    detected_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "rule": self.rule,
            "pattern": self.pattern,
            "stream": self.stream,
            "partition": self.partition,
            "severity": self.severity,
            "message": self.message,
            "matched_events": list(self.matched_events),
            "values": self.values,
            "ts": self.ts,
            "timestamp": self.timestamp,
            "depth": self.depth,
        }
        if self.alert_id is not None:
            out["alert_id"] = self.alert_id
        if self.detected_at is not None:
            out["detected_at"] = self.detected_at
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CepAlert:
        matched = _objects(data, "matched_events")
        return cls(
            rule_id=_integer(data, "rule_id"),
            rule=_string(data, "rule"),
            pattern=_text(data, "pattern"),
            stream=_text(data, "stream"),
            partition=_mapping(data, "partition"),
            severity=_text(data, "severity"),
            message=_string(data, "message"),
            matched_events=matched,
            values=_mapping(data, "values"),
            ts=_integer(data, "ts"),
            timestamp=_text(data, "timestamp"),
            depth=_integer(data, "depth"),
            alert_id=_optional_text(data, "alert_id"),
            detected_at=_optional_text(data, "detected_at"),
        )


@dataclass(frozen=True, slots=True)
class CepSignal:
    """A rule's ``emit_signal`` action (channel ``cep_signals``; the original ASCEP ``create_signal``).

    Shaped so the original dashboard can show it in its signal list as it is, which is how the
    gateway forwards it to clients speaking the original protocol (Socket.IO ``arbitrage_signal``
    with ``type: "cep_signal"``); others get Socket.IO ``cep_signal``. ``id`` is ``cep_`` plus the
    match's ``alert_id``; ``symbols`` holds the partition's (or the event's) symbol when it has
    one; ``spread``/``spread_percentage`` are the matched event's when it is an arbitrage signal,
    else 0; ``event_data`` is the last matched event; ``ts``/``timestamp`` are the detection time.
    """

    id: str
    rule_id: int
    rule_name: str
    pattern: str
    stream: str
    symbols: tuple[str, ...]
    partition: dict[str, Any]
    severity: str
    message: str
    values: dict[str, Any]
    event_data: dict[str, Any]
    spread: float
    spread_percentage: float
    alert_id: str
    event_ts: int
    ts: int
    timestamp: str
    type: str = "cep_signal"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "rule": self.rule_name,
            "pattern": self.pattern,
            "stream": self.stream,
            "symbols": list(self.symbols),
            "partition": self.partition,
            "severity": self.severity,
            "message": self.message,
            "values": self.values,
            "event_data": self.event_data,
            "spread": self.spread,
            "spread_percentage": self.spread_percentage,
            "alert_id": self.alert_id,
            "event_ts": self.event_ts,
            "ts": self.ts,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CepSignal:
        symbols = _sequence(data, "symbols")
        if not all(isinstance(s, str) for s in symbols):
            raise EventFormatError("symbols", "must be a list of strings")
        return cls(
            id=_text(data, "id"),
            rule_id=_integer(data, "rule_id"),
            rule_name=_string(data, "rule_name"),
            pattern=_text(data, "pattern"),
            stream=_text(data, "stream"),
            symbols=symbols,
            partition=_mapping(data, "partition"),
            severity=_text(data, "severity"),
            message=_string(data, "message"),
            values=_mapping(data, "values"),
            event_data=_mapping(data, "event_data"),
            spread=_required_number(data, "spread"),
            spread_percentage=_required_number(data, "spread_percentage"),
            alert_id=_text(data, "alert_id"),
            event_ts=_integer(data, "event_ts"),
            ts=_integer(data, "ts"),
            timestamp=_text(data, "timestamp"),
            type=_text(data, "type"),
        )


#: What the health monitor says a watched target is.
HealthState = Literal["unknown", "starting", "healthy", "degraded", "unhealthy"]
HEALTH_STATES: tuple[str, ...] = get_args(HealthState)


def _health_state(data: Mapping[str, Any], name: str) -> HealthState:
    value = data.get(name)
    if value not in HEALTH_STATES:
        raise EventFormatError(name, f"must be one of {', '.join(HEALTH_STATES)}")
    return value


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """A watched target's status changed (channel and Socket.IO event ``service_status``).

    ``reason`` says why in words (``None`` when healthy); the same document is kept as the
    target's latest change in ``ascep:health:current`` and in the change history.
    """

    service: str
    status: HealthState
    previous_status: HealthState
    response_time_ms: float | None
    error: str | None
    reason: str | None
    ts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": self.status,
            "previous_status": self.previous_status,
            "response_time_ms": self.response_time_ms,
            "error": self.error,
            "reason": self.reason,
            "timestamp": iso_utc(self.ts),
            "ts": self.ts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceStatus:
        return cls(
            service=_text(data, "service"),
            status=_health_state(data, "status"),
            previous_status=_health_state(data, "previous_status"),
            response_time_ms=_number(data, "response_time_ms", required=False),
            error=_optional_text(data, "error"),
            reason=_optional_text(data, "reason"),
            ts=_integer(data, "ts"),
        )


#: Task timings carried only once they happened (absent from the event before).
_TASK_OPTIONAL_INTS = ("queued_ts", "started_ts", "finished_ts", "runtime_ms")


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """A task record without its result (channel ``task_updates``, Socket.IO ``task_update``).

    Sent when a task is queued, started, progressed (throttled), finished, failed or cancelled.
    ``*_at`` are ISO renderings of ``*_ts`` (``None`` until it happened); ``queued_ts``,
    ``started_ts``, ``finished_ts``, ``runtime_ms`` and ``worker`` are present only once set.
    """

    id: str
    name: str
    args: dict[str, Any]
    status: str
    progress: float
    message: str
    attempts: int
    submitted_ts: int
    cancel_requested: bool
    submitted_at: str | None
    started_at: str | None
    finished_at: str | None
    error: str | None
    has_result: bool
    queued_ts: int | None = None
    started_ts: int | None = None
    finished_ts: int | None = None
    runtime_ms: int | None = None
    worker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "args": self.args,
            "status": self.status,
            "progress": self.progress,
            "message": self.message,
            "attempts": self.attempts,
            "submitted_ts": self.submitted_ts,
        }
        for name in _TASK_OPTIONAL_INTS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.worker is not None:
            out["worker"] = self.worker
        out |= {
            "cancel_requested": self.cancel_requested,
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "has_result": self.has_result,
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskUpdate:
        progress = _required_number(data, "progress")
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name"),
            args=_mapping(data, "args"),
            status=_text(data, "status"),
            progress=progress,
            message=_string(data, "message"),
            attempts=_integer(data, "attempts"),
            submitted_ts=_integer(data, "submitted_ts"),
            cancel_requested=_flag(data, "cancel_requested"),
            submitted_at=_optional_text(data, "submitted_at"),
            started_at=_optional_text(data, "started_at"),
            finished_at=_optional_text(data, "finished_at"),
            error=_optional_text(data, "error"),
            has_result=_flag(data, "has_result"),
            queued_ts=_optional_integer(data, "queued_ts"),
            started_ts=_optional_integer(data, "started_ts"),
            finished_ts=_optional_integer(data, "finished_ts"),
            runtime_ms=_optional_integer(data, "runtime_ms"),
            worker=_optional_text(data, "worker"),
        )


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """A service's live configuration changed (internal channel ``<prefix>config_changes``).

    ``config`` is the service's whole stored document; each service validates its own and
    ignores the others' (only the arbitrage detector publishes one today).
    """

    service: str
    config: Any

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "config": self.config}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfigChange:
        return cls(service=_text(data, "service"), config=data.get("config"))


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A CEP rule was stored or deleted (internal channel ``<prefix>cep:rule_changes``).

    ``upsert`` carries the whole stored rule document, ``delete`` the id; every engine process
    applies it at once.
    """

    op: Literal["upsert", "delete"]
    rule: dict[str, Any] | None = None
    rule_id: int | None = None

    @classmethod
    def upsert(cls, rule: Mapping[str, Any]) -> RuleChange:
        return cls("upsert", rule=dict(rule))

    @classmethod
    def delete(cls, rule_id: int) -> RuleChange:
        return cls("delete", rule_id=rule_id)

    def to_dict(self) -> dict[str, Any]:
        if self.op == "upsert":
            return {"op": "upsert", "rule": self.rule}
        return {"op": "delete", "rule_id": self.rule_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleChange:
        op = data.get("op")
        if op == "upsert":
            return cls.upsert(_mapping(data, "rule"))
        if op == "delete":
            rule_id = data.get("rule_id")
            if not isinstance(rule_id, int) or isinstance(rule_id, bool):
                raise EventFormatError("rule_id", "must be an integer")
            return cls.delete(rule_id)
        raise EventFormatError("op", "must be 'upsert' or 'delete'")


def encode(payload: Mapping[str, Any]) -> str:
    """Compact JSON for the bus."""
    return json.dumps(payload, separators=(",", ":"))


def decode(raw: str | bytes) -> dict[str, Any]:
    """Parse one bus message; raise :class:`EventFormatError` unless it is a JSON object."""
    try:
        value = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise EventFormatError("$", "not valid JSON") from exc
    if not isinstance(value, dict):
        raise EventFormatError("$", "must be a JSON object")
    return value

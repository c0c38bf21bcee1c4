"""HTTP API of the arbitrage detector. Thin: parameter parsing, the store, the error envelope.

Every route is served twice, at ``/signals`` (``/api/signals`` through the gateway) and under
``/arbitrage`` (``/api/arbitrage/config`` reaches ``/arbitrage/config``), from one blueprint
registered under two names.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from ascep.arbitrage.aliases import AliasConflict, resolve_aliases, with_aliases
from ascep.arbitrage.api_schemas import CONFIG, CONFIG_UPDATE, SIGNAL, SIGNAL_LIST, STATS
from ascep.arbitrage.config import SIGNAL_TYPES, ConfigValidationError, apply_update
from ascep.arbitrage.engine import ArbitrageEngine
from ascep.arbitrage.runtime import ArbitrageRuntime
from ascep.arbitrage.store import SignalStore
from ascep.common.errors import BadRequest, NotFound, ValidationFailed
from ascep.common.lifecycle import current_runtime
from ascep.common.openapi import Body, doc
from ascep.common.openapi.params import choice_param, float_param, int_param, path_param, time_param
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import iso_utc
from ascep.common.web import json_body

arbitrage_blueprint = Blueprint("arbitrage", __name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
STATUSES = ("open", "closed")

_LIMIT = int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "Most signals to return (newest first).")
_TYPE = choice_param("type", SIGNAL_TYPES, "Only signals of this type.")
_STATUS = choice_param("status", STATUSES, "Only open or only closed signals.")
_MIN_SPREAD = float_param(
    "min_spread", "Only signals whose peak net spread (percent) reached this.", "percent"
)
_SINCE = time_param("since", "Only signals last seen at or after this time.")
_SIGNAL_ID = path_param(
    "signal_id", "The signal's id (digits)", {"type": "string", "maxLength": 20}, example="1"
)


def register_views(app: Flask, blueprint: Blueprint) -> None:
    app.register_blueprint(blueprint)
    app.register_blueprint(blueprint, url_prefix="/arbitrage", name="arbitrage_prefixed")


def _engine() -> ArbitrageEngine:
    return current_runtime(ArbitrageRuntime).engine


def _store() -> SignalStore:
    return current_runtime(ArbitrageRuntime).store


@arbitrage_blueprint.get("/signals")
@doc("Stored signals, newest first", query=(_LIMIT, _TYPE, _STATUS, _MIN_SPREAD, _SINCE), ok=SIGNAL_LIST)
def list_signals() -> Response:
    limit, kind, status = _LIMIT.read(), _TYPE.read(), _STATUS.read()
    min_spread, since = _MIN_SPREAD.read(), _SINCE.read()
    store = _store()
    signals, total = store.query(limit=limit, type=kind, status=status, min_spread=min_spread, since_ms=since)
    return jsonify({"signals": signals, "count": len(signals), "total_count": total, "timestamp": iso_utc()})


@arbitrage_blueprint.get("/signals/<signal_id>")
@doc("One signal", params={"signal_id": _SIGNAL_ID}, ok=SIGNAL, errors={404: "Unknown or expired signal"})
def one_signal(signal_id: str) -> Response:
    if not signal_id.isdigit():
        raise NotFound(f"no signal {signal_id!r}", {"id": signal_id})
    signal = _store().get(int(signal_id))
    if signal is None:
        raise NotFound(f"no signal {signal_id} (unknown or expired)", {"id": signal_id})
    return jsonify(signal)


def _stored_stats(store: SignalStore) -> dict[str, Any]:
    counters = store.counters()
    history = store.recent()
    peaks = [s.get("peak_spread_percentage", 0.0) for s in history]
    return {
        "signals_by_type": {t: counters.get(f"type:{t}", 0) for t in SIGNAL_TYPES},
        "signals_by_severity": {s: counters.get(f"severity:{s}", 0) for s in ("high", "medium", "low")},
        "signals_opened_total": counters.get("opened", 0),
        "signals_closed_total": counters.get("closed", 0),
        "open_now": store.open_count(),
        "history_size": len(history),
        "average_spread_percentage": sum(peaks) / len(peaks) if peaks else None,
        "best_spread_percentage": max(peaks) if peaks else None,
    }


@arbitrage_blueprint.get("/stats")
@doc(
    "Detection statistics: stored counters (when Redis answers) and this process's engine",
    ok=STATS,
)
def stats() -> Response:
    body: dict[str, Any] = {}
    try:
        body.update(_stored_stats(_store()))
        body["redis"] = "up"
    except REDIS_UNAVAILABLE_ERRORS:  # on purpose, not the global 503: the in-process half is still true
        body["redis"] = "unavailable"
    engine_stats = _engine().stats()
    body.update(engine_stats)
    body["detection_ms"] = {"p50": engine_stats["detection_ms_p50"], "p99": engine_stats["detection_ms_p99"]}
    body["timestamp"] = iso_utc()
    return jsonify(body)


@arbitrage_blueprint.get("/config")
@doc("The live detector configuration", ok=CONFIG)
def get_config() -> Response:
    """Every option, and the original ASCEP names of some (``cross_currency_threshold``...)."""
    return jsonify(with_aliases(_engine().config.as_dict()))


@arbitrage_blueprint.route("/config", methods=["PUT", "POST"])
@doc(
    "Change some options of the live configuration",
    description="Only the keys given change (a map with fixed keys merges per key). Applied by every "
    "detector process within a second; nothing changes when any key is invalid.",
    body=Body(CONFIG_UPDATE, "Any subset of the options"),
    ok=CONFIG,
    errors={
        400: "Not a JSON object, or an unknown option (details.field)",
        422: "A bad value (details.field)",
    },
)
def update_config() -> Response:
    update = json_body()
    if not isinstance(update, dict):
        raise BadRequest("the body must be a JSON object of options", {"field": "$"})
    engine = _engine()
    try:
        new = apply_update(engine.config, resolve_aliases(update, engine.config))
    except ConfigValidationError as exc:
        error = BadRequest if exc.unknown else ValidationFailed
        details: dict[str, Any] = {"field": exc.field, "reason": exc.reason}
        if isinstance(exc, AliasConflict):
            details["fields"] = list(exc.fields)
        raise error(str(exc), details) from exc
    _store().save_config(new.as_dict())  # Redis down: the global 503, and nothing applied
    engine.request_config(new)
    return jsonify(with_aliases(new.as_dict()))

"""HTTP API of the CEP engine. Thin: parse, validate through :mod:`ascep.cep.rules`, store, reply.

Rules are read from Redis (the shared truth), so every engine process answers the same. A change
is stored and announced on the bus, and also applied to this process's engine right away so a
client that creates a rule and then publishes an event never races the announcement.

The original ASCEP clients are served as they are: ``PUT`` with only some fields (their toggle
sends ``{"enabled": false}``) merges them into the stored rule, every rule shown carries
``trigger_count`` and ``last_triggered``, answers carry the original ``message``, and
``POST /rules/<id>/test`` takes one bare event and answers ``result`` too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify

from ascep.cep.api_schemas import (
    ALERTS,
    DELETED,
    ONE_RULE,
    REPLAY,
    RULE,
    RULE_LIST,
    SCHEMA,
    STATS,
    TEST_BODY,
    TEST_STORED_BODY,
    VALID,
)
from ascep.cep.engine import Engine
from ascep.cep.errors import RuleValidationError
from ascep.cep.replay import MAX_REPLAY_EVENTS, replay
from ascep.cep.rules import canonical, validate_rule
from ascep.cep.runner import EngineRunner
from ascep.cep.runtime import CepRuntime
from ascep.cep.schema import SERVER_FIELDS, rule_schema
from ascep.cep.store import AlertStore, RuleLimitReached, RuleStore
from ascep.cep.symbols import resolve_condition_symbols
from ascep.cep.webhook_targets import webhook_target_errors
from ascep.common.errors import BadRequest, Conflict, NotFound, ValidationFailed
from ascep.common.events import encode
from ascep.common.lifecycle import current_runtime
from ascep.common.openapi import Body, Reply, doc
from ascep.common.openapi.params import int_param, path_param
from ascep.common.timeutil import iso_utc
from ascep.common.web import json_body

cep_blueprint = Blueprint("cep", __name__)

DEFAULT_ALERT_LIMIT = 50
#: Rule ids come from a Redis counter, a signed 64-bit integer: none is larger.
MAX_RULE_ID = 2**63 - 1
#: A ``PUT`` body holding all of these replaces the rule; one with fewer is a partial update.
REPLACEMENT_FIELDS = ("name", "pattern", "conditions")

_RULE_ID = path_param("raw_id", "The rule's id (digits)", {"type": "string", "maxLength": 20}, example="1")
_LIMIT = int_param("limit", DEFAULT_ALERT_LIMIT, 1, 1000, "Most alerts to return (newest first).")
_ALERT_RULE = int_param("rule_id", None, 1, MAX_RULE_ID, "Only alerts of this rule.")
_ID = {"raw_id": _RULE_ID}
_NO_RULE = {404: "No rule with this id"}
_INVALID = {422: "Invalid rule: details.path and details.errors name every problem (JSON paths)"}
_RULE_BODY = Body(
    RULE, "A rule (the original ASCEP shape {name, pattern, action, conditions} is accepted too)"
)


def _store() -> RuleStore:
    return current_runtime(CepRuntime).store


def _runner() -> EngineRunner:
    return current_runtime(CepRuntime).runner


def _engine() -> Engine:
    return current_runtime(CepRuntime).engine


def _invalid(exc: RuleValidationError, prefix: str = "") -> ValidationFailed:
    details = exc.details()
    if prefix:
        for error in details["errors"]:
            error["path"] = "$" + prefix + error["path"][1:]
        details["path"] = details["errors"][0]["path"]
    return ValidationFailed(f"invalid rule: {details['path']}: {details['errors'][0]['message']}", details)


def _size_checked(raw: Any, prefix: str = "") -> None:
    """422 for a rule over ``CEP_MAX_RULE_BYTES``, before the cost of validating it.

    Every stored rule is held (compiled) by every engine process and reloaded on each resubscribe;
    the count cap (``CEP_MAX_RULES``) times this one bounds that memory.
    """
    limit = current_runtime(CepRuntime).settings.cep_max_rule_bytes
    size = len(encode(raw).encode())
    if size > limit:
        path, message = f"${prefix}", f"the rule is {size} bytes of JSON; at most {limit} are allowed"
        raise ValidationFailed(
            f"invalid rule: {path}: {message}",
            {"path": path, "limit": limit, "errors": [{"path": path, "message": message}]},
        )


def _checked(raw: Any, prefix: str = "") -> dict[str, Any]:
    """Canonical, fully validated rule (patterns compiled too) or a 422 naming the field.

    Webhook URLs are also checked against ``WEBHOOK_ALLOWED_HOSTS`` here (not in
    :func:`validate_rule`): the engine must still load a stored rule the list no longer admits,
    and its deliveries are refused one by one (counted, logged with the rule id).
    """
    _size_checked(raw, prefix)
    raw = resolve_condition_symbols(raw, current_runtime(CepRuntime).symbols)
    try:
        validate_rule(raw, _engine().limits)
        spec = canonical(raw)
        refused = webhook_target_errors(spec, current_runtime(CepRuntime).webhooks.policy)
        if refused:
            raise RuleValidationError(refused)
        return spec
    except RuleValidationError as exc:
        raise _invalid(exc, prefix) from exc


def _rule_id(raw: str) -> int:
    if not raw.isdigit():
        raise NotFound(f"no rule {raw!r}", {"rule_id": raw})
    return int(raw)


def _existing(rule_id: int) -> dict[str, Any]:
    doc = _store().get(rule_id)
    if doc is None:
        raise NotFound(f"no rule {rule_id}", {"rule_id": rule_id})
    return doc


def _announce(doc: Mapping[str, Any]) -> None:
    _runner().apply_change({"op": "upsert", "rule": doc})


def _answer(doc: Mapping[str, Any], message: str | None = None, **extra: Any) -> Response:
    """``{"rule": <doc with trigger_count, last_triggered>}``, plus the original ``message``."""
    body: dict[str, Any] = {"rule": _store().shown(doc), **extra}
    if message is not None:
        body["message"] = message
    return jsonify(body)


@cep_blueprint.get("/rules")
@doc("Every stored rule", ok=RULE_LIST)
def list_rules() -> Response:
    rules = _store().listed()
    return jsonify({"rules": rules, "count": len(rules), "timestamp": iso_utc()})


@cep_blueprint.post("/rules")
@doc(
    "Create a rule",
    body=_RULE_BODY,
    status=201,
    ok=Reply(
        "Created (canonical form with the server's fields)", ONE_RULE, headers={"Location": "the rule's URL"}
    ),
    errors={**_INVALID, 409: "CEP_MAX_RULES rules exist already"},
)
def create_rule() -> tuple[Response, int, dict[str, str]]:
    spec = _checked(json_body())
    try:
        doc = _store().create(spec)
    except RuleLimitReached as exc:
        raise Conflict(str(exc), {"limit": exc.limit, "setting": "CEP_MAX_RULES"}) from exc
    _announce(doc)
    return _answer(doc, "Rule created successfully"), 201, {"Location": f"/rules/{doc['rule_id']}"}


@cep_blueprint.get("/rules/schema")
@doc("The JSON Schema every rule is validated with", ok=SCHEMA)
def schema() -> Response:
    return jsonify(rule_schema())


@cep_blueprint.post("/rules/validate")
@doc("Validate a rule without storing it", body=_RULE_BODY, ok=VALID, errors=_INVALID)
def validate() -> Response:
    return jsonify({"valid": True, "rule": _checked(json_body())})


@cep_blueprint.post("/rules/test")
@doc(
    "Replay events through a rule (deterministic, no side effects)",
    body=Body(TEST_BODY),
    ok=REPLAY,
    errors={400: "No rule, events not a list, too many events, bad until", **_INVALID},
)
def test_rule() -> Response:
    body = json_body()
    if not isinstance(body, Mapping) or "rule" not in body:
        raise BadRequest('expected {"rule": {...}, "events": [...]}', {"path": "$.rule"})
    return _replay(body["rule"], body, prefix=".rule")


@cep_blueprint.get("/rules/<raw_id>")
@doc("One rule", params=_ID, ok=ONE_RULE, errors=_NO_RULE)
def get_rule(raw_id: str) -> Response:
    return _answer(_existing(_rule_id(raw_id)))


@cep_blueprint.put("/rules/<raw_id>")
@doc(
    "Replace a rule (new version)", params=_ID, body=_RULE_BODY, ok=ONE_RULE, errors={**_NO_RULE, **_INVALID}
)
def replace_rule(raw_id: str) -> Response:
    """A whole rule replaces the stored one; a body with only some fields is merged into it."""
    current = _existing(_rule_id(raw_id))
    body = json_body()
    if isinstance(body, Mapping) and not all(field in body for field in REPLACEMENT_FIELDS):
        return _merge(current, body)
    doc = _store().replace(current, _checked(body))
    _announce(doc)
    return _answer(doc, "Rule updated successfully")


@cep_blueprint.patch("/rules/<raw_id>")
@doc(
    "Change some top-level fields of a rule (a given conditions replaces the old one)",
    params=_ID,
    body=Body({"type": "object", "description": "top-level fields of a rule"}),
    ok=ONE_RULE,
    errors={400: "Not a JSON object", **_NO_RULE, **_INVALID},
)
def patch_rule(raw_id: str) -> Response:
    current = _existing(_rule_id(raw_id))
    changes = json_body()
    if not isinstance(changes, Mapping):
        raise BadRequest("a PATCH body must be a JSON object of top-level fields", {"path": "$"})
    return _merge(current, changes)


def _merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> Response:
    """Apply the top-level fields of ``changes`` to ``current`` and validate the result.

    A given ``conditions`` replaces the old one. Symbols given the original way, in
    ``conditions.symbol(s)``, replace the stored ``where`` unless ``where`` is given too (they are
    how the original shape says "this symbol", not an extra filter on top of the old one).
    """
    merged = {k: v for k, v in current.items() if k not in SERVER_FIELDS}
    conditions = changes.get("conditions")
    if "where" not in changes and isinstance(conditions, Mapping) and {"symbol", "symbols"} & set(conditions):
        merged["where"] = None
    merged.update({k: v for k, v in changes.items() if k not in SERVER_FIELDS})
    doc = _store().replace(current, _checked(merged))
    _announce(doc)
    return _answer(doc, "Rule updated successfully")


@cep_blueprint.delete("/rules/<raw_id>")
@doc("Delete a rule", params=_ID, ok=DELETED, errors=_NO_RULE)
def delete_rule(raw_id: str) -> Response:
    rule_id = _rule_id(raw_id)
    current = _store().shown(_existing(rule_id))
    _store().delete(rule_id)
    _runner().apply_change({"op": "delete", "rule_id": rule_id})
    return jsonify({"rule": current, "deleted": True, "message": "Rule deleted successfully"})


@cep_blueprint.post("/rules/<raw_id>/test")
@doc(
    "Replay events through a stored rule",
    params=_ID,
    body=Body(TEST_STORED_BODY),
    ok=REPLAY,
    errors={400: "events not a list, too many events, bad until", **_NO_RULE, **_INVALID},
)
def test_stored_rule(raw_id: str) -> Response:
    """``{"events": [...]}``, a bare list, or — as the original API took it — one bare event."""
    current = _existing(_rule_id(raw_id))
    body = json_body()
    if isinstance(body, list):
        body = {"events": body}
    elif isinstance(body, Mapping) and "events" not in body:
        response = _replay(current, {"events": [body]})
        result = response.get_json()
        result.update(rule_id=current["rule_id"], rule_name=current["name"], test_data=body,
                      result=result["count"] > 0, timestamp=iso_utc())  # fmt: skip
        return jsonify(result)
    return _replay(current, body)


def _replay(rule: Any, body: Any, prefix: str = "") -> Response:
    events = body.get("events") if isinstance(body, Mapping) else None
    if not isinstance(events, list):
        raise BadRequest("events must be a list of event objects", {"path": "$.events"})
    if len(events) > MAX_REPLAY_EVENTS:
        raise BadRequest(f"at most {MAX_REPLAY_EVENTS} events per test", {"path": "$.events"})
    until = body.get("until")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
        raise BadRequest("until must be epoch milliseconds", {"path": "$.until"})
    if not isinstance(rule, Mapping):
        raise ValidationFailed("invalid rule: a rule must be a JSON object", {"path": f"${prefix}"})
    _size_checked(rule, prefix)
    rule = resolve_condition_symbols(rule, current_runtime(CepRuntime).symbols)
    try:
        result = replay(rule, events, _engine().limits, until=until, pause=lambda: time.sleep(0))
    except RuleValidationError as exc:
        raise _invalid(exc, prefix) from exc
    return jsonify(result.as_dict())


@cep_blueprint.get("/alerts")
@doc("Recent alerts, newest first", query=(_LIMIT, _ALERT_RULE), ok=ALERTS)
def alerts() -> Response:
    limit, rule_id = _LIMIT.read(), _ALERT_RULE.read()
    store: AlertStore = current_runtime(CepRuntime).alerts
    found = store.recent(limit or DEFAULT_ALERT_LIMIT, rule_id)
    return jsonify({"alerts": found, "count": len(found), "limit": limit, "rule_id": rule_id})


@cep_blueprint.get("/stats")
@doc("Engine and per-rule statistics of this process", ok=STATS)
def stats() -> Response:
    runner = _runner()
    with runner.lock:
        report = runner.engine.report()
        subscription = runner.state
    body = report.as_dict()
    body["engine"]["subscription"] = subscription
    return jsonify(body)

"""Admin API of rate limits: ``GET /api/gateway/rate-limits``, ``GET/PUT/DELETE .../<target>``.

Reads answer from this process's table (what it enforces, no Redis); writes go through the
override store's scripts and reach every gateway process within a second. A target is a
registered service, ``gateway`` (the gateway's own ``/api`` routes) or ``socketio`` (connection
attempts). Scope ``admin`` is required for all of ``/api/gateway/`` by the authentication
middleware (issue 17); this path is never rate limited itself, so a limit set too low can be undone.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ascep.common.errors import NotFound, ValidationFailed
from ascep.common.openapi import Body, Reply, doc
from ascep.common.openapi.params import path_param
from ascep.common.web import json_body
from ascep.gateway.bundle import Gateway
from ascep.gateway.openapi.schemas import RATE_LIMIT, RATE_LIMIT_UPDATE, RATE_LIMITS
from ascep.gateway.ratelimit.spec import LimitSpecError
from ascep.gateway.views import gateway

bp = Blueprint("rate_limits", __name__, url_prefix="/api/gateway/rate-limits")

_TARGET = {
    "target": path_param("target", "A registered service, `gateway` or `socketio`", example="price_feed")
}
_UNKNOWN = "No such rate-limit target"


@bp.get("")
@doc("Every rate-limit target with the limit in force, the algorithm and the fail mode", ok=RATE_LIMITS)
def list_rate_limits() -> Response:
    return jsonify(gateway().rate_limits.describe())


@bp.get("/<target>")
@doc(
    "One target's limit, where it comes from, and its override",
    params=_TARGET,
    ok=RATE_LIMIT,
    errors={404: _UNKNOWN},
)
def get_rate_limit(target: str) -> Response:
    gw = gateway()
    _known(gw, target)
    return jsonify(gw.rate_limits.table.describe(target))


@bp.put("/<target>")
@doc(
    "Override a target's limit on every gateway process (within a second)",
    params=_TARGET,
    body=Body(RATE_LIMIT_UPDATE),
    ok=RATE_LIMIT,
    errors={404: _UNKNOWN, 422: "Not a limit (details.field is `limit`)"},
)
def put_rate_limit(target: str) -> Response:
    gw = gateway()
    _known(gw, target)
    body = json_body()
    if not isinstance(body, dict) or "limit" not in body:
        raise ValidationFailed(
            'the body must be an object with a \'limit\' such as "100/60s", "10/s burst 20" or "off"',
            {"field": "limit"},
        )
    try:
        spec = gw.rate_limits.validate(body["limit"])
    except LimitSpecError as exc:
        raise ValidationFailed(str(exc), {"field": "limit"}) from exc
    gw.rate_limits.put(target, spec)
    return jsonify(gw.rate_limits.table.describe(target))


@bp.delete("/<target>")
@doc(
    "Remove a target's override (back to its configured limit)",
    params=_TARGET,
    replies={204: Reply("Removed")},
    status=204,
    errors={404: _UNKNOWN + ", or it has no override"},
)
def delete_rate_limit(target: str) -> Response:
    gw = gateway()
    _known(gw, target)
    if not gw.rate_limits.delete(target):
        raise NotFound(f"{target!r} has no rate-limit override", {"target": target})
    return Response(status=204)


def _known(gw: Gateway, target: str) -> None:
    if not gw.rate_limits.table.knows(target):
        raise NotFound(
            f"no rate-limit target named {target!r}: a registered service, 'gateway' or 'socketio'",
            {"target": target[:100]},
        )

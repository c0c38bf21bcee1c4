"""Admin API of traffic splits: ``GET/PUT/DELETE /api/gateway/splits[/<service>]``.

Reads answer from this process's table (what it applies, no Redis); writes go through the
store's scripts and reach every gateway process within a second. Like everything under
``/api/gateway/``, every method needs the ``admin`` scope (checked by the auth middleware).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, jsonify

from ascep.common.errors import NotFound
from ascep.common.openapi import Body, Reply, doc
from ascep.common.openapi.params import path_param
from ascep.common.web import json_body
from ascep.gateway.bundle import Gateway
from ascep.gateway.openapi.schemas import SPLIT, SPLIT_UPDATE, SPLITS
from ascep.gateway.upstreams.splits import FORCE_HEADER, Split, parse_split
from ascep.gateway.views import gateway

bp = Blueprint("splits", __name__, url_prefix="/api/gateway/splits")

_SERVICE = {"service": path_param("service", "A registered service's name", example="price_feed")}
_NOT_REGISTERED = "No service of that name is registered"


@bp.get("")
@doc("Every traffic split this process applies, with the rollback settings", ok=SPLITS)
def list_splits() -> Response:
    gw = gateway()
    splits = {service: _view(gw, split) for service, split in sorted(gw.splits.table.splits.items())}
    return jsonify({"splits": splits, "count": len(splits), **_settings(gw)})


@bp.get("/<service>")
@doc("One service's split", params=_SERVICE, ok=SPLIT, errors={404: _NOT_REGISTERED + ", or it has no split"})
def get_split(service: str) -> Response:
    gw = gateway()
    return jsonify(_view(gw, _existing(gw, service)))


@bp.put("/<service>")
@doc(
    "Set a service's split: stable version first, then the canary",
    params=_SERVICE,
    body=Body(SPLIT_UPDATE),
    ok=SPLIT,
    errors={404: _NOT_REGISTERED, 422: "Invalid split (details.field)"},
)
def put_split(service: str) -> Response:
    gw = gateway()
    _registered(gw, service)
    split = parse_split(service, json_body())
    return jsonify(_view(gw, gw.splits.put(split)))


@bp.delete("/<service>")
@doc(
    "Remove a service's split (every call goes to the stable selection again)",
    params=_SERVICE,
    replies={204: Reply("Removed")},
    status=204,
    errors={404: _NOT_REGISTERED + ", or it has no split"},
)
def delete_split(service: str) -> Response:
    gw = gateway()
    _registered(gw, service)
    if not gw.splits.delete(service):
        raise NotFound(f"service {service!r} has no split", {"service": service})
    return Response(status=204)


def _registered(gw: Gateway, service: str) -> None:
    if gw.registry.get(service) is None:
        raise NotFound(f"no service named {service!r} is registered", {"service": service})


def _existing(gw: Gateway, service: str) -> Split:
    _registered(gw, service)
    split = gw.splits.table.splits.get(service)
    if split is None:
        raise NotFound(f"service {service!r} has no split", {"service": service})
    return split


def _view(gw: Gateway, split: Split) -> dict[str, Any]:
    """The split, what this process routes by it, and its rollback window as last judged."""
    instances = gw.upstreams.get(split.service)
    routable: Counter[str] = Counter()
    if instances is not None:
        routable.update(u.version for u in instances.routable())
    window = gw.splits.sync.last_window.get(split.service)
    return {
        **split.describe(),
        "routable_instances": {split.stable: routable[split.stable], split.canary: routable[split.canary]},
        "window": window.describe() if window is not None else None,
    }


def _settings(gw: Gateway) -> dict[str, Any]:
    policy = gw.splits.policy
    return {
        "key_header": gw.settings.split_key_header,
        "force_header": FORCE_HEADER,
        "rollback": {
            "margin_percentage_points": policy.margin * 100,
            "min_requests": policy.min_requests,
            "window_seconds": policy.window_s,
        },
    }

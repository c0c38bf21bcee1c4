"""Admin API of API keys and users: ``/api/gateway/keys[/<id>]``, ``/api/gateway/users[/<name>]``.

Everything under ``/api/gateway/`` needs ``admin`` (the WSGI middleware checks it). A new key is
shown once, in the ``201`` answer; listings never show secrets or hashes. Changes reach every
gateway process at once by pub/sub (within ``ACCESS_SYNC_INTERVAL`` if a message is lost).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ascep.common.errors import NotFound, ValidationFailed
from ascep.common.web import json_body
from ascep.gateway.auth.api_keys import is_key_id
from ascep.gateway.auth.authenticator import EVERYONE
from ascep.gateway.auth.principal import ENVIRON_KEY
from ascep.gateway.auth.users import USERNAME, check_password, check_scopes, check_username
from ascep.gateway.views import gateway

bp = Blueprint("access", __name__, url_prefix="/api/gateway")

MAX_NAME_CHARS = 100


def _caller() -> str:
    return request.environ.get(ENVIRON_KEY, EVERYONE).subject


def _object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", {"field": "$"})
    return body


@bp.post("/keys")
def create_key() -> tuple[Response, int]:
    body = _object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValidationFailed(f"name must be 1-{MAX_NAME_CHARS} characters", {"field": "name"})
    record, key = gateway().auth.create_key(name.strip(), check_scopes(body.get("scopes")), _caller())
    return jsonify({**record.describe(), "key": key}), 201


@bp.get("/keys")
def list_keys() -> Response:
    records = sorted(gateway().auth.store.keys(), key=lambda r: r.created_at)
    return jsonify({"keys": [r.describe() for r in records], "count": len(records)})


@bp.delete("/keys/<key_id>")
def revoke_key(key_id: str) -> Response:
    if not is_key_id(key_id):
        raise NotFound(f"no API key {key_id[:40]!r}", {"id": key_id[:40]})
    gateway().auth.revoke_key(key_id)
    return Response(status=204)


@bp.post("/users")
def create_user() -> tuple[Response, int]:
    body = _object()
    record = gateway().auth.create_user(
        check_username(body.get("username")),
        check_password(body.get("password")),
        check_scopes(body.get("scopes")),
        _caller(),
    )
    return jsonify(record.describe()), 201


@bp.get("/users")
def list_users() -> Response:
    records = sorted(gateway().auth.store.users(), key=lambda r: r.username)
    return jsonify({"users": [r.describe() for r in records], "count": len(records)})


@bp.delete("/users/<username>")
def delete_user(username: str) -> Response:
    if not USERNAME.fullmatch(username):
        raise NotFound("no such user", {"username": username[:64]})
    gateway().auth.delete_user(username)
    return Response(status=204)

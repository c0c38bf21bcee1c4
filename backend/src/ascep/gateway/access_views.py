"""Admin API of API keys and users: ``/api/gateway/keys[/<id>]``, ``/api/gateway/users[/<name>]``.

Everything under ``/api/gateway/`` needs ``admin`` (the WSGI middleware checks it). A new key is
shown once, in the ``201`` answer; listings never show secrets or hashes. Changes reach every
gateway process at once by pub/sub (within ``ACCESS_SYNC_INTERVAL`` if a message is lost).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ascep.common.errors import NotFound, ValidationFailed
from ascep.common.openapi import Body, Reply, doc
from ascep.common.openapi.params import path_param
from ascep.common.web import json_body
from ascep.gateway.auth.api_keys import is_key_id
from ascep.gateway.auth.authenticator import EVERYONE
from ascep.gateway.auth.principal import ENVIRON_KEY
from ascep.gateway.auth.users import USERNAME, check_password, check_scopes, check_username
from ascep.gateway.openapi.schemas import (
    API_KEY_CREATE,
    API_KEYS,
    NEW_API_KEY,
    USER,
    USER_CREATE,
    USERS,
)
from ascep.gateway.views import gateway

bp = Blueprint("access", __name__, url_prefix="/api/gateway")

MAX_NAME_CHARS = 100
_KEY_ID = {"key_id": path_param("key_id", "An API key's id", example="k3f9a0c1d2e4")}
_USERNAME = {"username": path_param("username", "A user's name", example="alice")}


def _caller() -> str:
    return request.environ.get(ENVIRON_KEY, EVERYONE).subject


def _object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", {"field": "$"})
    return body


@bp.post("/keys")
@doc(
    "Create an API key (the key is shown once)",
    body=Body(API_KEY_CREATE),
    ok=NEW_API_KEY,
    status=201,
    errors=(422,),
)
def create_key() -> tuple[Response, int]:
    body = _object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValidationFailed(f"name must be 1-{MAX_NAME_CHARS} characters", {"field": "name"})
    record, key = gateway().auth.create_key(name.strip(), check_scopes(body.get("scopes")), _caller())
    return jsonify({**record.describe(), "key": key}), 201


@bp.get("/keys")
@doc("Every API key (never the secret)", ok=API_KEYS)
def list_keys() -> Response:
    records = sorted(gateway().auth.store.keys(), key=lambda r: r.created_at)
    return jsonify({"keys": [r.describe() for r in records], "count": len(records)})


@bp.delete("/keys/<key_id>")
@doc(
    "Revoke an API key on every gateway process",
    params=_KEY_ID,
    replies={204: Reply("Revoked")},
    status=204,
    errors=(404,),
)
def revoke_key(key_id: str) -> Response:
    if not is_key_id(key_id):
        raise NotFound(f"no API key {key_id[:40]!r}", {"id": key_id[:40]})
    gateway().auth.revoke_key(key_id)
    return Response(status=204)


@bp.post("/users")
@doc("Create a user", body=Body(USER_CREATE), ok=USER, status=201, errors=(409, 422))
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
@doc("Every user (never a password hash)", ok=USERS)
def list_users() -> Response:
    records = sorted(gateway().auth.store.users(), key=lambda r: r.username)
    return jsonify({"users": [r.describe() for r in records], "count": len(records)})


@bp.delete("/users/<username>")
@doc(
    "Delete a user; its tokens stop working",
    params=_USERNAME,
    replies={204: Reply("Deleted")},
    status=204,
    errors=(404,),
)
def delete_user(username: str) -> Response:
    if not USERNAME.fullmatch(username):
        raise NotFound("no such user", {"username": username[:64]})
    gateway().auth.delete_user(username)
    return Response(status=204)

"""Sign-in endpoints: ``GET /api/auth/config``, ``POST /api/auth/token``, ``GET /api/users/me``.

The first two are public (a client must learn how to sign in, and sign in); ``/api/users/me``
needs any valid credential (the WSGI middleware has checked it and left the principal in the
environ). The token endpoint speaks OAuth 2 (RFC 6749 §4.3, §4.4, §5.1): form-encoded or JSON
body, client credentials also as HTTP Basic, ``Cache-Control: no-store`` on the answer; errors use
the ASCEP envelope, with the OAuth error code in ``details.oauth_error``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ascep.common.errors import BadRequest, PayloadTooLarge
from ascep.common.openapi import Body, doc
from ascep.common.web import json_body
from ascep.gateway.auth.authenticator import EVERYONE
from ascep.gateway.auth.grants import GRANT_TYPES
from ascep.gateway.auth.own_routes import VERIFIED_KEY
from ascep.gateway.auth.principal import ENVIRON_KEY, Principal
from ascep.gateway.auth.tokens import IssuedToken, Verified
from ascep.gateway.openapi.schemas import AUTH_CONFIG, CALLER, TOKEN, TOKEN_REQUEST
from ascep.gateway.views import gateway

bp = Blueprint("auth", __name__)

TOKEN_ENDPOINT = "/api/auth/token"
#: Largest form body the token endpoint reads.
MAX_FORM_BYTES = 16 * 1024


@bp.get("/api/auth/config")
@doc("How to sign in: the auth mode, the token endpoint and its grants", ok=AUTH_CONFIG, public=True)
def auth_config() -> Response:
    auth = gateway().auth
    return jsonify(
        {
            "mode": auth.mode,
            "token_endpoint": TOKEN_ENDPOINT,
            "grant_types": list(GRANT_TYPES),
            "token_issuing": auth.issuer.enabled,
            "token_ttl_seconds": auth.issuer.ttl_seconds,
            "scopes": ["read", "write", "admin"],
        }
    )


@bp.post(TOKEN_ENDPOINT)
@doc(
    "OAuth 2 token endpoint: a short-lived JWT for a user's password or an API key's credentials",
    description="Form-encoded (RFC 6749) or JSON; client credentials may also come as HTTP Basic.",
    body=Body(TOKEN_REQUEST, media="application/x-www-form-urlencoded"),
    ok=TOKEN,
    errors={401: "Wrong credentials", 503: "Token issuing is off (no signing key) or Redis is away"},
    public=True,
)
def token() -> Response:
    fields = _token_request()
    grants = gateway().auth.grants
    grant_type = fields.get("grant_type")
    scope = fields.get("scope") if isinstance(fields.get("scope"), str) else None
    issued: IssuedToken
    if grant_type == "password":
        issued = grants.password(fields.get("username"), fields.get("password"), scope)
    elif grant_type == "client_credentials":
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        basic = request.authorization
        if basic is not None and basic.type == "basic" and client_id is None:
            client_id, secret = basic.username, basic.password
        issued = grants.client_credentials(client_id, secret, scope)
    else:
        raise BadRequest(
            f"grant_type must be one of {', '.join(GRANT_TYPES)}",
            {"oauth_error": "unsupported_grant_type", "allowed": list(GRANT_TYPES)},
        )
    response = jsonify(issued.response())
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _token_request() -> dict[str, Any]:
    if request.is_json:
        body = json_body()
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object", {"oauth_error": "invalid_request"})
        return body
    if request.mimetype != "application/x-www-form-urlencoded":
        raise BadRequest(
            "the body must be application/x-www-form-urlencoded or application/json",
            {"oauth_error": "invalid_request", "content_type": request.mimetype or None},
        )
    if request.content_length is None or request.content_length > MAX_FORM_BYTES:
        raise PayloadTooLarge(
            f"token requests are limited to {MAX_FORM_BYTES} bytes with a Content-Length",
            {"max_bytes": MAX_FORM_BYTES},
        )
    return {k: v for k, v in request.form.items()}


@bp.get("/api/users/me")
@doc("Who the caller is and which scopes it has", ok=CALLER)
def me() -> Response:
    principal: Principal = request.environ.get(ENVIRON_KEY, EVERYONE)
    verified: Verified | None = request.environ.get(VERIFIED_KEY)
    expires_at = verified.expires_at if verified is not None else None
    return jsonify(
        {
            "subject": principal.subject,
            "kind": principal.kind,
            "scopes": sorted(principal.scopes),
            "key_id": principal.key_id,
            "authenticated": principal.authenticated,
            "auth_mode": gateway().auth.mode,
            "expires_at": int(expires_at - gateway().auth.verifier.leeway) if expires_at else None,
        }
    )

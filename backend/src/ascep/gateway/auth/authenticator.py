"""From a request's credential to a :class:`Principal`, and from a principal to "may it do this?".

One credential per request: ``Authorization: Bearer <JWT>`` or ``X-API-Key: <key>`` (both at
once is refused: which one would count is ambiguous). With ``AUTH_MODE=off`` credentials are not
looked at: every caller is anonymous with every scope, exactly as before authentication existed.

Used by the proxy step (:mod:`.step`), the WSGI middleware of the gateway's own routes
(:mod:`.middleware`) and the Socket.IO handshake; plain Python, no Flask.
"""

from __future__ import annotations

from ascep.common.errors import Forbidden, Unauthorized, bearer_challenge
from ascep.gateway.auth.access import PUBLIC, SCOPES
from ascep.gateway.auth.api_keys import AccessTable
from ascep.gateway.auth.principal import Principal, anonymous
from ascep.gateway.auth.tokens import TokenVerifier, Verified, invalid_token

#: The caller of ``AUTH_MODE=off``: anonymous, allowed everything.
EVERYONE = anonymous(frozenset(SCOPES))
#: The caller without credentials under ``AUTH_MODE=required``: only public routes.
NOBODY = anonymous()
_ANONYMOUS_OFF = Verified(EVERYONE)
_ANONYMOUS_REQUIRED = Verified(NOBODY)


class Authenticator:
    """Checks credentials against the verifier (JWTs) and the access table (API keys, grants)."""

    def __init__(self, mode: str, verifier: TokenVerifier, table: AccessTable) -> None:
        self.mode = mode
        self.required = mode == "required"
        self.verifier = verifier
        self.table = table

    def authenticate(self, authorization: str | None, api_key: str | None) -> Verified:
        """Who is calling (anonymous without a credential); 401 for a credential that fails."""
        if not self.required:
            return _ANONYMOUS_OFF
        if authorization is not None and api_key is not None:
            raise Unauthorized(
                "send one credential: Authorization or X-API-Key, not both", {"reason": "ambiguous"}
            )
        if api_key is not None:
            return self.api_key(api_key)
        if authorization is not None:
            return self.bearer(authorization)
        return _ANONYMOUS_REQUIRED

    def bearer(self, authorization: str) -> Verified:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "the Authorization header must be 'Bearer <token>'",
                {"reason": "scheme"},
                challenge=bearer_challenge("invalid_request", "use the Bearer scheme"),
            )
        return self.token(token.strip())

    def handshake(self, auth: object) -> Verified:
        """The Socket.IO handshake's ``auth``: ``{"token": "<jwt>"}`` or ``{"api_key": "<key>"}``.

        Anything else (nothing, another shape) is the anonymous caller, refused by the caller's
        scope check under ``AUTH_MODE=required``.
        """
        if not self.required:
            return _ANONYMOUS_OFF
        if not isinstance(auth, dict):
            return _ANONYMOUS_REQUIRED
        token, api_key = auth.get("token"), auth.get("api_key")
        if token is not None and api_key is not None:
            raise Unauthorized("send one credential: token or api_key, not both", {"reason": "ambiguous"})
        if isinstance(api_key, str):
            return self.api_key(api_key)
        if isinstance(token, str):
            return self.token(token.removeprefix("Bearer ").strip())
        if token is not None or api_key is not None:
            raise Unauthorized("auth.token and auth.api_key must be strings", {"reason": "malformed"})
        return _ANONYMOUS_REQUIRED

    def api_key(self, presented: str) -> Verified:
        record = self.table.verify_key(presented.strip())
        return Verified(
            Principal("api_key", f"key:{record.id}", record.scopes, key_id=record.id),
            grant=("key", record.id),
        )

    def token(self, token: str) -> Verified:
        """A bearer token (also the Socket.IO handshake's ``auth.token``), grant included."""
        verified = self.verifier.verify(token)
        if verified.grant is not None and not self.table.grant_alive(*verified.grant):
            raise invalid_token("the key or user this token was issued for no longer exists", "revoked")
        return verified


def authorize(principal: Principal, needed: str) -> None:
    """Raise unless ``principal`` may do what needs ``needed`` (a scope, or ``public``).

    Anonymous and short of a scope: 401 (authenticating may help). Authenticated and short of
    it: 403 (it will not), naming the scope in ``details`` and the RFC 6750 challenge.
    """
    if needed == PUBLIC or principal.has_scope(needed):
        return
    if not principal.authenticated:
        raise Unauthorized("authentication required: send a Bearer token or an X-API-Key", {"scope": needed})
    raise Forbidden(
        f"this needs the {needed!r} scope",
        {"scope": needed, "granted": sorted(principal.scopes)},
        challenge=bearer_challenge("insufficient_scope", f"this needs the {needed!r} scope", needed),
    )

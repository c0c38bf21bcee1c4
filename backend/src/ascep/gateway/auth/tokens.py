"""JWT verification (PyJWT, pinned algorithms, typed keys) and the gateway's own short-lived tokens.

A token is refused — :class:`~ascep.common.errors.Unauthorized` with ``error="invalid_token"`` —
when it is too large, not three base64url parts of JSON objects, carries a ``crit`` header (no
extension is understood here), names an algorithm that is not pinned (``none`` included), names
an unknown ``kid``, or has a key of the wrong family for its algorithm; when its signature does
not verify; when ``exp`` is past or ``nbf``/``iat`` in the future (beyond the leeway); when
``iss``/``aud`` differ from the configured ones; when ``sub`` or ``exp`` is missing; or when its
scopes are not a space-separated ``scope`` string or a ``scopes`` list of strings.

A verified token is remembered until it expires (:mod:`.verified_cache` says why that is safe):
on the hot path a repeated token costs one dict lookup instead of a signature check.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from ascep.common.errors import Unauthorized, bearer_challenge
from ascep.gateway.auth.keys import KeyRing
from ascep.gateway.auth.principal import Principal
from ascep.gateway.auth.verified_cache import VerifiedCache

#: Longest token considered at all (bytes); a longer one is refused before any parsing.
MAX_TOKEN_BYTES = 4096
#: Private claims of the tokens the gateway issues: the grant behind them, which must still
#: exist (a revoked API key or a deleted user ends its tokens too).
KEY_CLAIM = "ascep_key"
USER_CLAIM = "ascep_user"
#: Most scopes one credential may carry.
MAX_SCOPES = 64
#: A subject is sent to services in a header: printable ASCII only, no leading/trailing space.
_SUBJECT = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$")
#: RFC 6749 §3.3 scope-token (printable ASCII but space, ``"`` and ``\``), at most 64 characters.
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")

#: ``("key", <key id>)`` or ``("user", <user id>)``: the revocable grant behind a token.
Grant = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Verified:
    """A credential that checked out: who, until when (epoch s, ``None``: no expiry), on what grant."""

    principal: Principal
    expires_at: float | None = None
    grant: Grant | None = None


def invalid_token(message: str, reason: str) -> Unauthorized:
    """401 for a presented token that is not acceptable (RFC 6750 ``invalid_token``)."""
    return Unauthorized(message, {"reason": reason}, challenge=bearer_challenge("invalid_token", message))


_REASONS: tuple[tuple[type[Exception], str, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "the token has expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "the token is not valid yet"),
    (jwt.InvalidAudienceError, "audience", "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "issuer", "the token comes from another issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim", "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "signature", "the token's signature does not verify"),
    (jwt.DecodeError, "malformed", "the token is malformed"),
)


class TokenVerifier:
    """Verify bearer tokens against a :class:`KeyRing`; remember the good ones until ``exp``."""

    def __init__(
        self,
        keyring: KeyRing,
        *,
        issuer: str = "",
        audience: str = "",
        leeway: float = 30.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keyring = keyring
        self.issuer = issuer or None
        self.audience = audience or None
        self.leeway = leeway
        self.clock = clock
        self.cache: VerifiedCache[Verified] = VerifiedCache(cache_size, clock)
        required = ["sub", "exp"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
        self._options: Any = {"require": required, "verify_aud": bool(audience), "verify_iss": bool(issuer)}
        self.refused = 0

    def verify(self, token: str) -> Verified:
        cached = self.cache.get(token)
        if cached is not None:
            return cached
        try:
            verified = self._verify(token)
        except Unauthorized:
            self.refused += 1
            raise
        if verified.expires_at is not None:
            self.cache.put(token, verified, verified.expires_at)
        return verified

    def _verify(self, token: str) -> Verified:
        if len(token) > MAX_TOKEN_BYTES:
            raise invalid_token(f"the token is longer than {MAX_TOKEN_BYTES} bytes", "too_large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise invalid_token("the token is malformed", "malformed") from exc
        if "crit" in header:
            raise invalid_token("the token has critical header extensions", "crit")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.keyring.algorithms:
            raise invalid_token("the token's algorithm is not accepted", "algorithm")
        key = self.keyring.key_for(algorithm, header.get("kid"))
        if key is None:
            raise invalid_token("the token's key is unknown", "unknown_key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options=self._options,
            )
        except jwt.InvalidTokenError as exc:
            for error, reason, message in _REASONS:
                if isinstance(exc, error):
                    raise invalid_token(message, reason) from exc
            raise invalid_token("the token is not valid", "invalid") from exc
        return self._verified(claims)

    def _verified(self, claims: dict[str, Any]) -> Verified:
        subject, exp = claims.get("sub"), claims.get("exp")
        if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
            raise invalid_token("the token's subject must be 1-256 printable ASCII characters", "subject")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise invalid_token("the token's exp must be a number", "malformed")
        scopes = scopes_of(claims)
        grant: Grant | None = None
        key_id, user_id = claims.get(KEY_CLAIM), claims.get(USER_CLAIM)
        if isinstance(key_id, str):
            grant = ("key", key_id)
        elif isinstance(user_id, str):
            grant = ("user", user_id)
        principal = Principal("jwt", subject, scopes, key_id=key_id if isinstance(key_id, str) else None)
        return Verified(principal, float(exp) + self.leeway, grant)


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (space-separated, RFC 8693/OAuth) and/or ``scopes`` (a list)."""
    found: list[str] = []
    scope = claims.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            raise invalid_token("the token's scope claim must be a space-separated string", "scope")
        found.extend(scope.split())
    listed = claims.get("scopes")
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(s, str) and s for s in listed):
            raise invalid_token("the token's scopes claim must be a list of strings", "scope")
        found.extend(listed)
    if len(found) > MAX_SCOPES:
        raise invalid_token(f"the token carries more than {MAX_SCOPES} scopes", "scope")
    if not all(_SCOPE.fullmatch(s) for s in found):
        raise invalid_token("a scope of the token is not an RFC 6749 scope token", "scope")
    return frozenset(found)


@dataclass(frozen=True)
class IssuedToken:
    """An OAuth 2 access token response (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str

    def response(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


class TokenIssuer:
    """Signs short-lived tokens with the key ring's signing key (disabled without one)."""

    def __init__(
        self,
        keyring: KeyRing,
        *,
        issuer: str = "",
        audience: str = "",
        ttl_seconds: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing = keyring.signing
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.signing is not None

    def issue(
        self, subject: str, scopes: list[str], *, grant: Grant | None = None, ttl_seconds: int | None = None
    ) -> IssuedToken:
        """A token for ``subject`` with ``scopes``; ``grant`` ties it to a revocable key or user."""
        if self.signing is None:
            raise RuntimeError("token issuing is disabled (no signing key)")
        ttl = ttl_seconds or self.ttl_seconds
        now = int(self.clock())
        claims: dict[str, Any] = {
            "sub": subject,
            "scope": " ".join(scopes),
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
        }
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        if grant is not None:
            claims[KEY_CLAIM if grant[0] == "key" else USER_CLAIM] = grant[1]
        headers = {"kid": self.signing.kid} if self.signing.kid else None
        token = jwt.encode(claims, self.signing.key, algorithm=self.signing.algorithm, headers=headers)
        return IssuedToken(token, ttl, claims["scope"])

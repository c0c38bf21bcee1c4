"""The token endpoint's two OAuth 2 grants (RFC 6749): ``password`` and ``client_credentials``.

``password``: a user's name and password (argon2id, :mod:`.users`) buy a token for that user.
``client_credentials``: an API key's id and secret buy a token for ``key:<id>`` — handy for a
browser or a client that prefers short-lived bearer tokens over sending the key on every call.
Either way the token carries at most the scopes of its grant (``scope`` may ask for fewer), and
names the grant (:data:`~.tokens.KEY_CLAIM`/:data:`~.tokens.USER_CLAIM`), so revoking the key or
deleting the user ends the token too.

Bad credentials are one 401 whatever was wrong (unknown user, wrong password), after the same
work, so the answer does not say which user names exist.
"""

from __future__ import annotations

import hmac

from ascep.common.errors import BadRequest, ServiceUnavailable, Unauthorized
from ascep.gateway.auth.access import SCOPES
from ascep.gateway.auth.access_store import AccessStore
from ascep.gateway.auth.api_keys import KEY_PREFIX, digest, is_key_id, split_key
from ascep.gateway.auth.principal import anonymous
from ascep.gateway.auth.tokens import IssuedToken, TokenIssuer
from ascep.gateway.auth.users import PasswordHasher

GRANT_TYPES = ("password", "client_credentials")
_MAX_FIELD = 1024


def granted_scopes(available: frozenset[str], requested: str | None) -> list[str]:
    """The scopes a token gets: all of ``available``, or the ``requested`` ones it covers (400 else)."""
    if not requested or not requested.strip():
        return [s for s in SCOPES if s in available] + sorted(available - set(SCOPES))
    holder = anonymous(available)  # has_scope knows that admin implies write implies read
    asked = list(dict.fromkeys(requested.split()))
    missing = [s for s in asked if not holder.has_scope(s)]
    if missing:
        raise BadRequest(
            f"scope not granted: {' '.join(missing)}", {"oauth_error": "invalid_scope", "scope": missing}
        )
    return asked


class Grants:
    """Issue tokens for users and API keys."""

    def __init__(self, store: AccessStore, hasher: PasswordHasher, issuer: TokenIssuer) -> None:
        self.store = store
        self.hasher = hasher
        self.issuer = issuer

    def _check_enabled(self) -> None:
        if not self.issuer.enabled:
            raise ServiceUnavailable(
                "token issuing is disabled: set JWT_SECRET (HS*) or JWT_PRIVATE_KEY (RS*/ES*/EdDSA)",
                {"reason": "no_signing_key"},
            )

    def password(self, username: object, password: object, scope: str | None) -> IssuedToken:
        self._check_enabled()
        if not isinstance(username, str) or not isinstance(password, str):
            raise BadRequest("username and password are required", {"oauth_error": "invalid_request"})
        if len(username) > _MAX_FIELD or len(password) > _MAX_FIELD:
            raise BadRequest("username or password too long", {"oauth_error": "invalid_request"})
        user = self.store.user(username)
        matches = self.hasher.verify(user.password_hash if user else None, password)
        if user is None or not matches:
            raise Unauthorized("wrong user name or password", {"oauth_error": "invalid_grant"})
        scopes = granted_scopes(user.scopes, scope)
        return self.issuer.issue(user.username, scopes, grant=("user", user.id))

    def client_credentials(self, client_id: object, secret: object, scope: str | None) -> IssuedToken:
        """``client_secret`` may be the whole key (``ascep_<id>_<secret>``) or its secret part."""
        self._check_enabled()
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise BadRequest("client_id and client_secret are required", {"oauth_error": "invalid_request"})
        if secret.startswith(KEY_PREFIX):
            parts = split_key(secret)
            if parts is None or parts[0] != client_id:
                raise Unauthorized("wrong client credentials", {"oauth_error": "invalid_client"})
            secret = parts[1]
        record = self.store.key(client_id) if is_key_id(client_id) else None
        expected = record.secret_sha256 if record is not None else "0" * 64
        if not hmac.compare_digest(digest(secret).encode(), expected.encode()) or record is None:
            raise Unauthorized("wrong client credentials", {"oauth_error": "invalid_client"})
        scopes = granted_scopes(record.scopes, scope)
        return self.issuer.issue(f"key:{record.id}", scopes, grant=("key", record.id))

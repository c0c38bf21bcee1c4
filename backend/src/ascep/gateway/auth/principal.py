"""The authenticated caller of one request, as every gateway step and route sees it.

Authentication produces a :class:`Principal`; authorisation (scopes), rate limiting (identity),
traffic splits (sticky key) and the trusted subject header sent to services all read it. It lives
on the proxy's ``Exchange.principal`` and, for the gateway's own routes and Socket.IO, in the WSGI
environ under :data:`ENVIRON_KEY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: WSGI environ key under which the gateway's own routes find the request's principal.
ENVIRON_KEY = "ascep.principal"

PrincipalKind = Literal["jwt", "api_key", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    """``subject``: JWT ``sub`` or ``key:<key id>``; anonymous callers are known by address only."""

    kind: PrincipalKind
    subject: str
    scopes: frozenset[str]
    key_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    def has_scope(self, scope: str) -> bool:
        """``admin`` implies ``write`` implies ``read``: an administrator can do what a writer can."""
        return scope in self.scopes or any(s in self.scopes for s in _IMPLIED_BY.get(scope, ()))

    def rate_limit_identity(self, client_addr: str) -> str:
        """What a rate limit counts by: the API key, else the JWT subject, else the client address."""
        if self.kind == "api_key" and self.key_id:
            return f"key:{self.key_id}"
        if self.kind == "jwt":
            return f"sub:{self.subject}"
        return f"ip:{client_addr}"


_IMPLIED_BY: dict[str, tuple[str, ...]] = {"read": ("write", "admin"), "write": ("admin",)}


def anonymous(scopes: frozenset[str] = frozenset()) -> Principal:
    """The caller without credentials (``AUTH_MODE=off`` grants it every scope)."""
    return Principal("anonymous", "anonymous", scopes)

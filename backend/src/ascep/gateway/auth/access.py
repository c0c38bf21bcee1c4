"""Which scope a request needs: the method's default, a service's registered override, admin paths.

The rule, before any override: ``read`` for ``GET``/``HEAD``/``OPTIONS``, ``write`` for every
other method (every state change), ``admin`` for everything under ``/api/gateway/``. A service
loosens or tightens it in its registration::

    register_service(..., access=Access(read="public"))                  # anyone may read
    register_service(..., access=Access(write="admin"))                  # writes need admin
    register_service(..., access=Access(paths={"/rules/test": Access(write="read")}))

``paths`` maps a path prefix (under one of the service's endpoints) to the access of that part;
the longest matching prefix wins. ``write`` can never be ``public``: a state change through the
gateway always needs a credential when authentication is on. Invalid values raise
:class:`~ascep.common.errors.RegistrationError` when the registry line runs.

Pure Python (no Flask, no I/O): the proxy step and the gateway's own routes both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ascep.common.errors import RegistrationError

#: The scopes of ASCEP, weakest first (``admin`` implies ``write`` implies ``read``).
SCOPES: tuple[str, ...] = ("read", "write", "admin")
#: What ``read`` may also be: no credential needed at all.
PUBLIC = "public"

Requirement = Literal["public", "read", "write", "admin"]

#: Methods that only read; every other method changes state and needs ``write``.
READ_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Access:
    """The scopes a service's routes need: ``read`` for reading methods, ``write`` for the rest."""

    read: Requirement = "read"
    write: Requirement = "write"
    paths: Mapping[str, Access] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.read not in (PUBLIC, *SCOPES):
            raise RegistrationError("access", f"read={self.read!r} must be one of public, read, write, admin")
        if self.write not in ("write", "admin"):
            raise RegistrationError(
                "access", f"write={self.write!r} must be write or admin (state changes are never public)"
            )
        if not isinstance(self.paths, Mapping):
            raise RegistrationError("access", "paths must map path prefixes to Access(...)")
        for prefix, nested in self.paths.items():
            if not isinstance(prefix, str) or not prefix.startswith("/") or prefix != prefix.rstrip("/"):
                raise RegistrationError("access", f"paths key {prefix!r} must look like '/foo/bar'")
            if not isinstance(nested, Access) or nested.paths:
                raise RegistrationError("access", f"paths[{prefix!r}] must be an Access(...) without paths")
        object.__setattr__(self, "paths", MappingProxyType(dict(self.paths)))

    def required(self, method: str, path: str) -> Requirement:
        """The scope (or ``public``) a ``method`` on ``path`` (below ``/api``) needs."""
        access = self._for_path(path) if self.paths else self
        return access.read if method in READ_METHODS else access.write

    def _for_path(self, path: str) -> Access:
        best: Access = self
        best_length = -1
        for prefix, nested in self.paths.items():
            if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best_length:
                best, best_length = nested, len(prefix)
        return best

    def describe(self) -> dict[str, object]:
        described: dict[str, object] = {"read": self.read, "write": self.write}
        if self.paths:
            described["paths"] = {p: {"read": a.read, "write": a.write} for p, a in self.paths.items()}
        return described


DEFAULT_ACCESS = Access()


def check_access(access: object, endpoints: tuple[str, ...]) -> Access:
    """Validate a registration's ``access``; every ``paths`` prefix must lie under an endpoint."""
    if access is None:
        return DEFAULT_ACCESS
    if not isinstance(access, Access):
        raise RegistrationError("access", f"{access!r} must be an Access(...)")
    for prefix in access.paths:
        if not any(prefix == e or prefix.startswith(e + "/") for e in endpoints):
            raise RegistrationError("access", f"paths key {prefix!r} is not under any of {list(endpoints)}")
    return access

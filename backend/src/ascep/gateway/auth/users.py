"""Users of the token endpoint's ``password`` grant, and how their passwords are kept.

Passwords are hashed with **argon2id** (argon2-cffi's ``PasswordHasher``): the winner of the
Password Hashing Competition, RFC 9106, OWASP's first choice, memory-hard (a GPU or ASIC farm
gains little), and its PHC string carries salt and parameters, so they can be raised later
(``check_needs_rehash``) without a migration. ``hashlib.scrypt`` would avoid a dependency but
leaves encoding, salts and parameter upgrades to us; argon2-cffi is the maintained library made
for exactly this. Parameters: OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane), ~20-40 ms.

Hashing blocks a CPU for that long, so the gateway runs it in a worker thread
(:class:`PasswordHasher` takes the ``offload`` function), at most ``MAX_CONCURRENT_HASHES`` at once
(memory: 19 MiB each); an unknown user costs a hash too, so timing does not reveal which names exist.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ascep.common.errors import ServiceUnavailable, ValidationFailed
from ascep.common.events import EventFormatError
from ascep.gateway.auth.access import SCOPES

T = TypeVar("T")
Offload = Callable[[Callable[[], T]], T]

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
#: Password hashes running at once in one gateway process; more wait up to ``HASH_WAIT_S``.
MAX_CONCURRENT_HASHES = 4
HASH_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class UserRecord:
    """What Redis holds for one user (``id`` changes when a name is deleted and created again)."""

    id: str
    username: str
    scopes: frozenset[str]
    password_hash: str
    created_at: str
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "scopes": sorted(self.scopes),
            "password_hash": self.password_hash,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }

    def describe(self) -> dict[str, Any]:
        shown = self.to_dict()
        del shown["password_hash"]
        return shown

    @classmethod
    def from_dict(cls, data: Any) -> UserRecord:
        if not isinstance(data, dict):
            raise EventFormatError("record", "must be an object")
        fields = {}
        for name in ("id", "username", "password_hash", "created_at", "created_by"):
            value = data.get(name)
            if not isinstance(value, str):
                raise EventFormatError(name, "must be a string")
            fields[name] = value
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise EventFormatError("scopes", "must be a list of strings")
        return cls(scopes=frozenset(scopes), **fields)


def new_user_id() -> str:
    return secrets.token_hex(8)


def check_username(name: object) -> str:
    if not isinstance(name, str) or not USERNAME.fullmatch(name):
        raise ValidationFailed("username must be 1-64 of letters, digits and _.@-", {"field": "username"})
    return name


def check_password(password: object) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise ValidationFailed(
            f"password must be a string of {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters",
            {"field": "password"},
        )
    return password


def check_scopes(scopes: object, field: str = "scopes") -> frozenset[str]:
    """A non-empty list of ASCEP scopes (``read``, ``write``, ``admin``)."""
    if not isinstance(scopes, list) or not scopes or not all(s in SCOPES for s in scopes):
        raise ValidationFailed(f"{field} must be a non-empty list of {', '.join(SCOPES)}", {"field": field})
    return frozenset(scopes)


def _direct(work: Callable[[], T]) -> T:
    return work()


class PasswordHasher:
    """argon2id hashing and verification, off the event loop and bounded in concurrency."""

    def __init__(self, offload: Offload[Any] = _direct) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self._offload = offload
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def _run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(timeout=HASH_WAIT_S):
            raise ServiceUnavailable(
                "too many sign-ins at once; retry shortly", {"limit": MAX_CONCURRENT_HASHES}
            )
        try:
            return self._offload(work)
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        return self._run(lambda: self._hasher.hash(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; ``None`` (no such user) still costs one verification."""

        def check() -> bool:
            try:
                return self._hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return self._run(check)

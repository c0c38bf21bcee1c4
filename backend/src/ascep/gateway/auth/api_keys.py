"""API keys: their format, their stored form, and the in-memory table every request is checked against.

A key is ``ascep_<id>_<secret>``: ``id`` is 16 hex characters (not secret: it names the key in
listings, logs and rate limits), ``secret`` 43 characters of ``secrets.token_urlsafe(32)``. Redis
keeps only ``SHA-256(secret)``; the key itself is shown once, when it is created.

Why SHA-256 and not a password hash: the secret has 256 random bits, so a fast hash loses
nothing (there is no dictionary to try) while a slow one would cost every request tens of
milliseconds. The comparison is :func:`hmac.compare_digest`, constant-time.

The :class:`AccessTable` is this process's copy of the keys (and of which users exist), replaced
whole by the sync loop (:mod:`.access_sync`); checking a key is a dict probe and one hash, never a
Redis round trip. If the copy could not be refreshed for ``max_staleness`` seconds (Redis away),
key checks answer 503 instead of trusting a list that may still hold a revoked key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ascep.common.errors import DependencyUnavailable, Unauthorized
from ascep.common.events import EventFormatError

KEY_PREFIX = "ascep_"
_KEY = re.compile(r"^ascep_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_ID = re.compile(r"^[0-9a-f]{16}$")
#: API key header (``X-API-Key: ascep_...``).
API_KEY_HEADER = "X-API-Key"


def new_key() -> tuple[str, str, str]:
    """A fresh ``(id, key, sha256 hex of its secret)``."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{KEY_PREFIX}{key_id}_{secret}", digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(presented: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed key, else ``None``."""
    match = _KEY.fullmatch(presented)
    return (match.group(1), match.group(2)) if match else None


def is_key_id(text: str) -> bool:
    return bool(_ID.fullmatch(text))


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What Redis holds for one key (never the secret)."""

    id: str
    name: str
    scopes: frozenset[str]
    secret_sha256: str
    created_at: str
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "secret_sha256": self.secret_sha256,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }

    def describe(self) -> dict[str, Any]:
        """The public view (admin listing): everything but the hash."""
        shown = self.to_dict()
        del shown["secret_sha256"]
        return shown

    @classmethod
    def from_dict(cls, data: Any) -> ApiKeyRecord:
        if not isinstance(data, dict):
            raise EventFormatError("record", "must be an object")
        fields = {}
        for name in ("id", "name", "secret_sha256", "created_at", "created_by"):
            value = data.get(name)
            if not isinstance(value, str):
                raise EventFormatError(name, "must be a string")
            fields[name] = value
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise EventFormatError("scopes", "must be a list of strings")
        return cls(scopes=frozenset(scopes), **fields)


#: A fixed digest compared against when a key id is unknown, so both paths cost the same.
_NO_DIGEST = "0" * 64


class AccessTable:
    """This process's API keys (by id) and live user ids; replaced whole, never edited in place."""

    def __init__(self, max_staleness: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.keys: dict[str, ApiKeyRecord] = {}
        self.user_ids: frozenset[str] = frozenset()
        self.max_staleness = max_staleness
        self.clock = clock
        self.synced_at: float | None = None

    def replace(self, keys: Iterable[ApiKeyRecord], user_ids: Iterable[str]) -> None:
        self.keys = {record.id: record for record in keys}
        self.user_ids = frozenset(user_ids)
        self.synced_at = self.clock()

    @property
    def fresh(self) -> bool:
        return self.synced_at is not None and self.clock() - self.synced_at <= self.max_staleness

    def check_fresh(self) -> None:
        if not self.fresh:
            raise DependencyUnavailable(
                "API keys cannot be checked right now (their list could not be read); retry shortly",
                {"dependency": "redis"},
            )

    def verify_key(self, presented: str) -> ApiKeyRecord:
        """The record of a presented key, or 401; constant-time in the secret."""
        parts = split_key(presented)
        if parts is None:
            raise Unauthorized("the API key is malformed", {"reason": "malformed"})
        self.check_fresh()
        key_id, secret = parts
        record = self.keys.get(key_id)
        expected = record.secret_sha256 if record is not None else _NO_DIGEST
        if not hmac.compare_digest(digest(secret).encode(), expected.encode()) or record is None:
            raise Unauthorized("the API key is not valid", {"reason": "unknown_key"})
        return record

    def grant_alive(self, kind: str, grant_id: str) -> bool:
        """Does the key or user a gateway-issued token was granted on still exist?"""
        self.check_fresh()
        return grant_id in self.keys if kind == "key" else grant_id in self.user_ids

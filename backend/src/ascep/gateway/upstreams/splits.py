"""Weighted traffic splits (canary releases) with sticky, deterministic assignment. Pure Python.

A split sends a share of a service's traffic to a *canary* version and the rest to the *stable*
one, e.g. ``price_feed: v1 9000 bp, v2 1000 bp`` (basis points, summing to 10 000). Which arm a
request takes depends only on its key (the caller's identity, see :mod:`.split_step`) and the
split's salt::

    bucket = blake2b(salt NUL key) mod 10 000        # the same everywhere, always
    arm    = canary if bucket < canary basis points else stable

Consequences, each relied on and tested:

* **Sticky**: the same key lands on the same arm on every request, every gateway process and
  after restarts — nothing random, no per-process state, not Python's salted ``hash``.
* **Growth only adds keys**: the canary owns ``[0, canary_bp)`` of the 0..9999 line and the
  stable arm the rest. Raising the canary from 500 to 2000 bp moves the keys of ``[500, 2000)``
  from stable to canary; a key below 500 is below 2000 as well, so nobody goes back to stable
  (spring-cloud-gateway#3117: random per-request splits flip users between versions).
* **Independent per service**: the salt defaults to the service name, so a user in the 5 % canary
  of one service is not systematically in the canary of every other one.

One canary per split, on purpose: with two or more canaries laid out on one line, growing one
would shift another's segment and move its users. ``X-Canary: always|never`` forces an arm
(for testing a version before it gets traffic).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ascep.common.errors import ValidationFailed

Arm = Literal["stable", "canary"]
STABLE: Arm = "stable"
CANARY: Arm = "canary"

BASIS_POINTS = 10_000
#: Request header forcing an arm (``always``: canary, ``never``: stable); anything else is refused.
FORCE_HEADER = "X-Canary"
FORCE_VALUES: dict[str, Arm] = {"always": CANARY, "never": STABLE}

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,63}$")
_SALT_MAX = 128


def bucket(salt: str, key: str) -> int:
    """Position of ``key`` on the 0..9999 line: a stable hash, the same in every process.

    8 bytes of BLAKE2b modulo 10 000: the modulo bias (2^64 mod 10^4 over 2^64) is ~10^-16.
    """
    digest = hashlib.blake2b(f"{salt}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BASIS_POINTS


@dataclass(frozen=True, slots=True)
class Split:
    """One service's split as every gateway process holds it (replaced whole on each change).

    ``generation`` increases on every change (an API write or a rollback); the rollback counts
    requests per generation, so a changed split is judged on its own traffic only.
    ``rolled_back`` says why the canary was set to 0 automatically (``None`` otherwise).
    """

    service: str
    stable: str
    canary: str
    canary_bp: int
    salt: str
    generation: int = 0
    updated_at: str | None = None
    rolled_back: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def stable_bp(self) -> int:
        return BASIS_POINTS - self.canary_bp

    def arm_for(self, key: str) -> Arm:
        """The arm ``key`` belongs to (sticky: see the module docstring)."""
        return CANARY if bucket(self.salt, key) < self.canary_bp else STABLE

    def version_of(self, arm: Arm) -> str:
        return self.canary if arm == CANARY else self.stable

    def arm_of_version(self, version: str) -> Arm | None:
        """Which arm an instance of ``version`` serves (``None``: neither)."""
        if version == self.canary:
            return CANARY
        if version == self.stable:
            return STABLE
        return None

    def describe(self) -> dict[str, Any]:
        """JSON view for ``/api/gateway/splits``."""
        return {
            "service": self.service,
            "arms": [
                {"role": STABLE, "version": self.stable, "basis_points": self.stable_bp},
                {"role": CANARY, "version": self.canary, "basis_points": self.canary_bp},
            ],
            "salt": self.salt,
            "generation": self.generation,
            "updated_at": self.updated_at,
            "rolled_back": self.rolled_back,
        }

    def record(self) -> dict[str, Any]:
        """What Redis stores (:meth:`from_record` reads it back)."""
        return {
            "service": self.service,
            "stable": self.stable,
            "canary": self.canary,
            "canary_bp": self.canary_bp,
            "salt": self.salt,
            "generation": self.generation,
            "updated_at": self.updated_at,
            "rolled_back": self.rolled_back,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Split:
        """A stored record, checked as strictly as an API write (Redis is shared: trust nothing)."""
        if not isinstance(record, dict):
            raise _invalid("record", "must be a JSON object")
        split = parse_split(
            str(record.get("service", "")),
            {
                "arms": [
                    {
                        "version": record.get("stable"),
                        "basis_points": BASIS_POINTS - _int(record, "canary_bp"),
                    },
                    {"version": record.get("canary"), "basis_points": _int(record, "canary_bp")},
                ],
                "salt": record.get("salt"),
            },
        )
        rolled_back = record.get("rolled_back")
        return Split(
            split.service,
            split.stable,
            split.canary,
            split.canary_bp,
            split.salt,
            generation=_int(record, "generation"),
            updated_at=record.get("updated_at") if isinstance(record.get("updated_at"), str) else None,
            rolled_back=rolled_back if isinstance(rolled_back, dict) else None,
        )


def forced_arm(value: str | None) -> Arm | None:
    """The arm an ``X-Canary`` header forces; ``None`` if absent; 400-worthy if unknown."""
    if value is None:
        return None
    arm = FORCE_VALUES.get(value.strip().lower())
    if arm is None:
        raise ValueError(value)
    return arm


#: The JSON Schema of a ``PUT /api/gateway/splits/<service>`` body, next to the parser that
#: enforces it (and what a schema cannot say: different versions, points summing to 10 000).
SPLIT_UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["arms"],
    "additionalProperties": False,
    "properties": {
        "arms": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "description": f"the stable version first, then the canary; basis points sum to {BASIS_POINTS}",
            "items": {
                "type": "object",
                "required": ["version", "basis_points"],
                "additionalProperties": False,
                "properties": {
                    "version": {"type": "string", "pattern": _VERSION.pattern},
                    "basis_points": {"type": "integer", "minimum": 0, "maximum": BASIS_POINTS},
                },
            },
        },
        "salt": {"type": ["string", "null"], "minLength": 1, "maxLength": _SALT_MAX},
    },
}


def parse_split(service: str, document: object) -> Split:
    """Validate an API body ``{"arms": [{version, basis_points}, {version, basis_points}], "salt"?}``.

    The first arm is the stable one, the second the canary. Raises 422 ``VALIDATION_ERROR`` with
    ``details.field`` naming what is wrong.
    """
    if not isinstance(document, dict):
        raise _invalid("body", "must be a JSON object with an 'arms' list")
    unknown = sorted(set(document) - {"arms", "salt"})
    if unknown:
        raise _invalid(unknown[0], "unknown field (allowed: arms, salt)")
    arms = document.get("arms")
    if not isinstance(arms, list) or len(arms) != 2:
        raise _invalid("arms", "must list exactly two arms: the stable version first, then the canary")
    versions: list[str] = []
    points: list[int] = []
    for index, arm in enumerate(arms):
        if not isinstance(arm, dict) or set(arm) != {"version", "basis_points"}:
            raise _invalid(f"arms[{index}]", 'must be {"version": ..., "basis_points": ...}')
        version, bp = arm["version"], arm["basis_points"]
        if not isinstance(version, str) or not _VERSION.match(version):
            raise _invalid(f"arms[{index}].version", "must be 1-64 of letters, digits and ._+- ")
        if isinstance(bp, bool) or not isinstance(bp, int) or not 0 <= bp <= BASIS_POINTS:
            raise _invalid(f"arms[{index}].basis_points", f"must be an integer from 0 to {BASIS_POINTS}")
        versions.append(version)
        points.append(bp)
    if versions[0] == versions[1]:
        raise _invalid("arms", "the two arms must name different versions")
    if sum(points) != BASIS_POINTS:
        raise _invalid("arms", f"basis_points must sum to {BASIS_POINTS} (got {sum(points)})")
    salt = document.get("salt", service)
    if salt is None:
        salt = service
    if not isinstance(salt, str) or not 0 < len(salt) <= _SALT_MAX:
        raise _invalid("salt", f"must be a non-empty string of at most {_SALT_MAX} characters")
    return Split(service, versions[0], versions[1], points[1], salt)


def _int(record: dict[str, Any], name: str) -> int:
    value = record.get(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # cjson (Redis Lua) may write integers as floats
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(name, "must be an integer")
    return value


def _invalid(name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {reason}", {"field": name, "reason": reason})

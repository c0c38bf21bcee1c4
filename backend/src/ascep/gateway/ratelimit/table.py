"""Which limit each target is under: runtime override, else registration, else the default.

Targets are the registered services (their proxied routes), :data:`GATEWAY` (the gateway's own
``/api`` routes) and :data:`SOCKETIO` (Socket.IO connection attempts per client address). The
table is read on every request and replaced whole when an override changes (by the sync loop or
the admin API), never mutated in place: a request sees one consistent set of policies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ascep.gateway.ratelimit.policy import Policy
from ascep.gateway.ratelimit.scripts import Algorithm
from ascep.gateway.ratelimit.spec import LimitSpec

logger = logging.getLogger(__name__)

#: The gateway's own ``/api`` routes (health, latency, services, ``/api/gateway/...``).
GATEWAY: Final = "gateway"
#: Socket.IO connection attempts (handshakes), counted per client address.
SOCKETIO: Final = "socketio"
#: Names no service may be registered under: they are rate-limit targets of the gateway itself.
RESERVED_TARGETS: Final = frozenset({GATEWAY, SOCKETIO})


@dataclass(frozen=True, slots=True)
class Override:
    """A limit an administrator set at runtime (stored in Redis, shared by every gateway)."""

    spec: LimitSpec
    updated_at: str
    generation: int

    def describe(self) -> dict[str, Any]:
        return {"limit": str(self.spec), "updated_at": self.updated_at, "generation": self.generation}


def check_for_algorithm(spec: LimitSpec, algorithm: Algorithm) -> None:
    """Raise :class:`~.spec.LimitSpecError` if ``algorithm`` cannot run ``spec``."""
    if algorithm == "sliding_window":
        spec.check_sliding_window()


class PolicyTable:
    """The policies in force in this process, by target."""

    def __init__(self, base: Mapping[str, Policy], algorithm: Algorithm) -> None:
        self.base = dict(base)  # from settings and registrations: fixed for the process's life
        self.algorithm = algorithm
        self.overrides: dict[str, Override] = {}
        self.policies: dict[str, Policy] = dict(self.base)

    def get(self, target: str) -> Policy | None:
        """The enabled policy of ``target``; ``None`` when it is not limited."""
        policy = self.policies.get(target)
        return policy if policy is not None and policy.spec.enabled else None

    def knows(self, target: str) -> bool:
        return target in self.base

    def replace_overrides(self, overrides: Mapping[str, Override]) -> None:
        """Adopt the stored overrides (unknown targets ignored); each change is logged once."""
        known = {t: o for t, o in overrides.items() if t in self.base}
        for target, override in known.items():
            before = self.overrides.get(target)
            if before is None or before.generation != override.generation:
                logger.info(
                    "rate limit of %r now %s (override, generation %d)",
                    target,
                    override.spec,
                    override.generation,
                )
        for target in set(self.overrides) - set(known):
            logger.info("rate limit of %r back to %s (override removed)", target, self.base[target].spec)
        policies = dict(self.base)
        for target, override in known.items():
            policies[target] = Policy(target, override.spec, "override")
        self.overrides = known
        self.policies = policies

    def describe(self, target: str) -> dict[str, Any]:
        """A target's policy, where it came from, and what it would be without the override."""
        override = self.overrides.get(target)
        return {
            "target": target,
            **self.policies[target].describe(),
            "configured": self.base[target].describe(),
            "override": override.describe() if override is not None else None,
        }

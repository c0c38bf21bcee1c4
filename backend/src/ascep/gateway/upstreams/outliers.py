"""Passive outlier detection: eject an instance that keeps failing real proxied calls.

The proxy tells :meth:`Outliers.observe` how every call to an instance ended (local memory only:
no Redis on the hot path). ``consecutive_failures`` failures in a row (a 5xx answer, a timeout,
a refused or broken connection) eject the instance for ``base_ejection_s x times ejected``,
capped at ``max_ejection_s`` (Envoy's rule). It returns by itself when that time has passed;
the next streak ejects it for longer. ``times_ejected`` starts over once the instance has stayed
in for ``max_ejection_s`` since it last returned.

How many instances of a service may be out at once (:func:`max_ejectable`) is
``floor(share x n)``, but at least one when ``n ≥ 2`` and never all of them — envoy#3263: with
2-3 hosts a percentage check done *before* counting the new ejection lets 2 of 3 hosts out at
34 %, and a plain floor would never eject anything from a pair. So: 1 instance → never ejected
(there is nothing to route to instead: that is the circuit breaker's job); 2 → at most 1;
3 at 34 % → at most 1; 10 at 34 % → 3. An ejection is also refused when no other instance is
routable (healthy and not ejected). A refused ejection keeps the streak, so the next failure
tries again once another instance is back.

Active health and ejection are independent signals: a passing health check does not return an
ejected instance early (a service whose ``/health`` is fine may still fail its real calls).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ascep.gateway.upstreams.model import Upstream, UpstreamKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutlierOptions:
    """When and for how long a failing instance is ejected (defaults: Envoy's, 5 failures / 30 s)."""

    consecutive_failures: int = 5
    base_ejection_s: float = 30.0
    max_ejection_s: float = 300.0
    max_ejected_share: float = 0.34

    def __post_init__(self) -> None:
        if self.consecutive_failures < 1:
            raise ValueError("consecutive_failures must be at least 1")
        if not 0 < self.base_ejection_s <= self.max_ejection_s:
            raise ValueError("need 0 < base_ejection_s <= max_ejection_s")
        if not 0 <= self.max_ejected_share <= 1:
            raise ValueError("max_ejected_share must be between 0 and 1")


def max_ejectable(instances: int, share: float) -> int:
    """How many of ``instances`` may be ejected at once: see the module docstring."""
    if instances < 2 or share <= 0:
        return 0
    allowed = math.floor(share * instances + 1e-9)  # 0.34 x 3 is 1.02, 0.1 x 30 is 2.9999…
    return min(instances - 1, max(1, allowed))


def ejection_seconds(times_ejected: int, options: OutlierOptions) -> float:
    """How long the ``times_ejected``-th ejection lasts: base x times, capped."""
    return min(options.max_ejection_s, options.base_ejection_s * max(1, times_ejected))


def is_ejected(upstream: Upstream, now: float) -> bool:
    return upstream.ejected_until > now


#: Called with (instance, its state before the ejection) after a local ejection, to share it.
EjectionHandler = Callable[[Upstream, "EjectionState"], None]


@dataclass(frozen=True, slots=True)
class EjectionState:
    """An instance's ejection fields, kept so a refused shared ejection can be undone."""

    ejected_until: float
    times_ejected: int

    @classmethod
    def of(cls, upstream: Upstream) -> EjectionState:
        return cls(upstream.ejected_until, upstream.times_ejected)

    def restore(self, upstream: Upstream) -> None:
        upstream.ejected_until = self.ejected_until
        upstream.times_ejected = self.times_ejected


class Outliers:
    """Failure streaks of this process's calls, and the ejections they decide."""

    def __init__(
        self,
        options_for: Callable[[str], OutlierOptions],
        peers: Callable[[str], Sequence[Upstream]],
        on_ejection: EjectionHandler,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``peers(service)``: the service's current instances (the share is counted over them)."""
        self.options_for = options_for
        self.peers = peers
        self.on_ejection = on_ejection
        self.clock = clock
        self._streaks: dict[UpstreamKey, int] = {}
        self.refused = 0  # ejections the share limit (or no routable peer) prevented

    def observe(self, upstream: Upstream, failed: bool) -> bool:
        """Count one finished call; ``True`` when this failure ejected the instance."""
        key = upstream.key
        if not failed:
            if self._streaks.get(key):
                self._streaks[key] = 0
            return False
        now = self.clock()
        if is_ejected(upstream, now):
            return False  # calls sent before the ejection are still finishing: not a new streak
        streak = self._streaks.get(key, 0) + 1
        self._streaks[key] = streak
        options = self.options_for(upstream.service)
        if streak < options.consecutive_failures:
            return False
        if not self._may_eject(upstream, options, now):
            self.refused += 1
            return False
        self._streaks[key] = 0
        previous = EjectionState.of(upstream)
        if upstream.ejected_until and now - upstream.ejected_until >= options.max_ejection_s:
            upstream.times_ejected = 0  # it behaved for a long while: start over at the base time
        upstream.times_ejected += 1
        upstream.ejected_until = now + ejection_seconds(upstream.times_ejected, options)
        logger.warning(
            "ejecting %s for %.0fs after %d consecutive failures (ejection #%d)",
            key,
            upstream.ejected_until - now,
            streak,
            upstream.times_ejected,
        )
        self.on_ejection(upstream, previous)
        return True

    def _may_eject(self, upstream: Upstream, options: OutlierOptions, now: float) -> bool:
        peers = self.peers(upstream.service)
        ejected = sum(1 for p in peers if is_ejected(p, now))
        if ejected >= max_ejectable(len(peers), options.max_ejected_share):
            logger.info(
                "not ejecting %s: %d of %d instances already ejected (max share %.0f%%)",
                upstream.key,
                ejected,
                len(peers),
                options.max_ejected_share * 100,
            )
            return False
        if not any(p is not upstream and p.healthy and not is_ejected(p, now) for p in peers):
            logger.info(
                "not ejecting %s: no other instance of %s is routable", upstream.key, upstream.service
            )
            return False
        return True

    def forget(self, keep: set[UpstreamKey]) -> None:
        """Drop the streaks of instances that are gone."""
        for key in [k for k in self._streaks if k not in keep]:
            del self._streaks[key]

    def streak(self, upstream: Upstream) -> int:
        return self._streaks.get(upstream.key, 0)

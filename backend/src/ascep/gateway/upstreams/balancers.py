"""Load balancers: pick one instance among the routable candidates of a service.

Pure and synchronous (no I/O, no clock), one object per service, so each is unit-testable with a
seeded ``random.Random``. A balancer never filters: the caller passes only routable candidates
(:meth:`UpstreamSet.candidates`), in a stable order, and a balancer copes with that list changing
between calls (instances come and go).

* :class:`RoundRobin` — each candidate in turn.
* :class:`LeastRequest` — power of two choices (Envoy's default): draw two distinct candidates at
  random, take the one with fewer calls in progress relative to its weight. Nearly as good as
  scanning for the least loaded, without herding every gateway process onto the same instance.
* :class:`SmoothWeighted` — nginx's smooth weighted round robin: with weights 5:3:2 every 10
  picks contain exactly 5, 3 and 2 of each, interleaved (``a b a c a b a c b a``), not in bursts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol

from ascep.gateway.upstreams.model import Upstream


class Balancer(Protocol):
    """Chooses one of a non-empty list of candidates."""

    def pick(self, candidates: Sequence[Upstream]) -> Upstream: ...


class RoundRobin:
    """Candidates in turn; a changed list simply continues from the next index."""

    __slots__ = ("_next",)

    def __init__(self, rng: random.Random | None = None) -> None:
        # Start at a random offset so gateway processes do not all hit the first instance first.
        self._next = (rng or random.Random()).randrange(1 << 16)

    def pick(self, candidates: Sequence[Upstream]) -> Upstream:
        index = self._next % len(candidates)
        self._next = index + 1
        return candidates[index]


class LeastRequest:
    """Power of two choices on ``in_flight / weight`` (ties go to the first drawn)."""

    __slots__ = ("_rng",)

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, candidates: Sequence[Upstream]) -> Upstream:
        count = len(candidates)
        if count == 1:
            return candidates[0]
        draw = self._rng.random  # random() * n is uniform enough here and ~3x cheaper than randrange
        first = int(draw() * count)
        second = int(draw() * (count - 1))
        if second >= first:
            second += 1  # two distinct candidates, each pair equally likely
        a, b = candidates[first], candidates[second]
        # (in_flight + 1) / weight compared without division: a call to a twice-as-heavy
        # instance with one call in progress is as good as an idle instance of weight 1.
        if (b.in_flight + 1) * a.weight < (a.in_flight + 1) * b.weight:
            return b
        return a


class SmoothWeighted:
    """nginx's smooth weighted round robin over the candidates' ``weight``.

    Each pick adds every candidate's weight to its running score, takes the highest score and
    subtracts the total weight from it. State is kept per ``instance_id``; entries of instances
    that stopped being candidates are dropped when the table grows past twice the candidates.
    """

    __slots__ = ("_current",)

    def __init__(self, rng: random.Random | None = None) -> None:
        self._current: dict[str, int] = {}

    def pick(self, candidates: Sequence[Upstream]) -> Upstream:
        current = self._current
        if len(current) > 2 * len(candidates) + 8:
            keep = {c.instance_id for c in candidates}
            self._current = current = {k: v for k, v in current.items() if k in keep}
        total = 0
        best: Upstream | None = None
        best_score = 0
        for candidate in candidates:
            score = current.get(candidate.instance_id, 0) + candidate.weight
            current[candidate.instance_id] = score
            total += candidate.weight
            if best is None or score > best_score:
                best, best_score = candidate, score
        assert best is not None, "pick() needs at least one candidate"
        current[best.instance_id] = best_score - total
        return best


#: Policy name -> balancer class (``UpstreamPolicy.load_balancing``).
BALANCERS: dict[str, Callable[[random.Random | None], Balancer]] = {
    "round_robin": RoundRobin,
    "least_request": LeastRequest,
    "weighted": SmoothWeighted,
}


def make_balancer(name: str, rng: random.Random | None = None) -> Balancer:
    """A fresh balancer for one service; ``rng`` makes random choices reproducible (tests)."""
    return BALANCERS[name](rng)

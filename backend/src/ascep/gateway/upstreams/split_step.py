"""The ``split_traffic`` proxy step: put a request on its split's arm, and count how each arm does.

Runs after ``resolve_route`` and before ``select_upstream``: it sets ``exchange.versions`` (the
arm's version, then the stable one as the fallback) and selection picks among the instances of
the first version that has a routable one. A request is never refused because of a split: with
no routable instance of either version, selection falls back to the service's usual rule.

Everything is local memory: the split table is replaced whole by the sync loop, and the counts
are ints under a lock, merged across processes by the sync loop. No Redis on the request path.

The key a request is assigned by, most specific first:

1. ``principal_of(exchange)`` — the authenticated caller (JWT subject, ``key:<id>`` of an API
   key), set by the ``authenticate`` step; ``None`` for an anonymous caller.
2. The header named by ``SPLIT_KEY_HEADER`` (``X-User-ID``).
3. The client's address (``REMOTE_ADDR``; ``X-Forwarded-For`` is not trusted: anyone can set it).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from ascep.common.errors import AscepError, BadRequest
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.pipeline import Handler, Step
from ascep.gateway.proxy.steps import is_upstream_failure
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.rollback import Deltas
from ascep.gateway.upstreams.splits import CANARY, FORCE_HEADER, FORCE_VALUES, Arm, Split, forced_arm

PrincipalOf = Callable[[Exchange], str | None]


class SplitTable:
    """This process's splits by service; :attr:`splits` is replaced whole, never mutated."""

    def __init__(self) -> None:
        self.splits: dict[str, Split] = {}

    def replace(self, splits: dict[str, Split]) -> None:
        self.splits = dict(splits)


class SplitCounters:
    """Per-arm counts of this process: deltas for the rollback window, totals for ``/metrics``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deltas: dict[tuple[str, int], Deltas] = {}
        #: (service, served arm or "other", version, "ok"|"error") -> requests, forced ones included
        self.requests: Counter[tuple[str, str, str, str]] = Counter()
        #: (service, arm, version assigned) -> requests that went elsewhere (no routable instance)
        self.fallbacks: Counter[tuple[str, str, str]] = Counter()
        #: service -> rollbacks this process performed (the sum over processes is the true count)
        self.rollbacks: Counter[str] = Counter()

    def count(
        self, split: Split, assigned: Arm, upstream: Upstream | None, error: bool, forced: bool
    ) -> None:
        """One finished request of ``split`` that reached ``upstream``."""
        version = upstream.version if upstream is not None else ""
        served = split.arm_of_version(version)
        with self._lock:
            self.requests[(split.service, served or "other", version, "error" if error else "ok")] += 1
            if version != split.version_of(assigned):
                self.fallbacks[(split.service, assigned, split.version_of(assigned))] += 1
            if served is None or forced:
                return  # not a sample of the split's traffic: the rollback ignores it
            deltas = self._deltas.setdefault((split.service, split.generation), {})
            deltas[(served, "requests")] = deltas.get((served, "requests"), 0) + 1
            if error:
                deltas[(served, "errors")] = deltas.get((served, "errors"), 0) + 1

    def take(self, service: str, generation: int) -> Deltas:
        """The counts of ``service``'s ``generation`` since the last call; older generations of
        the service are dropped (a changed split is judged on its own traffic)."""
        with self._lock:
            taken = self._deltas.pop((service, generation), {})
            for key in [k for k in self._deltas if k[0] == service and k[1] < generation]:
                del self._deltas[key]
        return taken

    def give_back(self, service: str, generation: int, deltas: Deltas) -> None:
        """Return counts :meth:`take` handed out that could not be merged (Redis away)."""
        with self._lock:
            pending = self._deltas.setdefault((service, generation), {})
            for key, n in deltas.items():
                pending[key] = pending.get(key, 0) + n

    def forget(self, keep: set[str]) -> None:
        """Drop pending counts of services that no longer have a split."""
        with self._lock:
            for key in [k for k in self._deltas if k[0] not in keep]:
                del self._deltas[key]


def key_resolver(header: str, principal_of: PrincipalOf | None = None) -> Callable[[Exchange], str]:
    """How a request's assignment key is found (see the module docstring)."""

    def key_of(exchange: Exchange) -> str:
        if principal_of is not None:
            principal = principal_of(exchange)
            if principal:
                return principal
        value = exchange.header(header)
        if value and value.strip():
            return value.strip()
        return exchange.client_addr

    return key_of


def split_traffic(table: SplitTable, counters: SplitCounters, key_of: Callable[[Exchange], str]) -> Step:
    """Choose the arm (``X-Canary`` forces one; 400 for another value) and count its outcome."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "split_traffic must run after resolve_route"
        split = table.splits.get(route.service.name)
        if split is None:
            return call_next(exchange)
        try:
            forced = forced_arm(exchange.header(FORCE_HEADER))
        except ValueError as exc:
            raise BadRequest(
                f"{FORCE_HEADER} must be one of {', '.join(FORCE_VALUES)}",
                {"header": FORCE_HEADER, "allowed": list(FORCE_VALUES)},
            ) from exc
        arm = forced or split.arm_for(key_of(exchange))
        exchange.versions = (split.canary, split.stable) if arm == CANARY else (split.stable,)
        try:
            response = call_next(exchange)
        except AscepError as error:
            if is_upstream_failure(error):
                counters.count(split, arm, exchange.upstream, True, forced is not None)
            raise
        response.on_close(
            lambda status, failed: counters.count(
                split, arm, exchange.upstream, failed or status >= 500, forced is not None
            )
        )
        return response

    return step

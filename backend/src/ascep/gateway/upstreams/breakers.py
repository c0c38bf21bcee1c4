"""Every instance's circuit breaker in one gateway process, shared with the others via Redis.

The proxy's ``circuit_breaker`` step asks :meth:`BreakerBoard.admit` before a call and reports
the outcome with :meth:`BreakerBoard.record`. In steady state (CLOSED) both are a dict lookup and
a few counter updates under a short lock that is never held during the call — no Redis. Redis is
asked only around transitions: when this process's window trips (one script run), and while a
breaker is OPEN-and-expired or HALF_OPEN (probe slots are shared, so only Redis can hand them
out). A process that learns the shared round has no slot left refuses locally until the state
changes, so a flood of calls against a half-open breaker costs each process one round trip.

If Redis cannot be reached, every breaker keeps working on this process's observations alone
(probes counted locally) and Redis is left alone for ``REDIS_RETRY_S``; the shared record takes
over again at the next successful call or resync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ascep.common.errors import CircuitOpen
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import iso_utc
from ascep.gateway.upstreams.breaker import (
    HALF_OPEN_RETRY_S,
    BreakerOptions,
    CircuitBreaker,
    Outcome,
    Refusal,
    SharedRecord,
    State,
    Ticket,
    Transition,
)
from ascep.gateway.upstreams.breaker_store import BreakerStore, StoreReply
from ascep.gateway.upstreams.model import UpstreamKey

logger = logging.getLogger(__name__)

#: After a Redis error, breakers run locally for this long before Redis is tried again.
REDIS_RETRY_S = 1.0
#: Upper bounds (seconds) of the refusal-time histogram in ``/metrics``.
REFUSAL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, float("inf"))

StateListener = Callable[[UpstreamKey, State], None]


class BreakerBoard:
    """The breakers of one process, keyed by :class:`UpstreamKey`, created on first use."""

    def __init__(
        self,
        options_for: Callable[[str], BreakerOptions],
        store: BreakerStore | None,
        *,
        clock: Callable[[], float] = time.time,
        on_state: StateListener | None = None,
    ) -> None:
        """``options_for(service)``: that service's breaker options (its upstream policy).
        ``store``: ``None`` runs every breaker locally. ``on_state``: told of every state change
        this process applies (e.g. to mirror it into ``Upstream.breaker_state``)."""
        self._options_for = options_for
        self.store = store
        self.clock = clock
        self._on_state = on_state
        self._breakers: dict[UpstreamKey, CircuitBreaker] = {}
        self._lock = threading.Lock()
        self._redis_down_until = 0.0
        self._asking: dict[UpstreamKey, threading.Lock] = {}  # one probe question at a time
        #: Transitions decided by this process (summed over processes: the true count).
        self.transitions: Counter[tuple[UpstreamKey, str, str]] = Counter()
        self.refused: Counter[UpstreamKey] = Counter()
        self.refusal_buckets = [0] * len(REFUSAL_BUCKETS)
        self.refusal_seconds_sum = 0.0

    def breaker(self, key: UpstreamKey) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            with self._lock:
                breaker = self._breakers.setdefault(
                    key, CircuitBreaker(self._options_for(key.service), self.clock)
                )
        return breaker

    def state(self, key: UpstreamKey) -> State:
        """This process's view, without side effects (for load balancers and ``/api/services``)."""
        breaker = self._breakers.get(key)
        return breaker.state if breaker is not None else "closed"

    # --- the request path ------------------------------------------------------------------
    def admit(self, key: UpstreamKey) -> Ticket:
        """A ticket for one call, or :class:`CircuitOpen` at once."""
        breaker = self.breaker(key)
        with self._lock:
            verdict = breaker.admit(shared=self._shared())
            changes = breaker.drain_changes()
        self._report(key, changes, reply=None)
        if verdict is None:
            verdict = self._admit_shared_once(key, breaker)
        if isinstance(verdict, Refusal):
            self.refused[key] += 1
            raise CircuitOpen(
                f"the circuit breaker of service {key.service!r} instance {key.instance_id!r} is "
                f"{breaker.state.replace('_', '-')}; retry after {verdict.retry_after_header} s",
                {
                    "service": key.service,
                    "instance": key.instance_id,
                    "state": breaker.state,
                    "retry_after_s": verdict.retry_after_header,
                },
                verdict.retry_after_header,
            )
        return verdict

    def _admit_shared_once(self, key: UpstreamKey, breaker: CircuitBreaker) -> Ticket | Refusal:
        """One question to Redis per breaker at a time; calls arriving meanwhile wait for it.

        Only the admission waits (a round trip), never the call. Once the answer is "no slot
        left", the waiting calls are refused locally; without this, a flood against a half-open
        breaker would open a Redis connection per call, hundreds at once.
        """
        with self._lock:
            asking = self._asking.setdefault(key, threading.Lock())
        with asking:
            with self._lock:
                verdict = breaker.admit(shared=self._shared())
                changes = breaker.drain_changes()
            self._report(key, changes, reply=None)
            if verdict is None:
                return self._admit_shared(key, breaker)
            return verdict

    def _admit_shared(self, key: UpstreamKey, breaker: CircuitBreaker) -> Ticket | Refusal:
        """Ask Redis for a probe slot (the breaker is open-and-expired or half-open)."""
        assert self.store is not None
        try:
            reply = self.store.acquire_probe(key, breaker.options, self.clock())
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self._redis_failed(exc)
            with self._lock:
                local = breaker.admit(shared=False)
                changes = breaker.drain_changes()
            self._report(key, changes, reply=None)
            assert local is not None
            return local
        record = reply.record
        verdict: Ticket | Refusal
        with self._lock:
            breaker.apply(record, authoritative=True)
            changes = breaker.drain_changes()
            if reply.admitted:
                verdict = Ticket(breaker.epoch, probe=True, generation=record.generation)
            elif record.state == "closed":
                verdict = Ticket(breaker.epoch)
            elif record.state == "half_open":
                breaker.exhausted = True  # refuse locally until the state or the round changes
                verdict = Refusal(HALF_OPEN_RETRY_S)
            else:
                verdict = Refusal(max(0.0, record.open_until - self.clock()))
        self._report(key, changes, reply=reply)
        return verdict

    def record(self, key: UpstreamKey, ticket: Ticket, outcome: Outcome) -> None:
        """The outcome of an admitted call (called exactly once per ticket)."""
        breaker = self.breaker(key)
        if ticket.probe and ticket.generation and self.store is not None:
            try:
                reply = self.store.report_probe(
                    key, ticket.generation, outcome, breaker.options, self.clock()
                )
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._redis_failed(exc)  # and judge the probe locally, below
            else:
                with self._lock:
                    breaker.apply(reply.record, authoritative=True)
                    changes = breaker.drain_changes()
                self._report(key, changes, reply=reply)
                return
        with self._lock:
            transition = breaker.record(ticket, outcome)
            changes = breaker.drain_changes()
        opened: StoreReply | None = None
        if transition is not None and transition.previous == "closed" and self._shared():
            assert self.store is not None
            try:
                opened = self.store.open(key, transition, breaker.options, self.clock())
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._redis_failed(exc)
            else:
                with self._lock:
                    breaker.apply(opened.record, authoritative=True)
                    changes += breaker.drain_changes()
        self._report(key, changes, reply=opened)

    def observe_refusal(self, seconds: float) -> None:
        """How long a refused call took, from its arrival to the refusal (``/metrics``)."""
        self.refusal_seconds_sum += seconds
        for i, bound in enumerate(REFUSAL_BUCKETS):
            if seconds <= bound:
                self.refusal_buckets[i] += 1
                break

    # --- shared state ----------------------------------------------------------------------
    def apply_shared(self, records: Mapping[UpstreamKey, SharedRecord]) -> None:
        """Adopt records newer than what this process knows (pub/sub message or resync)."""
        self._redis_down_until = 0.0
        for key, record in records.items():
            breaker = self.breaker(key)
            with self._lock:
                breaker.apply(record, authoritative=False)
                changes = breaker.drain_changes()
            self._report(key, changes, reply=None, adopted=True)

    def _report(
        self, key: UpstreamKey, changes: list[Transition], *, reply: StoreReply | None, adopted: bool = False
    ) -> None:
        """Count, log and announce state changes.

        A transition counts in ``/metrics`` where it was decided: by a script run this process
        asked for (``reply.previous``), or here alone while Redis is unreachable (no reply).
        """
        decided_here = False
        if reply is not None and reply.previous is not None:
            decided_here = True
            self.transitions[(key, reply.previous, reply.record.state)] += 1
        for transition in changes:
            local = reply is None and not adopted
            if local:
                self.transitions[(key, transition.previous, transition.state)] += 1
            self._log(key, transition, here=local or decided_here)
            if self._on_state is not None:
                self._on_state(key, transition.state)

    @staticmethod
    def _log(key: UpstreamKey, transition: Transition, *, here: bool) -> None:
        level = logging.WARNING if transition.state == "open" else logging.INFO
        logger.log(
            level,
            "circuit %s: %s -> %s (%s)%s",
            key,
            transition.previous,
            transition.state,
            transition.reason or "no reason given",
            "" if here else " [from another gateway]",
        )

    def _shared(self) -> bool:
        return self.store is not None and self.clock() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        if self.clock() >= self._redis_down_until:
            logger.warning("circuit breakers: Redis unreachable (%s); deciding locally for now", exc)
        self._redis_down_until = self.clock() + REDIS_RETRY_S

    # --- reporting -------------------------------------------------------------------------
    def items(self) -> Iterable[tuple[UpstreamKey, CircuitBreaker]]:
        return list(self._breakers.items())

    def status(self) -> dict[str, Any]:
        """For ``/status``: every breaker this process has seen, with its window and refusals."""
        now = self.clock()
        breakers: dict[str, Any] = {}
        for key, breaker in self.items():
            calls, failures = breaker.window()
            is_open = breaker.state == "open"
            breakers[str(key)] = {
                "service": key.service,
                "instance": key.instance_id,
                "state": breaker.state,
                "generation": breaker.generation,
                "open_until": iso_utc(breaker.open_until * 1000) if is_open else None,
                "retry_after_s": round(max(0.0, breaker.open_until - now), 3) if is_open else None,
                "window": {"calls": calls, "failures": failures},
                "decided_locally": breaker.local_only,
                "refused": self.refused[key],
            }
        return {"shared": self._shared(), "breakers": breakers}

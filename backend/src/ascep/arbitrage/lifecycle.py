"""Signal lifecycle: one signal per opportunity, opened once, updated on material change, closed.

Detection answers "what is profitable through this pair right now"; a trader wants something
else: one signal per opportunity that opens when it appears, says so again only when its profit
moves materially, and closes when it disappears or its quotes go stale. :class:`SignalTracker`
turns detection results into those :class:`SignalEvent` s. It is pure (no Redis, no clock): ids
are assigned later by the store, from Redis, so they stay unique across restarts and instances.

Why re-evaluating one pair is enough to close: detection through a pair is exhaustive, so an open
signal whose cycle uses that pair and is not found again is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.detector import Opportunity, PairKey
from ascep.common.events import ArbitrageSignal
from ascep.common.timeutil import iso_utc

logger = logging.getLogger(__name__)


@dataclass
class SignalState:
    """An open (or just closed) signal; ``id`` is ``None`` until the store has written it."""

    key: str
    type: str
    path: list[str]
    legs: list[dict[str, Any]]
    spread_percentage: float
    gross_percentage: float
    fees_percentage: float
    executable_size: float | None
    first_seen: int
    last_seen: int
    peak_spread_percentage: float
    published_spread_percentage: float
    oldest_ts: int
    pairs: list[PairKey]
    id: int | None = None
    status: str = "open"
    close_reason: str | None = None
    dirty: bool = False
    stored: bool = False  # written to Redis at least once (an adopted signal is)
    #: Adopted from a previous process and not yet seen again: the graph may still lack its other
    #: legs, so "not found" proves nothing; only staleness closes it until it is seen.
    provisional: bool = False

    def refresh(self, opportunity: Opportunity, now_ms: int) -> None:
        self.legs = [_leg(edge) for edge in opportunity.legs]
        self.spread_percentage = opportunity.spread_percentage
        self.gross_percentage = opportunity.gross_percentage
        self.fees_percentage = opportunity.fees_percentage
        self.executable_size = opportunity.executable_size
        self.last_seen = now_ms
        self.peak_spread_percentage = max(self.peak_spread_percentage, opportunity.spread_percentage)
        self.oldest_ts = opportunity.oldest_ts

    def payload(self, config: DetectorConfig, event: str, now_ms: int) -> dict[str, Any]:
        """The JSON document stored and published (an :class:`ArbitrageSignal`)."""
        return ArbitrageSignal(
            id=self.id,
            event=event,
            type=self.type,
            status=self.status,
            key=self.key,
            symbols=tuple(leg["symbol"] for leg in self.legs),
            path=(*self.path, self.path[0]),
            legs=tuple(self.legs),
            prices=tuple(leg["price"] for leg in self.legs),
            spread=self.spread_percentage / 100.0,
            spread_percentage=self.spread_percentage,
            gross_percentage=self.gross_percentage,
            fees_percentage=self.fees_percentage,
            severity=config.severity(self.spread_percentage),
            executable_size=self.executable_size,
            size_currency=self.path[0],
            first_seen=iso_utc(self.first_seen),
            last_seen=iso_utc(self.last_seen),
            first_seen_ts=self.first_seen,
            last_seen_ts=self.last_seen,
            peak_spread_percentage=self.peak_spread_percentage,
            close_reason=self.close_reason,
            timestamp=iso_utc(now_ms),
            ts=now_ms,
        ).to_dict()


@dataclass(frozen=True)
class SignalEvent:
    """``open`` / ``update`` / ``close`` of ``state``; ``touch`` = store silently (no publish)."""

    kind: str
    state: SignalState
    payload: dict[str, Any] = field(repr=False)


def _leg(edge: Any) -> dict[str, Any]:
    return {
        "symbol": edge.symbol,
        "side": edge.side,
        "price": edge.price,
        "source": edge.source,
        "from": edge.src,
        "to": edge.dst,
        "fee_percentage": edge.fee * 100.0,
        "ts": edge.ts,
    }


class SignalTracker:
    """Open signals by cycle key, indexed by the currency pairs their legs use."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self.open: dict[str, SignalState] = {}
        self._by_pair: dict[PairKey, set[str]] = {}
        self._by_edge: dict[tuple[str, str], set[str]] = {}  # directed currency pair -> keys
        self.opened = 0
        self.suppressed = 0
        self.deferred = 0  # new opportunities past max_new_signals_per_tick in their pass
        self.updated = 0
        self.closed = 0

    def observe(self, pair: PairKey, found: Iterable[Opportunity], now_ms: int) -> list[SignalEvent]:
        """Reconcile the open signals through ``pair`` with what detection found through it."""
        return self._reconcile(found, set(self._by_pair.get(pair, ())), now_ms)

    def reconcile(self, found: Iterable[Opportunity], now_ms: int) -> list[SignalEvent]:
        """Like :meth:`observe` for the whole market (after a full scan)."""
        return self._reconcile(found, set(self.open), now_ms)

    def _reconcile(self, found: Iterable[Opportunity], covered: set[str], now_ms: int) -> list[SignalEvent]:
        """Open or update what was found; close the open signals the search ``covered`` but missed.

        A provisional (adopted) signal is never closed for not being found: the graph may still
        lack its other legs.
        """
        events: list[SignalEvent] = []
        seen: set[str] = set()
        room = self.config.max_new_signals_per_tick
        for opportunity in _shortest_first(found):
            seen.add(opportunity.key)
            if opportunity.key not in self.open and room <= 0:
                self.deferred += 1
                continue
            produced = self._seen(opportunity, now_ms)
            room -= sum(1 for event in produced if event.kind == "open")
            events.extend(produced)
        for key in sorted(covered - seen):
            if not self.open[key].provisional:
                events.append(self._close(self.open[key], "disappeared", now_ms))
        return events

    def sweep(self, now_ms: int) -> list[SignalEvent]:
        """Close signals whose oldest quote went stale; ``touch`` the re-confirmed ones."""
        events: list[SignalEvent] = []
        cutoff = now_ms - self.config.max_quote_age_ms
        for state in sorted(self.open.values(), key=lambda s: s.key):
            if state.oldest_ts < cutoff:
                events.append(self._close(state, "stale", now_ms))
            elif state.dirty and state.id is not None:
                state.dirty = False
                events.append(SignalEvent("touch", state, state.payload(self.config, "touch", now_ms)))
        return events

    def adopt(self, stored: Mapping[str, Any]) -> None:
        """Resume a signal a previous process left open (so it keeps its id, or closes as stale)."""
        legs = list(stored.get("legs") or [])
        path = list(stored.get("path") or [])[:-1]
        if not legs or not path or stored.get("status") != "open":
            return
        spread = float(stored.get("spread_percentage", 0.0))
        state = SignalState(
            key=str(stored["key"]),
            type=str(stored["type"]),
            path=path,
            legs=legs,
            spread_percentage=spread,
            gross_percentage=float(stored.get("gross_percentage", spread)),
            fees_percentage=float(stored.get("fees_percentage", 0.0)),
            executable_size=stored.get("executable_size"),
            first_seen=int(stored.get("first_seen_ts", 0)),
            last_seen=int(stored.get("last_seen_ts", 0)),
            peak_spread_percentage=float(stored.get("peak_spread_percentage", spread)),
            published_spread_percentage=spread,
            oldest_ts=min(int(leg.get("ts", 0)) for leg in legs),
            pairs=[frozenset((path[i], path[(i + 1) % len(path)])) for i in range(len(path))],
            id=int(stored["id"]),
            stored=True,
            provisional=True,
        )
        self._index(state)

    def takeover(self, stored_open: Mapping[str, Mapping[str, Any]], now_ms: int) -> list[SignalEvent]:
        """This instance starts writing: line its open signals up with those stored in Redis.

        A signal open in both keeps the stored id (and the earlier ``first_seen``, the higher
        peak); one only this instance knows is announced with a fresh ``open``; one only Redis
        knows is adopted, to be confirmed or closed as stale.
        """
        events: list[SignalEvent] = []
        for key, state in sorted(self.open.items()):
            doc = stored_open.get(key)
            if doc is not None:
                state.id = int(doc["id"])
                state.stored = True
                state.first_seen = min(state.first_seen, int(doc.get("first_seen_ts", state.first_seen)))
                stored_peak = float(doc.get("peak_spread_percentage", state.peak_spread_percentage))
                state.peak_spread_percentage = max(state.peak_spread_percentage, stored_peak)
            else:
                state.id = None
                state.stored = False
                events.append(SignalEvent("open", state, state.payload(self.config, "open", now_ms)))
        for key, doc in stored_open.items():
            if key not in self.open:
                try:
                    self.adopt(doc)
                except (KeyError, TypeError, ValueError) as exc:  # a document we cannot read
                    logger.warning("not resuming stored signal %r: %s", key, exc)
        return events

    def _dominated(self, opportunity: Opportunity) -> bool:
        """Does an open, shorter, at-least-as-profitable signal trade one of these legs?"""
        legs = len(opportunity.nodes)
        for edge in opportunity.legs:
            for key in self._by_edge.get((edge.src, edge.dst), ()):
                other = self.open[key]
                if len(other.path) < legs and other.spread_percentage >= opportunity.spread_percentage:
                    return True
        return False

    def _seen(self, opportunity: Opportunity, now_ms: int) -> list[SignalEvent]:
        state = self.open.get(opportunity.key)
        if state is None:
            if self.config.suppress_dominated and self._dominated(opportunity):
                self.suppressed += 1
                return []
            state = SignalState(
                key=opportunity.key,
                type=opportunity.type,
                path=list(opportunity.nodes),
                legs=[],
                spread_percentage=0.0,
                gross_percentage=0.0,
                fees_percentage=0.0,
                executable_size=None,
                first_seen=now_ms,
                last_seen=now_ms,
                peak_spread_percentage=opportunity.spread_percentage,
                published_spread_percentage=opportunity.spread_percentage,
                oldest_ts=opportunity.oldest_ts,
                pairs=opportunity.pairs,
            )
            state.refresh(opportunity, now_ms)
            self._index(state)
            self.opened += 1
            return [SignalEvent("open", state, state.payload(self.config, "open", now_ms))]
        state.refresh(opportunity, now_ms)
        state.provisional = False
        moved = abs(state.spread_percentage - state.published_spread_percentage)
        severity_changed = self.config.severity(state.spread_percentage) != self.config.severity(
            state.published_spread_percentage
        )
        if (moved >= self.config.update_threshold_percentage and moved > 0) or severity_changed:
            state.published_spread_percentage = state.spread_percentage
            state.dirty = False
            self.updated += 1
            return [SignalEvent("update", state, state.payload(self.config, "update", now_ms))]
        state.dirty = True
        return []

    def _close(self, state: SignalState, reason: str, now_ms: int) -> SignalEvent:
        self.open.pop(state.key, None)
        for pair in state.pairs:
            keys = self._by_pair.get(pair)
            if keys is not None:
                keys.discard(state.key)
                if not keys:
                    del self._by_pair[pair]
        for edge in _edges(state.path):
            keys = self._by_edge.get(edge)
            if keys is not None:
                keys.discard(state.key)
                if not keys:
                    del self._by_edge[edge]
        state.status = "closed"
        state.close_reason = reason
        self.closed += 1
        return SignalEvent("close", state, state.payload(self.config, "close", now_ms))

    def _index(self, state: SignalState) -> None:
        self.open[state.key] = state
        for pair in state.pairs:
            self._by_pair.setdefault(pair, set()).add(state.key)
        for edge in _edges(state.path):
            self._by_edge.setdefault(edge, set()).add(state.key)


def _edges(path: list[str]) -> list[tuple[str, str]]:
    """Directed currency pairs of the closed cycle through ``path``."""
    return [(path[i], path[(i + 1) % len(path)]) for i in range(len(path))]


def _shortest_first(found: Iterable[Opportunity]) -> list[Opportunity]:
    """Fewer legs first, then most profitable: a triangle opens before the 4-cycles it dominates."""
    return sorted(found, key=lambda o: (len(o.nodes), -o.net))

"""Notice that Redis lost its data (restarted empty, ``FLUSHALL``, a new instance) and say so.

A Redis that comes back empty answers PING like a healthy one, so "is Redis up?" cannot tell.
Instead the first process to look writes a *data epoch* marker once (``SET NX``: a random id, when
and by whom), and every process remembers the marker it saw. If the marker later disappears or
carries another id, everything written before it may be gone: the process logs that once, tells
its listeners (the CEP engine writes the rules it holds in memory back, for instance), and its
``/health`` reports ``degraded`` with the reason for ``REDIS_DATA_LOSS_REPORT_S`` seconds.

The check is one round trip, made on the health-check path (throttled to one per
``min_interval_s``) and wherever a service already talks to Redis after a reconnect — never on a
hot path. A process only notices a loss that happens while it runs: one started after the loss
sees the new marker as the first one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from ascep.common import channels
from ascep.common.ops import CheckResult
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, LazyClient
from ascep.common.timeutil import iso_utc, now_ms

logger = logging.getLogger(__name__)

DataLossListener = Callable[["DataLoss"], object]  # what it returns is ignored


@dataclass(frozen=True)
class DataLoss:
    """What a process knows about one loss: the marker it had seen, and when it noticed."""

    noticed_at_ms: int
    lost: dict[str, Any]
    last_seen_ms: int

    def reason(self) -> str:
        return (
            f"Redis lost its data at {iso_utc(self.noticed_at_ms)} or shortly before (the data epoch "
            f"created at {self.lost.get('created_at')} was last seen at {iso_utc(self.last_seen_ms)}); "
            "anything stored before then may be missing"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason(),
            "noticed_at": iso_utc(self.noticed_at_ms),
            "last_seen_intact_at": iso_utc(self.last_seen_ms),
            "lost_epoch": self.lost,
        }


class DataEpochWatch:
    """Per-process memory of the data epoch, shared by the health check and the service's loops."""

    def __init__(
        self,
        client_factory: Callable[[], redis.Redis],
        owner: str,
        *,
        report_s: float,
        min_interval_s: float = 1.0,
    ) -> None:
        self._redis = LazyClient(client_factory)
        self.owner = owner
        self.report_s = report_s
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._seen: dict[str, Any] | None = None
        self._seen_ms = 0
        self._checked_at = float("-inf")
        self.loss: DataLoss | None = None
        self.losses = 0
        self._listeners: list[DataLossListener] = []

    def on_loss(self, listener: DataLossListener) -> None:
        """Call ``listener(loss)`` (in the thread that noticed) each time a loss is noticed."""
        self._listeners.append(listener)

    @property
    def client(self) -> redis.Redis:
        return self._redis.get()

    def _marker(self) -> dict[str, Any]:
        """The current marker, written first if there is none (both in one transaction)."""
        proposal = json.dumps({"id": uuid.uuid4().hex, "created_at": iso_utc(), "by": self.owner})
        pipe = self.client.pipeline(transaction=True)
        pipe.set(channels.DATA_EPOCH_KEY, proposal, nx=True)
        pipe.get(channels.DATA_EPOCH_KEY)
        _created, raw = pipe.execute()
        try:
            marker = json.loads(raw)
        except (TypeError, ValueError):
            marker = None
        if not isinstance(marker, dict) or "id" not in marker:
            # Someone overwrote our key with garbage: a loss of our data as much as an empty Redis.
            self.client.set(channels.DATA_EPOCH_KEY, proposal)
            marker = json.loads(proposal)
        return marker

    def check(self, *, force: bool = False, strict: bool = False) -> DataLoss | None:
        """Compare the marker with the one seen before; the loss still being reported, if any.

        An unreachable Redis is not an error here (the ``redis`` checks report it) unless
        ``strict``: a caller about to act on what Redis holds must not go on unchecked.
        """
        now = time.monotonic()
        if force or strict or now - self._checked_at >= self.min_interval_s:
            self._checked_at = now
            try:
                marker = self._marker()
            except (*REDIS_UNAVAILABLE_ERRORS, redis.RedisError) as exc:
                if strict:
                    raise
                logger.debug("data epoch not checked: %s", exc)
            else:
                self._compare(marker)
        return self.reported_loss()

    def _compare(self, marker: dict[str, Any]) -> None:
        with self._lock:
            previous = self._seen
            self._seen = marker
            if previous is None or previous["id"] == marker["id"]:
                self._seen_ms = now_ms()
                return
            loss = DataLoss(noticed_at_ms=now_ms(), lost=previous, last_seen_ms=self._seen_ms)
            self._seen_ms = loss.noticed_at_ms
            self.loss = loss
            self.losses += 1
        logger.error("%s; %s keeps running with what it holds in memory", loss.reason(), self.owner)
        for listener in self._listeners:
            try:
                listener(loss)
            except Exception:  # one failing listener must not hide the loss from the others
                logger.exception("data-loss listener %r failed", listener)

    def reported_loss(self) -> DataLoss | None:
        """The latest loss while it is still reported (``report_s``; 0 = until restart)."""
        loss = self.loss
        if loss is None:
            return None
        if self.report_s and now_ms() - loss.noticed_at_ms > self.report_s * 1000:
            return None
        return loss

    def health_check(self) -> CheckResult:
        """``degraded`` with the reason while a loss is reported, else ``healthy``."""
        loss = self.check()
        if loss is not None:
            return CheckResult("degraded", loss.reason())
        return CheckResult("healthy", {"epoch": (self._seen or {}).get("created_at")})

    def status(self) -> dict[str, Any]:
        loss = self.loss
        return {
            "epoch": self._seen,
            "losses_noticed": self.losses,
            "latest_loss": loss.as_dict() if loss is not None else None,
        }

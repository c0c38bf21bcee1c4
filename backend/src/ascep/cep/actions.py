"""Run the actions of fired rules: emit_alert, emit_signal, publish, webhook, log.

Redis work for one batch of firings goes out in one pipeline (store + publish + the rules'
trigger counts), webhooks are handed to :class:`~ascep.cep.webhook.WebhookWorker`; nothing here
waits on anything slow. When Redis is down the batch's alerts are counted as lost and the engine
goes on: an alert about the past is worth less than keeping up with the present.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import redis

from ascep.cep.alert_payload import signal_of
from ascep.cep.engine import Firing
from ascep.cep.store import AlertStore
from ascep.cep.triggers import TriggerStore
from ascep.cep.webhook import WebhookWorker
from ascep.common import channels
from ascep.common.events import CepAlert, encode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, LazyClient
from ascep.common.timeutil import iso_utc, now_ms

logger = logging.getLogger(__name__)

CLAIM_TTL_MS = 10 * 60 * 1000
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _emitted(match: dict[str, Any]) -> dict[str, Any]:
    """The :class:`CepAlert` of a match as published: with its id and detection time."""
    alert = CepAlert.from_dict(match)
    return replace(alert, alert_id=uuid.uuid4().hex, detected_at=iso_utc()).to_dict()


class ActionRunner:
    def __init__(
        self,
        client_factory: Callable[[], redis.Redis],
        alerts: AlertStore,
        webhooks: WebhookWorker,
        triggers: TriggerStore | None = None,
    ) -> None:
        self._redis = LazyClient(client_factory)
        self.alerts = alerts
        self.webhooks = webhooks
        self.triggers = triggers
        self.emitted = 0
        self.signals = 0
        self.published = 0
        self.lost = 0
        self.redis_errors = 0
        self.duplicates = 0  # matches another engine process claimed first

    def run(self, firings: Iterable[Firing]) -> None:
        stored: list[str] = []
        publishes: list[tuple[str, str]] = []
        fired: list[int] = []
        for firing in self._claim(list(firings)):
            alert = _emitted(firing.alert)
            fired.append(firing.rule.rule_id)
            encoded: str | None = None
            for action in firing.rule.actions:
                kind = action.get("type")
                if kind in ("emit_alert", "publish"):
                    encoded = encoded or encode(alert)
                    channel = channels.CEP_ALERTS if kind == "emit_alert" else action["channel"]
                    publishes.append((channel, encoded))
                    if kind == "emit_alert":
                        stored.append(encoded)
                elif kind == "emit_signal":
                    publishes.append((channels.CEP_SIGNALS, encode(signal_of(firing.rule, alert, action))))
                elif kind == "webhook":
                    self.webhooks.submit(action, alert)
                elif kind == "log":
                    level = _LEVELS.get(action.get("level", "info"), logging.INFO)
                    logger.log(level, "rule %s (%s) %s: %s", alert["rule_id"], alert["rule"],
                               alert["partition"], alert["message"])  # fmt: skip
        if publishes or fired:
            self._send(stored, publishes, fired)

    def _claim(self, firings: list[Firing]) -> list[Firing]:
        """Keep the firings this process is first to claim.

        Every engine process sees every event, so with replicas each match happens once per
        process; a ``SET NX`` on the alert's identity (rule, version, partition, event time) lets
        exactly one of them act. Redis down: act anyway (a duplicate beats a lost alert).
        """
        if not firings:
            return firings
        try:
            pipe = self._redis.get().pipeline(transaction=False)
            for firing in firings:
                alert = firing.alert
                partition = json.dumps(alert["partition"], sort_keys=True, separators=(",", ":"))
                key = channels.cep_alert_claim_key(
                    firing.rule.rule_id, firing.rule.version, partition, alert["ts"]
                )
                pipe.set(key, "1", nx=True, px=CLAIM_TTL_MS)
            won = pipe.execute()
        except REDIS_UNAVAILABLE_ERRORS:
            return firings
        self.duplicates += sum(1 for ok in won if not ok)
        return [f for f, ok in zip(firings, won, strict=True) if ok]

    def _send(self, stored: list[str], publishes: list[tuple[str, str]], fired: list[int]) -> None:
        try:
            pipe = self._redis.get().pipeline(transaction=False)
            self.alerts.push(pipe, stored)
            for channel, payload in publishes:
                pipe.publish(channel, payload)
            if self.triggers is not None:
                self.triggers.record(pipe, fired, now_ms())
            pipe.execute()
            self.emitted += len(stored)
            self.signals += sum(1 for channel, _ in publishes if channel == channels.CEP_SIGNALS)
            self.published += len(publishes)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self.lost += len(publishes)
            self.redis_errors += 1
            if self.redis_errors <= 10 or self.redis_errors % 100 == 0:
                logger.warning("cannot publish %d alert(s): Redis unavailable (%s)", len(publishes), exc)

    def status(self) -> dict[str, Any]:
        return {
            "alerts_emitted": self.emitted,
            "signals_emitted": self.signals,
            "messages_published": self.published,
            "lost_redis_down": self.lost,
            "claimed_by_other_process": self.duplicates,
            "webhooks": self.webhooks.status(),
        }

"""Webhook deliveries on background workers, so a slow endpoint never stalls the engine.

The engine only enqueues (bounded; when full the delivery is dropped and counted). Each worker
POSTs the alert as JSON with the action's timeout and retries server errors and network failures
up to ``retries`` times with capped backoff; a 4xx answer is final (retrying will not fix it), and
so is a redirect (never followed: a webhook's answer may not send the engine elsewhere).

Every connection goes through the egress allow-list (``WEBHOOK_ALLOWED_HOSTS``,
:mod:`ascep.common.egress`): the host is checked, resolved once, every address checked, and the
checked address is the one connected to. A refused delivery is final, counted (``refused``) and
logged with its rule id; rules are also checked when they are created (:mod:`.webhook_targets`),
this check catches rules stored before the list changed and names whose DNS answers changed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ascep.common.backoff import Backoff
from ascep.common.egress import EgressPolicy, EgressRefused
from ascep.common.egress_http import pinned_session

logger = logging.getLogger(__name__)

Job = tuple[Mapping[str, Any], Mapping[str, Any]]  # (action, alert)


class WebhookWorker:
    def __init__(
        self,
        workers: int,
        queue_size: int,
        sleep: Callable[[float], Any],
        policy: EgressPolicy | None = None,
    ) -> None:
        """``policy`` defaults to public addresses only (an empty ``WEBHOOK_ALLOWED_HOSTS``)."""
        self.workers = workers
        self.sleep = sleep
        self.policy = policy or EgressPolicy()
        self.queue: queue.Queue[Job | None] = queue.Queue(maxsize=queue_size)
        self.session = pinned_session(self.policy, pool_maxsize=workers)
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self.retries = 0
        self.refused = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> WebhookWorker:
        for i in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"cep-webhook-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def submit(self, action: Mapping[str, Any], alert: Mapping[str, Any]) -> bool:
        """Enqueue one delivery; ``False`` (and counted) when the queue is full."""
        try:
            self.queue.put_nowait((action, alert))
            return True
        except queue.Full:
            self.dropped += 1
            if self.dropped <= 10 or self.dropped % 1000 == 0:
                logger.warning("webhook queue full; %d deliveries dropped so far", self.dropped)
            return False

    def _run(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                self.deliver(*job)
            except Exception:
                self.failed += 1
                logger.exception("webhook delivery crashed")

    def deliver(self, action: Mapping[str, Any], alert: Mapping[str, Any]) -> bool:
        url = action["url"]
        timeout = float(action.get("timeout", 5))
        attempts = 1 + int(action.get("retries", 3))
        backoff = Backoff(initial=0.2, cap=2.0)
        headers = {"Content-Type": "application/json", **dict(action.get("headers") or {})}
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.post(
                    url, json=alert, timeout=timeout, headers=headers, allow_redirects=False
                )
                if response.status_code < 300:
                    self.delivered += 1
                    return True
                if response.status_code < 500:
                    rule_id, status = alert.get("rule_id"), response.status_code
                    logger.warning("webhook %s refused alert of rule %s: HTTP %d%s", url, rule_id, status,
                                   _redirect_note(response))  # fmt: skip
                    break
                reason = f"HTTP {response.status_code}"
            except EgressRefused as exc:
                self.refused += 1
                logger.warning("webhook of rule %s not sent: %s", alert.get("rule_id"), exc)
                return False
            except requests.RequestException as exc:
                reason = type(exc).__name__
            if attempt < attempts:
                self.retries += 1
                delay = backoff.next_delay()
                logger.info("webhook %s failed (%s), retry %d in %.2fs", url, reason, attempt, delay)
                self.sleep(delay)
            else:
                logger.warning("webhook %s failed (%s) after %d attempts", url, reason, attempts)
        self.failed += 1
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to ``timeout`` seconds in all), then end the workers."""
        for _ in self._threads:
            try:
                self.queue.put_nowait(None)
            except queue.Full:
                break
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.queue.qsize():
            logger.warning("webhooks: %d deliveries still queued at shutdown", self.queue.qsize())

    def status(self) -> dict[str, Any]:
        return {
            "queued": self.queue.qsize(),
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
            "retries": self.retries,
            "refused": self.refused,
            "allowed_hosts": self.policy.describe(),
        }


def _redirect_note(response: requests.Response) -> str:
    """For a 3xx: where it pointed, and that it was not followed (the log says why nothing arrived)."""
    if not response.is_redirect:
        return ""
    return f" (redirect to {response.headers.get('Location', '?')[:200]!r} not followed)"

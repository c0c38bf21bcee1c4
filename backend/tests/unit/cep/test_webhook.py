"""Webhook deliveries: retries on 5xx, no retry on 4xx, a full queue drops instead of blocking."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ascep.cep.webhook import WebhookWorker
from support.webhook_receiver import WebhookReceiver

ALERT = {"rule_id": 1, "message": "hello"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP endpoint recording the POSTed JSON."""
    server = WebhookReceiver()
    yield server
    server.close()


def worker() -> WebhookWorker:
    return WebhookWorker(workers=1, queue_size=2, sleep=lambda _s: None)


def test_server_errors_are_retried(receiver: WebhookReceiver) -> None:
    receiver.fail_first = 2
    hooks = worker()
    assert hooks.deliver({"url": receiver.url, "retries": 2, "timeout": 2}, ALERT) is True
    assert receiver.attempts == 3
    assert receiver.bodies == [ALERT]
    assert (hooks.delivered, hooks.retries, hooks.failed) == (1, 2, 0)


def test_retries_are_bounded_and_4xx_is_final(receiver: WebhookReceiver) -> None:
    receiver.fail_first = 10
    hooks = worker()
    assert hooks.deliver({"url": receiver.url, "retries": 1, "timeout": 2}, ALERT) is False
    assert receiver.attempts == 2
    receiver.fail_status = 404
    receiver.attempts = 0
    assert hooks.deliver({"url": receiver.url, "retries": 3, "timeout": 2}, ALERT) is False
    assert receiver.attempts == 1
    assert hooks.failed == 2


def test_unreachable_endpoint_fails_after_retries() -> None:
    hooks = worker()
    assert hooks.deliver({"url": "http://127.0.0.1:9/hook", "retries": 1, "timeout": 0.5}, ALERT) is False
    assert hooks.failed == 1


def test_a_full_queue_drops_without_blocking() -> None:
    hooks = worker()  # not started: nothing drains the queue
    started = time.monotonic()
    results = [hooks.submit({"url": "http://127.0.0.1:9/"}, ALERT) for _ in range(5)]
    assert time.monotonic() - started < 0.5
    assert results == [True, True, False, False, False]
    assert hooks.dropped == 3

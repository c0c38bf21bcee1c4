"""Webhook deliveries: retries on 5xx, no retry on 4xx, a full queue drops instead of blocking;
the egress allow-list refuses internal targets before anything is sent, and redirects are not
followed.

DNS is the one stand-in: there is no DNS server on this machine, so a name is resolved by a
function injected into the policy (where ``getaddrinfo`` plugs in). Everything else is real: the
receivers are HTTP servers on loopback addresses, the worker its real ``requests`` session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ascep.cep.webhook import WebhookWorker
from ascep.common.egress import EgressPolicy, Resolver, system_resolver
from support.webhook_receiver import WebhookReceiver

ALERT = {"rule_id": 1, "message": "hello"}
#: What the tests list: the receivers' loopback address (127.0.0.2 and the rest stay forbidden).
LISTED = ["127.0.0.1"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP endpoint recording the POSTed JSON."""
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def trap() -> Iterator[WebhookReceiver]:
    """An "internal service" on 127.0.0.2 (not listed): no test may ever reach it."""
    server = WebhookReceiver(address="127.0.0.2")
    yield server
    server.close()


def worker(allowed: list[str] = LISTED, resolver: Resolver = system_resolver) -> WebhookWorker:
    policy = EgressPolicy.from_entries(allowed, resolver=resolver)
    return WebhookWorker(workers=1, queue_size=2, sleep=lambda _s: None, policy=policy)


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


def test_the_default_list_refuses_loopback_before_sending(receiver: WebhookReceiver) -> None:
    hooks = WebhookWorker(workers=1, queue_size=2, sleep=lambda _s: None)  # WEBHOOK_ALLOWED_HOSTS empty
    assert hooks.deliver({"url": receiver.url, "retries": 3, "timeout": 2}, ALERT) is False
    assert receiver.attempts == 0
    assert (hooks.refused, hooks.failed, hooks.retries) == (1, 0, 0), "refused: final, not a failure"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.2",  # loopback, not the listed address
        "[::ffff:127.0.0.2]",  # the same, IPv4-mapped
        "2130706433",  # decimal 127.0.0.1: never read as an address we listed
        "0177.0.0.1",  # octal 127.0.0.1
        "localhost",  # a name for this machine, not listed
        "[::1]",
        "169.254.169.254",
        "10.0.0.1",
    ],
)
def test_unlisted_internal_targets_are_refused_at_delivery(
    trap: WebhookReceiver, receiver: WebhookReceiver, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    hooks = worker()
    url = f"http://{host}:{trap.port}/hook"
    assert hooks.deliver({"url": url, "retries": 2, "timeout": 1}, {**ALERT, "rule_id": 42}) is False
    assert hooks.refused == 1
    assert trap.attempts == receiver.attempts == 0
    assert "webhook of rule 42 not sent" in caplog.text


def test_a_listed_name_resolving_to_a_forbidden_address_is_refused(trap: WebhookReceiver) -> None:
    """DNS rebinding: the name is listed, but today it points at an internal address."""
    hooks = worker(["hooks.test", "127.0.0.1"], resolver=lambda _h, _p: ["127.0.0.2"])
    assert hooks.deliver({"url": trap.url_for("hooks.test"), "timeout": 1}, ALERT) is False
    assert (hooks.refused, trap.attempts) == (1, 0)


def test_a_name_is_resolved_once_and_its_checked_address_connected_to(receiver: WebhookReceiver) -> None:
    lookups: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["127.0.0.2"]  # a rebinding resolver

    hooks = worker(["hooks.test", "127.0.0.1"], resolver=resolve)
    assert hooks.deliver({"url": receiver.url_for("hooks.test"), "timeout": 2}, ALERT) is True
    assert lookups == ["hooks.test"], "one lookup per delivery: urllib3 never resolves the name again"
    assert receiver.hosts == [f"hooks.test:{receiver.port}"], "the server sees the name, not the address"


def test_redirects_are_not_followed(receiver: WebhookReceiver, trap: WebhookReceiver) -> None:
    receiver.redirect_to = trap.url  # an internal service the listed receiver points at
    hooks = worker()
    assert hooks.deliver({"url": receiver.url, "retries": 3, "timeout": 2}, ALERT) is False
    assert receiver.attempts == 1, "a redirect is final: not retried"
    assert trap.attempts == 0
    assert hooks.failed == 1
    receiver.redirect_to = receiver.url  # even to itself: a webhook's answer never moves the engine
    assert hooks.deliver({"url": receiver.url, "retries": 0, "timeout": 2}, ALERT) is False
    assert receiver.bodies == []

"""The pinned session: connects to the checked address, keeps Host/SNI/certificate on the name.

Real servers on loopback addresses (HTTP and HTTPS, certificates from a throw-away CA made by
``trustme``), a real ``requests`` session. DNS is the one stand-in (no DNS server exists on this
machine): names are resolved by a function injected into the policy, where ``getaddrinfo`` plugs in.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
import requests
import trustme

from ascep.common.egress import EgressPolicy, EgressRefused
from ascep.common.egress_http import pinned_session
from support.webhook_receiver import WebhookReceiver

ALERT = {"rule_id": 7}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority trusted only by these tests."""
    return trustme.CA()


def tls_receiver(ca: trustme.CA, *names: str) -> WebhookReceiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return WebhookReceiver(tls=context)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A plain HTTP endpoint on 127.0.0.1."""
    server = WebhookReceiver()
    yield server
    server.close()


def session_for(
    answers: list[str], allowed: tuple[str, ...] = ("hooks.test", "127.0.0.0/8")
) -> requests.Session:
    return pinned_session(EgressPolicy.from_entries(allowed, resolver=lambda _h, _p: answers))


def test_https_keeps_sni_host_and_certificate_on_the_name(
    ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = tls_receiver(ca, "hooks.test")
    try:
        answer = session_for(["127.0.0.1"]).post(
            server.url_for("hooks.test"), json=ALERT, verify=str(bundle), timeout=5
        )
        assert answer.status_code == 200
        assert server.server_names == ["hooks.test"], "SNI names the host, not the address"
        assert server.hosts == [f"hooks.test:{server.port}"]
        assert server.bodies == [ALERT]
    finally:
        server.close()


@pytest.mark.parametrize("names", [("other.test",), ("127.0.0.1",)])
def test_the_certificate_must_name_the_host_not_the_pinned_address(
    ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory, names: tuple[str, ...]
) -> None:
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = tls_receiver(ca, *names)
    try:
        with pytest.raises(requests.exceptions.SSLError):
            session_for(["127.0.0.1"]).post(
                server.url_for("hooks.test"), json=ALERT, verify=str(bundle), timeout=5
            )
        assert server.bodies == []
    finally:
        server.close()


def test_the_next_checked_address_is_tried_when_the_first_refuses_connections(
    receiver: WebhookReceiver,
) -> None:
    answer = session_for(["127.0.0.3", "127.0.0.1"]).post(
        receiver.url_for("hooks.test"), json=ALERT, timeout=5
    )
    assert answer.status_code == 200, "nothing listens on 127.0.0.3: refused, so 127.0.0.1 is tried"
    assert receiver.attempts == 1


def test_a_request_that_was_sent_is_never_sent_to_another_address(receiver: WebhookReceiver) -> None:
    """127.0.0.3 takes the request and hangs up without answering: the POST may have had effect."""
    listener = socket.create_server(("127.0.0.3", receiver.port))
    received: list[bytes] = []

    def swallow_one() -> None:
        conn, _ = listener.accept()
        with conn:
            received.append(conn.recv(65536))

    thread = threading.Thread(target=swallow_one, daemon=True)
    thread.start()
    try:
        with pytest.raises(requests.ConnectionError):
            session_for(["127.0.0.3", "127.0.0.1"]).post(
                receiver.url_for("hooks.test"), json=ALERT, timeout=5
            )
        thread.join(5)
        assert received, "the first address got the request"
        assert received[0].startswith(b"POST /hook")
        assert receiver.attempts == 0, "not re-sent to the second address"
    finally:
        listener.close()


def test_a_name_that_does_not_resolve_is_a_network_failure_not_a_refusal() -> None:
    def nothing(host: str, _port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    session = pinned_session(EgressPolicy.from_entries(["public"], resolver=nothing))
    with pytest.raises(requests.ConnectionError, match="cannot resolve"):
        session.post("http://gone.example.com/hook", json=ALERT, timeout=5)


def test_proxies_are_refused(receiver: WebhookReceiver) -> None:
    with pytest.raises(EgressRefused, match="proxy"):
        session_for(["127.0.0.1"]).post(
            receiver.url_for("hooks.test"), json=ALERT, proxies={"http": receiver.url}, timeout=5
        )
    assert receiver.attempts == 0


def test_a_followed_redirect_is_still_checked(receiver: WebhookReceiver) -> None:
    """Webhooks never follow redirects; were one followed, its target is checked like any other."""
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(EgressRefused, match="metadata"):
        session_for(["127.0.0.1"]).post(
            receiver.url_for("hooks.test"), json=ALERT, timeout=5, allow_redirects=True
        )

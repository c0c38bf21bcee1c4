"""The gateway keeps answering while clients hold connections open, idle or slow, and cuts them off."""

from __future__ import annotations

import contextlib
import math
import resource
import selectors
import signal
import socket
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from support.polling import wait_for
from support.processes import HttpService
from support.raw_http import closed_by_peer, connect, exchange, read_response
from support.sio import RecordingClient

pytestmark = pytest.mark.integration

StartGateway = Callable[..., HttpService]


def assert_envelope_status(response: object, status: int, code: str) -> None:
    assert response.status == status, response.raw[:600]  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"]["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]


def test_a_broken_chunked_body_leaves_no_call_in_flight(start_gateway: StartGateway) -> None:
    gateway = start_gateway()
    request = (
        b"POST /api/prices HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n"
    )
    response = exchange(gateway.port, request)
    assert_envelope_status(response, 400, "BAD_REQUEST")
    assert "Traceback" not in response.body.decode()
    started = time.monotonic()
    assert gateway.stop(signal.SIGTERM, timeout=15) == 0
    # The shutdown waits up to 5 s for calls in flight: a leaked count would use all of it.
    assert "still in flight" not in gateway.log_text()
    assert time.monotonic() - started < 4.5


@pytest.fixture
def strict_gateway(start_gateway: StartGateway) -> HttpService:
    """A gateway with short time limits (1 s headers, 1 s body silence, 2 s idle)."""
    return start_gateway(HTTP_HEADER_TIMEOUT="1", HTTP_BODY_TIMEOUT="1", HTTP_IDLE_TIMEOUT="2")


def test_a_body_that_never_finishes_is_cut_off(strict_gateway: HttpService) -> None:
    with connect(strict_gateway.port) as sock:
        sock.sendall(b"POST /api/prices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n123456789")
        response = read_response(sock, timeout=8)
        assert_envelope_status(response, 408, "REQUEST_TIMEOUT")
        assert closed_by_peer(sock, timeout=5)


def test_headers_dripped_byte_by_byte_are_cut_off(strict_gateway: HttpService) -> None:
    """Each byte arrives well within the socket timeout; the header deadline still applies."""
    with connect(strict_gateway.port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        deadline = time.monotonic() + 8
        with contextlib.suppress(OSError):  # the server hangs up mid-drip
            while time.monotonic() < deadline:
                sock.sendall(b"X")
                time.sleep(0.2)  # the attacker's pace, not synchronisation
                sock.settimeout(0)
                with contextlib.suppress(BlockingIOError):
                    if sock.recv(1, socket.MSG_PEEK):
                        break
        sock.settimeout(5)
        response = read_response(sock, timeout=5)
        assert_envelope_status(response, 408, "REQUEST_TIMEOUT")


def test_idle_connections_are_closed_after_the_idle_timeout(strict_gateway: HttpService) -> None:
    with connect(strict_gateway.port) as never_asked, connect(strict_gateway.port) as kept_alive:
        kept_alive.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(kept_alive).status == 200
        assert closed_by_peer(never_asked, timeout=8)
        assert closed_by_peer(kept_alive, timeout=8)


def test_a_quiet_websocket_outlives_the_body_timeout(strict_gateway: HttpService) -> None:
    """A WebSocket is quiet between pings: the 1 s socket timeout must not cut it (regression guard:
    Engine.IO replaces the socket timeout with its ping interval + ping timeout)."""
    client = RecordingClient(strict_gateway.url, transports=["websocket"])
    try:
        client.wait_events("connected", 1)
        time.sleep(3)  # the quiet period under test (3x HTTP_BODY_TIMEOUT), not synchronisation
        assert client.disconnects == 0
        assert client.call("subscribe_prices", {"symbols": ["EUR/USD"]}) is not None
    finally:
        client.close()


def test_idle_connections_make_room_for_new_clients(start_gateway: StartGateway) -> None:
    gateway = start_gateway(HTTP_MAX_CONNECTIONS="32", HTTP_IDLE_TIMEOUT="60")
    with contextlib.ExitStack() as stack:
        idle = [stack.enter_context(connect(gateway.port)) for _ in range(32)]
        wait_for(lambda: requests.get(f"{gateway.url}/health", timeout=2).status_code == 200, timeout=10)
        assert closed_by_peer(idle[0], timeout=5), "the longest-idle connection made room"


# --- load: thousands of idle connections and hundreds of slowloris clients ---------------------

IDLE_CONNECTIONS = 5000
SLOW_CLIENTS = 200
HEADER_TIMEOUT = 10.0
PROBES = 100


@pytest.fixture
def many_sockets() -> Iterator[None]:
    """Room in this process for ~5 300 sockets (skipped where the hard limit forbids it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_CONNECTIONS + SLOW_CLIENTS + 500
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"open-file hard limit {hard} < {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def open_connections(port: int, count: int, timeout: float) -> list[socket.socket]:
    """``count`` connections, opened without blocking on any one; fail unless all establish."""
    selector = selectors.DefaultSelector()
    pending: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_WRITE)
        pending.append(sock)
    established = 0
    deadline = time.monotonic() + timeout
    while established < count and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            selector.unregister(key.fileobj)
            assert key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0  # type: ignore[union-attr]
            established += 1
    selector.close()
    assert established == count, f"only {established} of {count} connections established"
    return pending


def p99_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1] * 1000


def test_the_gateway_answers_through_idle_and_slowloris_floods(
    start_gateway: StartGateway, many_sockets: None
) -> None:
    gateway = start_gateway(HTTP_HEADER_TIMEOUT=str(HEADER_TIMEOUT), HTTP_IDLE_TIMEOUT="120")
    session = requests.Session()
    assert session.get(f"{gateway.url}/api/prices", timeout=5).status_code == 200  # warm the upstream pool
    sockets: list[socket.socket] = []
    try:
        sockets += open_connections(gateway.port, IDLE_CONNECTIONS, timeout=30)
        slow = open_connections(gateway.port, SLOW_CLIENTS, timeout=10)
        sockets += slow
        for sock in slow:  # a request head that never ends
            sock.setblocking(True)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
        slow_since = time.monotonic()

        latencies: dict[str, list[float]] = {"/health": [], "/api/prices": []}
        for _ in range(PROBES):
            for path, samples in latencies.items():
                started = time.perf_counter()
                response = session.get(gateway.url + path, timeout=5)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
        assert time.monotonic() - slow_since < HEADER_TIMEOUT, "probes ran while slow clients held on"
        for path, samples in latencies.items():
            assert p99_ms(samples) <= 100, f"{path}: p99 {p99_ms(samples):.1f} ms"

        for sock in slow:
            assert closed_by_peer(sock, timeout=max(0.1, slow_since + HEADER_TIMEOUT + 10 - time.monotonic()))
    finally:
        for sock in sockets:
            sock.close()

"""The token bucket behind the per-connection message limit, and TCP_NODELAY on connections."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ascep.gateway.realtime.inbound import TokenBucket
from ascep.gateway.realtime.transport import set_no_delay


def test_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.05), "half a token is not a token"
    assert bucket.take(0.1)
    assert not bucket.take(0.1)


def test_idle_time_saves_up_at_most_the_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]


@pytest.fixture
def tcp_connection() -> Iterator[socket.socket]:
    """The server side of a real loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        yield server
        server.close()
        client.close()


class EventletInput:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_socket(self) -> socket.socket:
        return self.sock


@pytest.mark.parametrize("key", ["eventlet.input", "werkzeug.socket"])
def test_no_delay_is_set_on_the_connection(tcp_connection: socket.socket, key: str) -> None:
    value = EventletInput(tcp_connection) if key == "eventlet.input" else tcp_connection
    assert tcp_connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    assert set_no_delay({key: value}) is True
    assert tcp_connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_no_socket_in_the_environ_is_not_an_error() -> None:
    assert set_no_delay({}) is False

"""Connections accepted by our servers have Nagle off (pushed events leave at once)."""

from __future__ import annotations

import socket

from ascep.common.http_server import disable_nagle


def test_connections_accepted_on_the_listener_inherit_no_delay() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        disable_nagle(listener)
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # only ours

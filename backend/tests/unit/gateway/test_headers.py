"""Hop-by-hop headers never cross the gateway; forwarding headers are set correctly."""

from __future__ import annotations

from ascep.gateway.proxy.headers import end_to_end, upstream_request_headers


def test_hop_by_hop_and_connection_named_headers_are_dropped() -> None:
    headers = [
        ("Connection", "keep-alive, X-Secret-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("TE", "trailers"),
        ("Trailer", "Expires"),
        ("Upgrade", "h2c"),
        ("Proxy-Authorization", "Basic x"),
        ("Proxy-Foo", "1"),
        ("X-Secret-Hop", "1"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "application/json"),
    ]
    assert end_to_end(headers) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "application/json"),
    ]


def test_upstream_headers_set_forwarding_and_request_id() -> None:
    out = upstream_request_headers(
        [
            ("Host", "gw:5000"),
            ("X-Request-ID", "client-id"),
            ("Accept", "a/b"),
            ("Accept", "c/d"),
            ("Connection", "close"),
            ("Content-Length", "999"),
            ("Authorization", "Bearer t"),
        ],
        request_id="rid-1",
        client_addr="10.1.1.1",
        scheme="http",
        host="gw:5000",
        content_length=4,
    )
    assert out == {
        "Accept": "a/b, c/d",
        "Authorization": "Bearer t",
        "X-Forwarded-For": "10.1.1.1",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "gw:5000",
        "X-Request-ID": "rid-1",
        "Content-Length": "4",
    }


def test_forwarded_headers_from_a_front_proxy_are_extended_not_replaced() -> None:
    out = upstream_request_headers(
        [("x-forwarded-for", "1.2.3.4"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "ascep.io")],
        request_id="r",
        client_addr="10.0.0.2",
        scheme="http",
        host="gw",
        content_length=None,
    )
    assert out["X-Forwarded-For"] == "1.2.3.4, 10.0.0.2"
    assert out["X-Forwarded-Proto"] == "https"
    assert out["X-Forwarded-Host"] == "ascep.io"
    assert "Content-Length" not in out

"""Framing rules and the WSGI guard, without a server."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ascep.common.errors import BadRequest, RequestTimeout
from ascep.common.framing import framing_problem
from ascep.common.wsgi_guard import GuardedInput, WsgiGuard


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Content-Length", "0")],
        [("content-length", " 84 ")],
        [("Transfer-Encoding", "Chunked")],
        [("X-Other", "1"), ("Content-Length", "12")],
    ],
)
def test_sound_framing_passes(headers: list[tuple[str, str]]) -> None:
    assert framing_problem(headers) is None


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Length", "4"), ("Content-Length", "5")],
        [("Content-Length", "8_4")],
        [("Content-Length", "+84")],
        [("Content-Length", "-1")],
        [("Content-Length", "٣")],
        [("Content-Length", "")],
        [("Content-Length", "1" * 19)],
        [("Content-Length", "2"), ("Transfer-Encoding", "chunked")],
        [("Transfer-Encoding", "chunked, identity")],
        [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")],
        [("Content-Length ", "2")],
        [("X-Folded", "a\r\n b")],
    ],
)
def test_ambiguous_framing_is_refused(headers: list[tuple[str, str]]) -> None:
    assert isinstance(framing_problem(headers), BadRequest)


class _Failing(io.RawIOBase):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def read(self, size: int = -1) -> bytes:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [(TimeoutError("timed out"), RequestTimeout), (ValueError("bad chunk"), BadRequest)],
)
def test_body_read_failures_become_client_errors(error: Exception, expected: type) -> None:
    broken: list[bool] = []
    body = GuardedInput(_Failing(error), on_broken=lambda: broken.append(True))
    with pytest.raises(expected):
        body.read(10)
    assert broken == [True]


def test_the_guard_turns_an_escaped_exception_into_the_envelope() -> None:
    def app(_environ: dict[str, Any], _start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    seen: list[str] = []
    body = WsgiGuard(app)(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()},
        lambda status, _headers, _exc_info=None: seen.append(status),
    )
    assert seen == ["500 Internal Server Error"]
    assert b'"INTERNAL_ERROR"' in b"".join(body)
    assert b"boom" not in b"".join(body)


def test_the_guard_checks_framing_for_servers_that_do_not() -> None:
    seen: list[str] = []
    WsgiGuard(lambda _e, _s: [b"reached"])(
        {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "+5", "wsgi.input": io.BytesIO()},
        lambda status, _headers, _exc_info=None: seen.append(status),
    )
    assert seen == ["400 Bad Request"]

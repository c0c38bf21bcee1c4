"""Request ids, the error envelope and backoff."""

from __future__ import annotations

import pytest

from ascep.common.backoff import Backoff
from ascep.common.errors import (
    ClientError,
    NotFound,
    PayloadTooLarge,
    UpstreamTimeout,
    error_for_status,
)
from ascep.common.request_id import accept_or_generate, request_id_from_environ


@pytest.mark.parametrize("good", ["abc-123", "f" * 32, "a.b:c_d-e", "0"])
def test_well_formed_ids_are_kept(good: str) -> None:
    assert accept_or_generate(good) == good


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "bad\r\nheader", "-leading", "ü"])
def test_malformed_ids_are_replaced(bad: str) -> None:
    generated = accept_or_generate(bad)
    assert generated != bad
    assert len(generated) == 32


def test_correlation_id_header_is_accepted() -> None:
    assert request_id_from_environ({"HTTP_X_CORRELATION_ID": "corr-1"}) == "corr-1"
    assert request_id_from_environ({"HTTP_X_REQUEST_ID": "req-1", "HTTP_X_CORRELATION_ID": "c"}) == "req-1"


def test_envelope_shape_and_status_mapping() -> None:
    assert NotFound("nope", {"x": 1}).envelope("r") == {
        "error": {"code": "NOT_FOUND", "message": "nope", "details": {"x": 1}},
        "request_id": "r",
    }
    assert PayloadTooLarge.status_code == 413
    assert UpstreamTimeout.code == "UPSTREAM_TIMEOUT"
    assert error_for_status(404, "x").code == "NOT_FOUND"
    odd = error_for_status(418, "teapot")
    assert isinstance(odd, ClientError)
    assert odd.status_code == 418


def test_backoff_grows_caps_and_resets() -> None:
    backoff = Backoff(initial=0.1, cap=1.0, factor=2.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.1


def test_backoff_jitter_stays_within_bounds() -> None:
    backoff = Backoff(initial=1.0, cap=4.0, jitter=0.5)
    for _ in range(50):
        assert 0 <= backoff.next_delay() <= 4.0

"""Per-source status: message rate, ages, error counters."""

from __future__ import annotations

from ascep.price_feed.source_status import RateMeter, SourceStatus


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_rate_meter_averages_complete_seconds_of_the_window() -> None:
    clock = FakeClock()
    meter = RateMeter(window=10, clock=clock)
    assert meter.rate() == 0.0
    for _ in range(20):
        for _ in range(5):
            meter.add()
        clock.t += 1
    assert meter.rate() == 5.0
    clock.t += 30  # silence longer than the window
    assert meter.rate() == 0.0


def test_rate_meter_is_exact_before_the_window_fills() -> None:
    clock = FakeClock()
    meter = RateMeter(window=10, clock=clock)
    meter.add(8)
    clock.t += 1
    meter.add(4)
    clock.t += 1
    assert meter.rate() == 6.0


def test_status_snapshot_reports_state_age_and_errors() -> None:
    clock = FakeClock()
    status = SourceStatus("binance", clock=clock)
    status.connected()
    status.message()
    status.error("invalid_json", "x" * 1000)
    status.reconnects = 2
    clock.t += 2.5
    snap = status.snapshot()
    assert snap["state"] == "connected"
    assert snap["connected_since"].endswith("Z")
    assert snap["last_message_age_seconds"] == 2.5
    assert (snap["messages"], snap["reconnects"], snap["errors"]) == (1, 2, 1)
    assert snap["errors_by_kind"] == {"invalid_json": 1}
    assert len(snap["last_error"]) == 300
    status.disconnected("backoff")
    assert status.snapshot()["connected_since"] is None

"""The Binance client against a local server speaking the combined-stream protocol.

In-process (plain threads) for fine-grained assertions; test_service_process.py proves the same
client under eventlet in the real service process.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from ascep.common.events import PriceUpdate
from ascep.price_feed.binance_client import BinanceOptions, BinanceSource
from integration.price_feed.binance_server import FakeBinance
from support.polling import wait_for

pytestmark = pytest.mark.integration


class Collector:
    def __init__(self) -> None:
        self.records: list[PriceUpdate] = []
        self._lock = threading.Lock()

    def __call__(self, record: PriceUpdate, received_ns: int) -> None:
        with self._lock:
            self.records.append(record)

    def count(self) -> int:
        return len(self.records)


@pytest.fixture
def server() -> Iterator[FakeBinance]:
    """A fake Binance on a free port, stopped after the test."""
    fake = FakeBinance(interval=0.02).start()
    yield fake
    fake.stop()


def make_client(url: str, collector: Collector, **overrides: object) -> BinanceSource:
    options = {
        "url": url,
        "symbols": ("BTCUSDT", "ETHBTC"),
        "streams": ("bookTicker", "trade", "ticker"),
        "idle_timeout": 0.5,
        "connect_timeout": 1.0,
        "backoff_initial": 0.05,
        "backoff_cap": 0.2,
        "healthy_after": 0.3,
        "min_interval": 0.0,
        **overrides,
    }
    return BinanceSource(BinanceOptions(**options), collector)  # type: ignore[arg-type]


@pytest.fixture
def collector() -> Collector:
    """Records emitted by the client under test."""
    return Collector()


@pytest.fixture
def clients() -> Iterator[list[BinanceSource]]:
    """Clients started by a test; all stopped at the end."""
    started: list[BinanceSource] = []
    yield started
    for client in started:
        client.stop()


def start(clients: list[BinanceSource], client: BinanceSource) -> BinanceSource:
    clients.append(client)
    client.start()
    return client


def test_subscribes_with_the_combined_stream_url_and_emits_full_records(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource]
) -> None:
    client = start(clients, make_client(server.url, collector))
    wait_for(lambda: {r.symbol for r in collector.records if r.volume} == {"BTCUSDT", "ETHBTC"}, timeout=5)
    assert server.paths[0] == (
        "/stream?streams=btcusdt@bookTicker/btcusdt@trade/btcusdt@ticker/"
        "ethbtc@bookTicker/ethbtc@trade/ethbtc@ticker"
    )
    record = next(r for r in reversed(collector.records) if r.symbol == "BTCUSDT" and r.volume)
    assert record.source == "binance"
    assert record.bid == pytest.approx(65000 * 0.9999)
    assert record.ask == pytest.approx(65000 * 1.0001)
    assert record.price == pytest.approx(65000.0)  # last trade
    assert record.volume == 10000.0  # 24 h base volume from the ticker
    assert abs(record.ts - PriceUpdate.from_dict(record.to_dict()).ts) == 0
    snap = client.report()
    assert snap["state"] == "connected"
    assert snap["connected_since"] is not None
    assert snap["errors"] == 0


@pytest.mark.parametrize("abrupt", [True, False], ids=["tcp-reset", "close-frame"])
def test_reconnects_after_the_server_drops_the_connection(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource], abrupt: bool
) -> None:
    client = start(clients, make_client(server.url, collector))
    wait_for(lambda: collector.count() > 10, timeout=5)
    server.drop_connections(abrupt=abrupt)
    wait_for(lambda: server.connections == 2, timeout=5, message="second connection")
    before = collector.count()
    wait_for(lambda: collector.count() > before + 10, timeout=5, message="records after reconnect")
    assert client.status.reconnects == 1
    assert sum(client.status.errors.values()) == 1


def test_reconnects_when_the_server_stops_sending(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource]
) -> None:
    client = start(clients, make_client(server.url, collector))
    wait_for(lambda: collector.count() > 10, timeout=5)
    server.mode = "silent"
    wait_for(lambda: client.status.errors["stalled"] == 1, timeout=5, message="stall detected")
    server.mode = "normal"
    wait_for(lambda: server.connections >= 2 and client.status.state == "connected", timeout=5)
    before = collector.count()
    wait_for(lambda: collector.count() > before + 10, timeout=5, message="records after the stall")


def test_garbage_messages_are_counted_never_fatal_and_a_garbage_only_peer_is_replaced(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource]
) -> None:
    client = start(clients, make_client(server.url, collector))
    wait_for(lambda: collector.count() > 10, timeout=5)
    server.mode = "garbage"
    wait_for(lambda: client.status.errors["invalid_json"] >= 3, timeout=5)
    assert client.status.errors["unexpected"] >= 3  # {"result": null, "id": 1}
    wait_for(lambda: client.status.errors["stalled"] == 1, timeout=5, message="no valid data -> reconnect")
    server.mode = "normal"
    before = collector.count()
    wait_for(lambda: collector.count() > before + 10, timeout=5, message="records after garbage")
    assert client.status.state == "connected"


def test_protocol_level_garbage_forces_a_reconnect(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource]
) -> None:
    client = start(clients, make_client(server.url, collector))
    wait_for(lambda: collector.count() > 10, timeout=5)
    server.send_raw_bytes(b"\x8f\x05hello\xff\xff\xff")  # reserved opcode: not a valid frame
    wait_for(lambda: server.connections == 2, timeout=5, message="reconnect after a broken frame")
    before = collector.count()
    wait_for(lambda: collector.count() > before + 10, timeout=5)
    assert client.status.reconnects == 1


def test_answers_server_pings_so_the_connection_survives_keepalive(
    collector: Collector, clients: list[BinanceSource]
) -> None:
    fake = FakeBinance(interval=0.05, ping_interval=0.1).start()  # a missed pong closes it in 0.1 s
    try:
        client = start(clients, make_client(fake.url, collector))
        wait_for(lambda: collector.count() > 10, timeout=5)
        baseline = collector.count()
        wait_for(lambda: collector.count() > baseline + 60, timeout=10, message="3+ s of traffic")
        assert fake.connections == 1
        assert client.status.reconnects == 0
    finally:
        fake.stop()


def test_rolls_over_before_the_maximum_connection_age_without_backoff(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource]
) -> None:
    client = start(
        clients,
        make_client(server.url, collector, max_connection_age=1.0, backoff_initial=5.0, backoff_cap=5.0),
    )
    wait_for(lambda: server.connections >= 3, timeout=6, message="two planned rollovers")
    assert sum(client.status.errors.values()) == 0
    assert client.backoff.failures == 0


def test_backs_off_while_unreachable_and_recovers(collector: Collector, clients: list[BinanceSource]) -> None:
    fake = FakeBinance(interval=0.02)
    client = start(clients, make_client(fake.url, collector))
    wait_for(lambda: client.backoff.failures >= 3, timeout=5, message="several refused attempts")
    assert client.status.state in ("backoff", "connecting")
    assert client.status.errors["ConnectionRefusedError"] >= 3
    fake.start()
    try:
        wait_for(lambda: collector.count() > 10, timeout=5, message="records once reachable")
        wait_for(
            lambda: client.backoff.failures == 0, timeout=5, message="backoff reset after healthy period"
        )
    finally:
        fake.stop()


def test_conflation_emits_at_most_max_rate_per_symbol_and_always_the_newest(
    server: FakeBinance, collector: Collector, clients: list[BinanceSource]
) -> None:
    server.interval = 0.005
    client = start(clients, make_client(server.url, collector, min_interval=0.25, symbols=("BTCUSDT",)))
    wait_for(lambda: client.status.messages > 300, timeout=10)
    emitted = [r for r in collector.records if r.symbol == "BTCUSDT"]
    assert len(emitted) < client.status.messages / 10
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(emitted)]
    assert min(gaps) >= 240

"""Readers that build keys or parse replies work with a client that does not decode responses.

Every ASCEP process connects with ``decode_responses=True``, but redis-py types replies as
``bytes | str``; mypy flagged each reader below for treating a reply as ``str``. With a ``bytes``
client they built keys like ``...:b'12'``, concatenated ``str + bytes`` or missed ``str`` fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from ascep.arbitrage.leadership import LeaderLease
from ascep.arbitrage.store import SignalStore
from ascep.common import channels, heartbeats
from ascep.common.channels import PRICE_HISTORY_FIELD as HISTORY_FIELD
from ascep.common.price_history import read_history

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000


@pytest.fixture
def bytes_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test's (empty) Redis that returns ``bytes`` (redis-py's default)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


def test_live_workers_are_str(bytes_client: redis.Redis) -> None:
    heartbeats.beat(bytes_client, "worker-1")
    assert heartbeats.live_workers(bytes_client, max_age_ms=60_000) == ["worker-1"]


def test_signal_store_reads_by_decoded_ids(bytes_client: redis.Redis) -> None:
    store = SignalStore(bytes_client, history_max=10, ttl_s=60)
    doc = {
        "id": store.next_id(),
        "key": "k",
        "type": "triangular",
        "status": "open",
        "severity": "low",
        "spread_percentage": 0.1,
        "peak_spread_percentage": 0.1,
        "first_seen_ts": T0,
        "last_seen_ts": T0,
    }
    store.write("open", doc, T0)
    assert store.recent() == [doc]
    assert store.open_signals() == [doc]
    assert store.between(T0 - 1, T0 + 1) == [doc]
    assert store.counters() == {"opened": 1, "type:triangular": 1, "severity:low": 1}


def test_leader_lease_holder_is_str(bytes_client: redis.Redis) -> None:
    lease = LeaderLease(bytes_client, lease_s=30)
    assert lease.acquire_or_renew()
    assert lease.holder() == lease.me


def test_price_history_pages_past_filtered_entries(bytes_client: redis.Redis) -> None:
    """The first page holds only records older than ``since``, so the reader must page on from
    the last stream id (``"(" + id``), which needs that id as ``str``."""
    key = channels.price_history_key("BTCUSDT")
    for stream_ms, ts in ((10, 5), (11, 6), (12, 12), (13, 13)):
        record = json.dumps({"symbol": "BTCUSDT", "ts": ts})
        bytes_client.xadd(key, {HISTORY_FIELD: record}, id=f"{stream_ms}-0")
    found = read_history(bytes_client, "BTCUSDT", limit=2, since_ms=10)
    assert [r["ts"] for r in found] == [12, 13]
    newest = read_history(bytes_client, "BTCUSDT", limit=2, since_ms=None)
    assert [r["ts"] for r in newest] == [12, 13]

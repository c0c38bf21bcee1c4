"""Who is being limited right now: the in-process log (pure) and its sharing through a real Redis."""

from __future__ import annotations

import time

import redis

from ascep.gateway.ratelimit.refusals import MAX_CLIENTS, WINDOW_S, RefusalLog, SharedRefusals


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_refusals_are_counted_per_client_and_target_until_a_quiet_window_ends_the_episode() -> None:
    clock = Clock()
    log = RefusalLog(clock)
    for _ in range(3):
        log.record("price_feed", "ip:10.0.0.1", 2)
    log.record("gateway", "ip:10.0.0.1", 1)
    assert {(r["target"], r["refused"]) for r in log.recent()} == {("price_feed", 3), ("gateway", 1)}
    clock.now += WINDOW_S + 1
    assert log.recent() == []  # not refused for a window: no longer "being limited"
    log.record("price_feed", "ip:10.0.0.1", 2)
    assert [r["refused"] for r in log.recent()] == [1]  # a new episode


def test_changes_report_upserts_once_and_stale_entries_as_gone() -> None:
    clock = Clock()
    log = RefusalLog(clock)
    log.record("t", "a", 1)
    upserts, gone = log.changes()
    assert list(upserts) == [("t", "a")]
    assert gone == []
    assert log.changes() == ({}, [])  # nothing new: nothing to write
    clock.now += WINDOW_S + 1
    assert log.changes() == ({}, [("t", "a")])


def test_a_flood_of_distinct_clients_is_bounded() -> None:
    log = RefusalLog(Clock())
    for n in range(MAX_CLIENTS + 50):
        log.record("t", f"ip:10.0.{n // 256}.{n % 256}", 1)
    assert len(log.recent()) == MAX_CLIENTS
    assert "ip:10.0.0.0" not in {r["client"] for r in log.recent()}  # the oldest went first


def test_two_processes_refusals_are_listed_summed_by_any_of_them(redis_client: redis.Redis) -> None:
    clock = Clock()
    clock.now = time.time()
    first, second = RefusalLog(clock), RefusalLog(clock)
    a, b = SharedRefusals(first, redis_client, "gw-a"), SharedRefusals(second, redis_client, "gw-b")
    first.record("price_feed", "key:k1", 3)
    second.record("price_feed", "key:k1", 5)
    second.record("price_feed", "sub:bob", 1)
    a.flush()
    b.flush()
    listed = {r["client"]: r for r in a.listing()}
    assert listed["key:k1"]["refused"] == 2
    assert listed["key:k1"]["retry_after_s"] in (3, 5)
    assert listed["sub:bob"]["last_refused_at"].endswith("Z")
    assert redis_client.pttl("ascep:gateway:rate_limited") > 0  # a dead process's records expire

    clock.now += WINDOW_S + 1
    b.flush()  # the stale entries are deleted, not only filtered
    assert [r["client"] for r in a.listing()] == []


def test_without_redis_the_listing_is_this_processs_own() -> None:
    log = RefusalLog()
    log.record("gateway", "ip:127.0.0.1", 1)
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    shared = SharedRefusals(log, dead, "gw")
    shared.flush()  # never raises
    assert shared.write_errors == 1
    assert [r["client"] for r in shared.listing()] == ["ip:127.0.0.1"]

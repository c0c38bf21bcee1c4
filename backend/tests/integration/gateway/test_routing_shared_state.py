"""The Redis side of shared routing state, in process against a real redis-server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from ascep.common import channels
from ascep.common.redis_client import connect
from ascep.gateway.upstreams.active_health import HealthTracker
from ascep.gateway.upstreams.health_lease import HealthLease
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.outliers import EjectionState, OutlierOptions
from ascep.gateway.upstreams.shared_state import RoutingStateSync
from support.polling import wait_for
from support.ports import free_port

pytestmark = pytest.mark.integration

OPTIONS = OutlierOptions()


class Process:
    """What one gateway process holds: its own copies of the instances and its sync."""

    def __init__(self, redis_url: str, name: str) -> None:
        self.instances = [Upstream("svc", f"i{i}", f"http://h{i}:1") for i in range(3)]
        self.changes: list[tuple[str, str, str]] = []
        self.sync = RoutingStateSync(
            connect(redis_url),
            redis_url,
            HealthTracker(),
            lambda: self.instances,
            lambda u, change, origin: self.changes.append((u.instance_id, change, origin)),
            me=name,
            sleep=time.sleep,
            resync_interval=0.5,
        )

    def eject_locally(self, index: int) -> tuple[Upstream, EjectionState]:
        """What :class:`Outliers` does before sharing: a provisional local ejection."""
        upstream = self.instances[index]
        previous = EjectionState.of(upstream)
        upstream.times_ejected += 1
        upstream.ejected_until = time.monotonic() + 30
        return upstream, previous


@pytest.fixture
def two(redis_url: str) -> Iterator[tuple[Process, Process]]:
    """Two processes' worth of routing state on the test's Redis, both listening."""
    pair = (Process(redis_url, "a"), Process(redis_url, "b"))
    for process in pair:
        threading.Thread(target=process.sync.run, daemon=True).start()
        wait_for(lambda p=process: p.sync.state == "connected", timeout=5, message="subscribed")
    yield pair
    for process in pair:
        process.sync.stop()


def ejected(upstream: Upstream) -> bool:
    return upstream.ejected_until > time.monotonic()


def test_two_processes_cannot_eject_two_of_three_at_once(two: tuple[Process, Process]) -> None:
    """Each decides with a local view that does not show the other's ejection yet (envoy#3263)."""
    a, b = two
    upstream_a, previous_a = a.eject_locally(0)
    upstream_b, previous_b = b.eject_locally(1)
    a.sync.write_ejection(upstream_a, previous_a, OPTIONS, 3)
    b.sync.write_ejection(upstream_b, previous_b, OPTIONS, 3)
    assert ejected(upstream_a)
    assert not ejected(upstream_b)  # refused by the script: the local ejection is undone
    assert upstream_b.times_ejected == 0
    assert b.sync.refused_ejections == 1
    wait_for(lambda: ejected(b.instances[0]), timeout=1.0, message="b honours a's ejection")


def test_the_shared_ejection_time_grows_with_the_shared_count(
    two: tuple[Process, Process], redis_client: redis.Redis
) -> None:
    a, b = two
    previous_end = time.time() - 400  # ejected long ago: the count starts over
    redis_client.hset(
        channels.upstream_routing_key("svc"),
        "i0",
        f'{{"healthy": true, "ejected_until": {time.time() - 1}, "times_ejected": 2}}',
    )
    upstream, previous = b.eject_locally(0)
    b.sync.write_ejection(upstream, previous, OPTIONS, 3)
    assert upstream.times_ejected == 3  # the shared count, not b's own (1)
    assert 85 < upstream.ejected_until - time.monotonic() <= 90
    wait_for(lambda: a.instances[0].times_ejected == 3, timeout=1.0, message="a learns the count")
    redis_client.hset(
        channels.upstream_routing_key("svc"),
        "i1",
        f'{{"healthy": true, "ejected_until": {previous_end}, "times_ejected": 7}}',
    )
    upstream, previous = b.eject_locally(1)
    b.sync.write_ejection(upstream, previous, OPTIONS, 10)
    assert upstream.times_ejected == 1


def test_a_health_transition_reaches_the_other_process_and_a_late_one(
    two: tuple[Process, Process], redis_url: str
) -> None:
    a, b = two
    a.instances[2].healthy = False
    a.sync.write_health(a.instances[2], False, time.time())
    wait_for(lambda: not b.instances[2].healthy, timeout=1.0, message="b adopts the transition")
    assert ("i2", "unhealthy", "remote") in b.changes
    late = Process(redis_url, "c")
    late.sync.resync(late.sync.client)
    assert not late.instances[2].healthy
    assert late.instances[0].healthy


def test_without_redis_every_process_checks_on_its_own() -> None:
    lease = HealthLease(connect(f"redis://127.0.0.1:{free_port()}/0", retries=0), "me")
    assert lease.should_check()
    assert lease.checking


def test_only_one_process_holds_the_health_lease(redis_url: str) -> None:
    first, second = HealthLease(connect(redis_url), "a", 2.0), HealthLease(connect(redis_url), "b", 2.0)
    assert first.should_check()
    assert not second.should_check()

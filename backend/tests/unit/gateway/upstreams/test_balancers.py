"""Load balancers alone: seeded, pure, over plain Upstream objects."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from ascep.gateway.upstreams.balancers import LeastRequest, RoundRobin, SmoothWeighted, make_balancer
from ascep.gateway.upstreams.model import Upstream


def instances(*weights: int) -> list[Upstream]:
    return [
        Upstream(service="svc", instance_id=f"i{n}", base_url=f"http://10.0.0.{n}:80", weight=w)
        for n, w in enumerate(weights)
    ]


def test_weighted_5_3_2_over_10000_picks_lands_within_one_percent_of_each_share() -> None:
    pool = instances(5, 3, 2)
    balancer = make_balancer("weighted", random.Random(7))
    counts = Counter(balancer.pick(pool).instance_id for _ in range(10_000))
    for upstream, share in zip(pool, (0.5, 0.3, 0.2), strict=True):
        assert abs(counts[upstream.instance_id] / 10_000 - share) <= 0.01


def test_weighted_is_smooth_not_bursty() -> None:
    """nginx's sequence for 5:1:1 is a a b a c a a, never five a's in a row."""
    pool = instances(5, 1, 1)
    balancer = SmoothWeighted()
    picks = "".join("abc"[int(balancer.pick(pool).instance_id[1])] for _ in range(7))
    assert picks == "aabacaa"


def test_weighted_copes_with_instances_coming_and_going() -> None:
    pool = instances(1, 1, 1)
    balancer = SmoothWeighted()
    for _ in range(10):
        balancer.pick(pool)
    survivors = pool[1:]
    counts = Counter(balancer.pick(survivors).instance_id for _ in range(1000))
    assert set(counts) == {"i1", "i2"}
    assert abs(counts["i1"] - counts["i2"]) <= 1


def test_round_robin_visits_each_in_turn() -> None:
    pool = instances(1, 1, 1)
    balancer = RoundRobin(random.Random(1))
    picks = [balancer.pick(pool).instance_id for _ in range(9)]
    assert Counter(picks) == {"i0": 3, "i1": 3, "i2": 3}
    assert all(a != b for a, b in itertools.pairwise(picks))


def test_least_request_prefers_the_less_busy_of_two() -> None:
    pool = instances(1, 1)
    pool[0].in_flight = 5
    balancer = LeastRequest(random.Random(3))
    assert {balancer.pick(pool).instance_id for _ in range(200)} == {"i1"}


def test_least_request_never_picks_the_busiest_of_three() -> None:
    """Power of two choices: the single most loaded instance can never win a pair."""
    pool = instances(1, 1, 1)
    pool[0].in_flight, pool[1].in_flight, pool[2].in_flight = 9, 1, 0
    balancer = LeastRequest(random.Random(5))
    counts = Counter(balancer.pick(pool).instance_id for _ in range(3000))
    assert counts["i0"] == 0
    assert counts["i2"] > counts["i1"] > 0


def test_least_request_spreads_evenly_when_idle_and_weighs_capacity() -> None:
    balancer = LeastRequest(random.Random(11))
    even = Counter(balancer.pick(instances(1, 1, 1)).instance_id for _ in range(3000))
    assert min(even.values()) > 800
    heavy = instances(2, 1)
    heavy[0].in_flight = 1  # (1+1)/2 == (0+1)/1: a tie goes to the first drawn, so both win
    counts = Counter(balancer.pick(heavy).instance_id for _ in range(1000))
    assert counts["i0"] > 300
    assert counts["i1"] > 300


@pytest.mark.parametrize("name", ["round_robin", "least_request", "weighted"])
def test_every_balancer_handles_a_single_candidate(name: str) -> None:
    only = instances(3)
    balancer = make_balancer(name, random.Random(0))
    assert {balancer.pick(only).instance_id for _ in range(10)} == {"i0"}


def test_seeded_least_request_is_reproducible() -> None:
    pool = instances(1, 1, 1, 1)
    a, b = LeastRequest(random.Random(42)), LeastRequest(random.Random(42))
    assert [a.pick(pool).instance_id for _ in range(50)] == [b.pick(pool).instance_id for _ in range(50)]

"""Every key under one prefix, data-loss detection, and ``--fresh`` on a shared Redis — real Redis."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from ascep.common import channels
from ascep.common.data_epoch import DataEpochWatch, DataLoss
from ascep.common.redis_client import delete_keys_with_prefix
from support.polling import wait_for

pytestmark = pytest.mark.integration


def watch(redis_url: str, *, report_s: float = 3600.0) -> DataEpochWatch:
    return DataEpochWatch(
        lambda: redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5),
        "test",
        report_s=report_s,
        min_interval_s=0.0,
    )


def test_a_flush_is_noticed_once_by_every_process_and_reported(
    redis_client: redis.Redis, redis_url: str
) -> None:
    first, second = watch(redis_url), watch(redis_url)
    heard: list[DataLoss] = []
    first.on_loss(heard.append)
    assert first.check() is None
    assert second.check() is None
    assert first.health_check().status == "healthy"

    redis_client.flushall()
    loss = first.check()
    assert loss is not None
    assert heard == [loss]
    assert second.check() is not None, "the marker was re-created by the first: a different epoch"
    assert first.check() is loss, "noticed once"
    assert len(heard) == 1
    result = first.health_check()
    assert result.status == "degraded"
    assert result.detail.startswith("Redis lost its data at ")


def test_the_report_ends_after_its_time(redis_client: redis.Redis, redis_url: str) -> None:
    short = watch(redis_url, report_s=0.05)
    short.check()
    redis_client.delete(channels.DATA_EPOCH_KEY)
    assert short.check() is not None
    wait_for(lambda: short.health_check().status == "healthy", timeout=5, message="report over")
    assert short.losses == 1


def test_an_overwritten_marker_counts_as_a_loss(redis_client: redis.Redis, redis_url: str) -> None:
    w = watch(redis_url)
    w.check()
    redis_client.set(channels.DATA_EPOCH_KEY, "not json")
    assert w.check() is not None


def test_an_unreachable_redis_is_not_a_loss() -> None:
    w = watch("redis://127.0.0.1:1/0")
    assert w.check() is None
    assert w.health_check().status == "healthy"
    with pytest.raises(redis.ConnectionError):
        w.check(strict=True)


def test_fresh_deletes_only_our_prefix(redis_client: redis.Redis) -> None:
    ours = [f"{channels.KEY_PREFIX}k{i}" for i in range(1200)]  # more than one SCAN batch
    redis_client.mset(dict.fromkeys(ours, "1"))
    redis_client.mset({"theirs": "1", "ascepX:k": "1", "other:ascep:k": "1"})
    assert delete_keys_with_prefix(redis_client, channels.KEY_PREFIX) == len(ours)
    assert sorted(redis_client.keys("*")) == ["ascepX:k", "other:ascep:k", "theirs"]


def test_glob_characters_are_literal(redis_client: redis.Redis) -> None:
    redis_client.mset({"a*:k": "1", "ab:k": "1"})
    assert delete_keys_with_prefix(redis_client, "a*:") == 1
    assert redis_client.keys("*") == ["ab:k"]
    with pytest.raises(ValueError, match="empty"):
        delete_keys_with_prefix(redis_client, "")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


KEY_NAMES = """
from ascep.common import channels as c
names = [v for k, v in vars(c).items() if k.endswith(("_KEY", "_KEY_PREFIX")) and k != "DEFAULT_KEY_PREFIX"]
names += [c.latency_key("s", "e"), c.price_history_key("X"), c.health_checks_key("t"),
          c.health_availability_key("t", "m"), c.task_key("i"), c.arbitrage_signal_key(1),
          c.cep_alert_claim_key(1, 1, "p", 1), c.CONFIG_CHANGES, c.CEP_RULE_CHANGES]
print(c.KEY_PREFIX, len(names), all(n.startswith(c.KEY_PREFIX) for n in names), c.PRICE_UPDATES)
"""


def test_every_key_and_internal_channel_follows_the_configured_prefix() -> None:
    result = run_python(KEY_NAMES, REDIS_KEY_PREFIX="stack2:")
    prefix, count, all_prefixed, public = result.stdout.split()
    assert (prefix, all_prefixed, public) == ("stack2:", "True", "price_updates"), result.stderr
    assert int(count) > 20


@pytest.mark.parametrize("bad", ["", "a b", "ascep*", "x" * 65])
def test_a_bad_prefix_fails_at_start_naming_the_setting(bad: str) -> None:
    result = run_python("import ascep.common.channels", REDIS_KEY_PREFIX=bad)
    assert result.returncode != 0
    assert "REDIS_KEY_PREFIX" in result.stderr

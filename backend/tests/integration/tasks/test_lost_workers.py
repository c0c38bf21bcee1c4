"""Nothing lost: workers SIGKILLed mid-run, and a message that vanished from the broker.

Real worker processes, real Redis. Every task must end ``succeeded`` or ``failed`` (with a
reason) within a bounded time once a worker runs again; and every key Celery writes is under our
``ascep:`` prefix.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import redis
import requests

from ascep.common import channels
from ascep.tasks.broker_state import queue_keys
from support.polling import wait_for
from support.processes import HttpService
from support.tasks import Workers, submit, task, wait_status, worker_env

TASKS = 50


def statuses(api: str, ids: list[str]) -> Counter[str]:
    return Counter(task(api, t)["status"] for t in ids)


def kill_mid_run(workers: Workers, worker: Any, api: str, ids: list[str], finished_before: int) -> int:
    """Wait until this worker has finished a few more tasks and is running one, then SIGKILL it."""

    def busy() -> Counter[str] | None:
        seen = statuses(api, ids)
        return seen if seen["succeeded"] >= finished_before + 3 and seen["running"] >= 1 else None

    seen = wait_for(busy, timeout=60, interval=0.01, message="worker busy mid-run")
    workers.kill(worker)
    return seen["succeeded"]


@pytest.mark.timeout(240)
def test_workers_killed_twice_lose_no_task(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis, workers: Workers
) -> None:
    api = f"{start_service('tasks', 'ascep.tasks', worker_env(redis_url)).url}/tasks"
    first = workers.start("w1", concurrency=2)
    ids = [submit(api, "count_slowly", {"steps": 3, "step_ms": 40}) for _ in range(TASKS)]

    done = kill_mid_run(workers, first, api, ids, 0)
    second = workers.start("w2", concurrency=2)
    kill_mid_run(workers, second, api, ids, done)
    assert statuses(api, ids)["running"] >= 1  # a run the kill interrupted, not yet recovered

    workers.start("w3", concurrency=2)
    back = time.monotonic()
    # Bound: a lost run is noticed when its lease (TASK_LEASE_S=2) runs out, plus a reaper round;
    # the rest is the ~50 x 0.15 s of work itself. 45 s leaves room for a loaded 2-core machine.
    final = wait_for(
        lambda: (
            (records := [task(api, t) for t in ids])
            and all(r["status"] in ("succeeded", "failed") for r in records)
            and records
        ),
        timeout=45,
        interval=0.2,
        message="every task succeeded or failed",
    )
    elapsed = time.monotonic() - back
    outcome = Counter(r["status"] for r in final)
    assert outcome["succeeded"] + outcome["failed"] == TASKS, (outcome, elapsed)
    for record in final:
        if record["status"] == "failed":
            assert record["error"], record
        else:
            assert record["result"] == {"counted": 3}
        assert 1 <= record["attempts"] <= 3, record
    assert any(r["attempts"] >= 2 for r in final), "no run was interrupted: the kills missed"

    keys = list(redis_client.scan_iter(count=1000))
    assert [k for k in keys if not k.startswith(channels.KEY_PREFIX)] == [], keys
    assert any(k.startswith(channels.CELERY_KEY_PREFIX + "_kombu.binding.") for k in keys), keys


@pytest.mark.timeout(90)
def test_a_message_lost_from_the_broker_is_sent_again(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis, workers: Workers
) -> None:
    api = f"{start_service('tasks', 'ascep.tasks', worker_env(redis_url)).url}/tasks"
    task_id = submit(api, "count_slowly", {"steps": 1, "step_ms": 1})
    # The message is taken and gone (as with a worker killed between BRPOP and recording it as
    # unacknowledged): the record says queued, but nothing in the broker would ever run it.
    assert redis_client.delete(*queue_keys()) == 1
    workers.start("w1")
    done = wait_status(api, task_id, "succeeded", timeout=30)
    assert done["attempts"] == 1
    assert done["result"] == {"counted": 1}


@pytest.mark.timeout(90)
def test_a_task_lost_every_time_fails_with_a_reason(
    start_service: Callable[..., HttpService], redis_url: str, workers: Workers
) -> None:
    api = f"{start_service('tasks', 'ascep.tasks', worker_env(redis_url)).url}/tasks"
    doomed = submit(api, "count_slowly", {"steps": 400, "step_ms": 50})
    for attempt in (1, 2):
        worker = workers.start(f"w{attempt}", TASK_MAX_ATTEMPTS="2")
        wait_for(
            lambda n=attempt: (t := task(api, doomed))["status"] == "running" and t["attempts"] == n,
            timeout=30,
            message=f"run {attempt} under way",
        )
        workers.kill(worker)
    workers.start("w3", TASK_MAX_ATTEMPTS="2")
    failed = wait_status(api, doomed, "failed", timeout=30)
    assert failed["error"] == "worker lost: each of its 2 runs was interrupted"
    assert failed["attempts"] == 2
    assert failed["finished_at"]
    assert requests.post(f"{api}/{doomed}/cancel", timeout=5).status_code == 409

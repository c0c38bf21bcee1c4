"""Reading kombu's Redis layout: which task ids still have a message somewhere."""

from __future__ import annotations

from ascep.common.channels import KEY_PREFIX
from ascep.tasks.broker_state import _task_id, queue_keys


def test_queue_keys_are_prefixed_per_priority_step() -> None:
    queue = f"{KEY_PREFIX}celery:celery"
    assert queue_keys() == [queue, f"{queue}\x06\x163", f"{queue}\x06\x166", f"{queue}\x06\x169"]


def test_the_task_id_comes_from_the_protocol_2_headers() -> None:
    assert _task_id({"headers": {"id": "abc"}, "properties": {"correlation_id": "abc"}}) == "abc"
    assert _task_id({"properties": {"correlation_id": "def"}}) == "def"
    assert _task_id(["not", "a", "message"]) is None
    assert _task_id({"headers": {"id": 7}}) is None

"""A job that takes as long as a test needs, loaded by workers via ``TASK_EXTRA_MODULES``.

It stands in for a long backtest: work in steps, progress after each, optionally fail. The sleep
is the simulated work itself, not a synchronisation: tests poll the task's record instead.
"""

from __future__ import annotations

import time
from typing import Any

from ascep.tasks.jobs.base import Job, JobContext


def count_slowly(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    steps = args["steps"]
    for step in range(steps):
        if args.get("fail_at") == step:
            raise RuntimeError(f"asked to fail at step {step}")
        time.sleep(args.get("step_ms", 50) / 1000)
        ctx.progress((step + 1) / steps, f"step {step + 1}/{steps}")
    return {"counted": steps}


JOBS = (
    Job(
        "count_slowly",
        "Test job: count in steps of step_ms.",
        {
            "type": "object",
            "required": ["steps"],
            "properties": {
                "steps": {"type": "integer", "minimum": 1},
                "step_ms": {"type": "integer", "minimum": 0},
                "fail_at": {"type": "integer"},
            },
        },
        count_slowly,
    ),
)


def big_result(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    """A result of ``bytes`` characters: more than ``TASK_RESULT_MAX_BYTES`` must fail the task."""
    return {"blob": "x" * args["bytes"]}


JOBS += (
    Job(
        "big_result",
        "Test job: return a result of the given size.",
        {"type": "object", "required": ["bytes"], "properties": {"bytes": {"type": "integer", "minimum": 0}}},
        big_result,
    ),
)

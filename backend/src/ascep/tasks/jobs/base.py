"""What a job is: a name, a JSON Schema for its arguments and a plain function of a context.

Like :mod:`ascep.cep.patterns.base`, the definition lives apart from the list of built-in jobs
(:mod:`ascep.tasks.jobs`) and from the catalog that validates submissions
(:mod:`ascep.tasks.catalog`), so a job module imports only this and nothing imports back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class Cancelled(Exception):
    """Raised inside a job (by :meth:`JobContext.progress`) when its cancellation was requested."""


class JobContext:
    """What a running job may use: Redis, its task id, a progress callback, its result budget."""

    def __init__(
        self,
        task_id: str,
        redis_client: Any,
        report: Callable[[float, str], bool],
        max_result_bytes: int = 256 * 1024,
    ) -> None:
        self.task_id = task_id
        self.redis = redis_client
        self._report = report
        #: ``TASK_RESULT_MAX_BYTES``: a larger result fails the task, so jobs that can grow fit it.
        self.max_result_bytes = max_result_bytes

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1); raises :class:`Cancelled` when the task was cancelled meanwhile."""
        if not self._report(min(1.0, max(0.0, fraction)), message):
            raise Cancelled(self.task_id)


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    schema: Mapping[str, Any]
    run: Callable[[JobContext, dict[str, Any]], Any]
    #: Deeper validation than a schema can express; raises ValidationFailed naming the field.
    check: Callable[[dict[str, Any]], None] | None = None
    #: Top-level arguments naming an instrument: resolved to the canonical symbol at submission.
    symbol_fields: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "args_schema": dict(self.schema)}

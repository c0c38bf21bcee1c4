"""The jobs the platform can run, each declared once with a JSON Schema for its arguments.

Like mitmproxy's addons: a job is a small object in its own module, and the catalog is an
explicit list (``ascep.tasks.jobs.DEFAULT_JOBS``) plus whatever ``TASK_EXTRA_MODULES`` register.
Arguments are validated here, in the API, before anything is queued, so a bad request gets a 422
naming the field instead of a failed task minutes later.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from ascep.common.errors import ValidationFailed

logger = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a job (by :meth:`JobContext.progress`) when its cancellation was requested."""


class JobContext:
    """What a running job may use: Redis, its arguments' owner id, and a progress callback."""

    def __init__(self, task_id: str, redis_client: Any, report: Callable[[float, str], bool]) -> None:
        self.task_id = task_id
        self.redis = redis_client
        self._report = report

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

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "args_schema": dict(self.schema)}


class Catalog:
    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        for job in jobs:
            self.register(job)

    def register(self, job: Job) -> None:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is registered twice")
        Draft202012Validator.check_schema(job.schema)
        self._jobs[job.name] = job
        self._validators[job.name] = Draft202012Validator(job.schema)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def validate(self, name: Any, args: Any) -> Job:
        """The job called ``name`` if ``args`` fit its schema; else a 422 naming the field."""
        job = self._jobs.get(name) if isinstance(name, str) else None
        if job is None:
            raise ValidationFailed(f"unknown task {name!r}", {"field": "name", "known": sorted(self._jobs)})
        errors = sorted(self._validators[name].iter_errors(args), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            path = "args" + "".join(
                f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path
            )
            raise ValidationFailed(
                f"invalid arguments for {name}: {path}: {first.message}",
                {"field": path, "reason": first.message, "errors": len(errors)},
            )
        if job.check is not None:
            job.check(args)
        return job


def build_catalog(extra_modules: Iterable[str] = ()) -> Catalog:
    """The default jobs plus those of ``extra_modules`` (each exposing ``JOBS``)."""
    from ascep.tasks.jobs import DEFAULT_JOBS

    catalog = Catalog(DEFAULT_JOBS)
    for module_name in extra_modules:
        module = importlib.import_module(module_name)
        for job in getattr(module, "JOBS", ()):
            catalog.register(job)
    return catalog

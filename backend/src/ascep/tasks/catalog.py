"""The jobs the platform can run, each declared once with a JSON Schema for its arguments.

Like mitmproxy's addons: a job (``ascep.tasks.jobs.base.Job``) is a small object in its own
module, and the catalog is an explicit list (``ascep.tasks.jobs.DEFAULT_JOBS``) plus whatever
``TASK_EXTRA_MODULES`` register.
Arguments are validated here, in the API, before anything is queued, so a bad request gets a 422
naming the field instead of a failed task minutes later. Arguments naming an instrument (a job's
``symbol_fields``) are resolved to the canonical spelling the price history is stored under, the
way ``GET /prices/<symbol>`` resolves them (``EURUSD`` -> ``EUR/USD``, ``btcusdt`` -> ``BTCUSDT``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jsonschema import Draft202012Validator

from ascep.common.errors import ValidationFailed
from ascep.tasks.jobs import DEFAULT_JOBS
from ascep.tasks.jobs.base import Job

logger = logging.getLogger(__name__)


#: Resolves any accepted spelling of an instrument to its canonical symbol, or None if unknown.
SymbolResolver = Callable[[str], str | None]


class Catalog:
    def __init__(self, jobs: Iterable[Job] = (), resolve_symbol: SymbolResolver | None = None) -> None:
        self._jobs: dict[str, Job] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self.resolve_symbol = resolve_symbol
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

    def validate(self, name: Any, args: Any) -> tuple[Job, dict[str, Any]]:
        """The job called ``name`` and its normalised ``args`` if they fit; else a 422 naming the field."""
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
        args = self._resolve_symbols(job, args)
        if job.check is not None:
            job.check(args)
        return job, args

    def _resolve_symbols(self, job: Job, args: dict[str, Any]) -> dict[str, Any]:
        if self.resolve_symbol is None or not job.symbol_fields:
            return args
        resolved = dict(args)
        for field in job.symbol_fields:
            if field not in args:
                continue
            symbol = self.resolve_symbol(args[field])
            if symbol is None:
                raise ValidationFailed(
                    f"invalid arguments for {job.name}: args.{field}: unknown symbol {args[field]!r}",
                    {"field": f"args.{field}", "reason": "unknown symbol", "value": args[field]},
                )
            resolved[field] = symbol
        return resolved


def build_catalog(extra_modules: Iterable[str] = (), resolve_symbol: SymbolResolver | None = None) -> Catalog:
    """The default jobs plus those of ``extra_modules`` (each exposing ``JOBS``)."""
    catalog = Catalog(DEFAULT_JOBS, resolve_symbol)
    for module_name in extra_modules:
        module = importlib.import_module(module_name)
        for job in getattr(module, "JOBS", ()):
            catalog.register(job)
    return catalog

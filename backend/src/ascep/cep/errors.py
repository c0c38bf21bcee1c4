"""Why a rule is rejected, with the JSON path of the offending field.

    ValueError
    ├── RuleError             one problem at one place (``path`` like ``$.conditions.window``)
    └── RuleValidationError   every problem found in one rule (``errors``: list of RuleError)

Both are plain exceptions (no Flask): the HTTP layer maps :class:`RuleValidationError` to a 422
envelope, the Celery backtest task to a failed task with the same details.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class RuleError(ValueError):
    """One problem with a rule: ``path`` names the field (JSON path), ``message`` says why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RuleValidationError(ValueError):
    """A rule is invalid; ``errors`` lists every problem, sorted by path."""

    def __init__(self, errors: Iterable[RuleError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.path)
        if not self.errors:
            raise ValueError("RuleValidationError needs at least one error")
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"invalid rule: {first.path}: {first.message}{more}")

    @property
    def path(self) -> str:
        return self.errors[0].path

    def details(self) -> dict[str, Any]:
        """What the HTTP error envelope carries in ``details``."""
        return {"path": self.path, "errors": [e.as_dict() for e in self.errors]}


def join_path(base: str, *parts: str | int) -> str:
    """``join_path("$.where", "all", 0, "value")`` -> ``$.where.all[0].value``."""
    out = base
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out

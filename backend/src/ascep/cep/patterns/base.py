"""What a pattern is: a small class with a name, a parameter schema and per-partition state.

Like mitmproxy's addons, each pattern lives in its own module and is listed explicitly in
:func:`ascep.cep.patterns.default_patterns`. The engine owns partitioning, cooldowns, event time
and error isolation; a pattern only answers "given this partition's state and this event, is
there a match?" — which keeps every pattern short and unit-testable on its own.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ascep.cep.fields import number_getter
from ascep.cep.limits import Limits

#: The comparisons a pattern's condition may use (``threshold``'s ``op``, ``aggregate``'s ``having``).
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(slots=True)
class Match:
    """One detection: the events that make it up, a human message, the numbers behind it.

    ``message`` may be a callable returning the text: most matches of a rule with a cooldown are
    suppressed, and formatting a message nobody reads costs more than detecting the match.
    ``ts`` overrides the alert's event time (timers fire at their deadline, not at an event).
    """

    events: list[Mapping[str, Any]]
    message: str | Callable[[], str]
    values: dict[str, Any] = field(default_factory=dict)
    ts: int | None = None


def text(message: str | Callable[[], str]) -> str:
    """The text of a :attr:`Match.message`."""
    return message if isinstance(message, str) else message()


class Pattern:
    """Base of every pattern; subclasses set the class attributes and override the hooks.

    ``__init__`` receives conditions that already passed :attr:`schema`; it converts them
    (durations to ms, filters to predicates) and raises :class:`~ascep.cep.errors.RuleError`
    with a JSON path for what a schema cannot express.
    """

    name: ClassVar[str]
    help: ClassVar[str]
    schema: ClassVar[dict[str, Any]]
    #: A valid ``conditions`` object, used by the docs and the tests.
    example: ClassVar[dict[str, Any]]
    default_stream: ClassVar[str] = "prices"
    #: Old parameter names (original ASCEP rules) -> current names.
    aliases: ClassVar[dict[str, str]] = {}
    #: What the original ASCEP engine assumed when a rule in its shape left a parameter out
    #: (applied only to rules sent in that shape, see :func:`ascep.cep.normalise.normalise`).
    original_defaults: ClassVar[dict[str, Any]] = {}
    #: ``True`` when the pattern can match without an event arriving (``on_time``).
    uses_timers: ClassVar[bool] = False

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        self.conditions = conditions
        self.limits = limits

    @classmethod
    def normalise(cls, conditions: Mapping[str, Any], *, original: bool = False) -> dict[str, Any]:
        """Rename legacy parameters (and, for a rule in the original shape, fill in the original
        engine's defaults); runs before schema validation."""
        out = dict(conditions)
        for old, new in cls.aliases.items():
            if old in out and new not in out:
                out[new] = out.pop(old)
        if original:
            for name, value in cls.original_defaults.items():
                out.setdefault(name, value)
        return out

    def new_state(self) -> Any:
        """Fresh state for one partition."""
        return None

    def on_event(self, state: Any, event: Mapping[str, Any], ts: int) -> Match | None:
        raise NotImplementedError

    def on_time(self, state: Any, watermark: int) -> list[Match]:
        """Matches due because event time reached ``watermark`` (timer patterns only)."""
        return []


def field_option(default: str) -> dict[str, Any]:
    """Schema of the optional ``field`` parameter of a :class:`FieldPattern`."""
    return {"type": "string", "minLength": 1, "default": default}


class FieldPattern(Pattern):
    """A pattern over one numeric field of each event: ``field``, else :attr:`default_field`.

    Subclasses declare ``default_field`` once and use it in their schema
    (``"field": field_option(default_field)``), so the documented and the applied default agree.
    """

    default_field: ClassVar[str]

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.field: str = conditions.get("field", self.default_field)
        self.read = number_getter(self.field)

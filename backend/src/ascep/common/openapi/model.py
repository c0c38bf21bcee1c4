"""What a view declares about itself: :func:`doc` and the small value types it takes.

Kept free of Flask so that the declarations are plain data (a view function carries a tuple of
:class:`Operation` in ``__openapi__``); :mod:`ascep.common.openapi.builder` turns them into paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ascep.common.openapi.params import Param

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__openapi__"


@dataclass(frozen=True)
class Component:
    """A schema documented once under ``components/schemas/<name>`` and referenced elsewhere.

    Put it anywhere inside a schema tree (a property, ``items``...): the builder registers it
    and writes a ``$ref`` in its place. A schema with ``$defs`` (the CEP rule's) has them
    hoisted to components of their own (``<name>_<def>``), its internal references rewritten.
    """

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Reply:
    """One documented answer: its JSON Schema (``None``: no body described) and media type."""

    description: str
    schema: Mapping[str, Any] | Component | None = None
    media: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True)
class Body:
    """A request body: the JSON Schema the view validates it with (the one source of truth)."""

    schema: Mapping[str, Any] | Component
    description: str = ""
    required: bool = True
    media: str = "application/json"


@dataclass(frozen=True)
class Operation:
    """One method on one path. See :func:`doc` for the fields."""

    summary: str
    description: str = ""
    replies: Mapping[int, Reply] = field(default_factory=dict)
    errors: Mapping[int, str] = field(default_factory=dict)
    query: tuple[Param, ...] = ()
    params: Mapping[str, Param] = field(default_factory=dict)
    body: Body | None = None
    path: str | None = None
    methods: frozenset[str] | None = None
    tags: tuple[str, ...] = ()
    public: bool = False
    deprecated: bool = False

    def applies_to(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def doc(
    summary: str,
    *,
    description: str = "",
    ok: Mapping[str, Any] | Component | Reply | None = None,
    status: int = 200,
    replies: Mapping[int, Reply] | None = None,
    errors: Iterable[int] | Mapping[int, str] = (),
    query: Iterable[Param] = (),
    params: Mapping[str, Param] | None = None,
    body: Body | Mapping[str, Any] | Component | None = None,
    path: str | None = None,
    methods: Iterable[str] | None = None,
    tags: Iterable[str] = (),
    public: bool = False,
) -> Callable[[F], F]:
    """Describe the view below (stack several for a view serving several paths or methods).

    ``ok`` is the JSON Schema of the success answer (status ``status``); ``replies`` adds others.
    ``errors`` lists the statuses the view itself answers with the error envelope (a mapping
    gives each its own sentence); 400/413 for a body and 400 for query parameters are added by
    the builder. ``query``/``params`` are the :class:`Param` objects the view reads its query
    string and path variables with. ``path`` is the OpenAPI path when the Flask rule cannot
    express it (a ``<path:...>`` converter serving several shapes); ``methods`` restricts the
    declaration to some of the rule's methods. ``public``: callable without credentials.
    """
    answers: dict[int, Reply] = dict(replies or {})
    if isinstance(ok, Reply):
        answers[status] = ok
    elif status not in answers:
        answers[status] = Reply("OK" if status < 300 else "Answer", ok)
    operation = Operation(
        summary=summary,
        description=description,
        replies=answers,
        errors=dict(errors) if isinstance(errors, Mapping) else {s: "" for s in errors},
        query=tuple(query),
        params=dict(params or {}),
        body=body if isinstance(body, Body) or body is None else Body(body),
        path=path,
        methods=frozenset(m.upper() for m in methods) if methods is not None else None,
        tags=tuple(tags),
        public=public,
    )

    def attach(view: F) -> F:
        setattr(view, _ATTRIBUTE, (*operations_of(view), operation))
        return view

    return attach


def operations_of(view: Callable[..., Any]) -> tuple[Operation, ...]:
    """The declarations :func:`doc` attached to ``view`` (empty when it has none)."""
    found: tuple[Operation, ...] = getattr(view, _ATTRIBUTE, ())
    return found

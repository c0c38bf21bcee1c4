"""The ``where`` filter language, compiled once into plain closures.

    {"field": "price", "op": ">", "value": 100}            a comparison ("operator" also accepted)
    {"all": [filter, ...]}   {"any": [filter, ...]}   {"not": filter}

Operators: ``== != > >= < <= in not_in contains matches`` (``matches`` is a search with Google's
RE2, see :func:`compile_regex`). A missing field never matches (not
even ``!=``), so a filter never fires on an event that lacks the data it talks about. Ordering
operators compare numbers with numbers and strings with strings; anything else is "no match",
never an error. Inside ``sequence``/``absence`` steps a value may refer to a field of an earlier
step's event: ``{"ref": "first.price", "factor": 1.01, "offset": 0}``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import re2

from ascep.cep.errors import RuleError, join_path
from ascep.cep.fields import MISSING, Getter, getter

#: ``predicate(event, bindings)``; ``bindings`` maps earlier step names to their events.
Predicate = Callable[[Mapping[str, Any], Mapping[str, Any] | None], bool]

OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains", "matches")
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_NO_REFS = ("in", "not_in", "matches")
MAX_DEPTH = 8
#: Longest ``matches`` pattern. RE2 runs in time linear in the text whatever the pattern, so this
#: bounds the compiled program's size and the cost of compiling, not of matching.
MAX_REGEX_LENGTH = 512
#: Memory budget of one compiled pattern (program and lazily built DFA cache); RE2 refuses to
#: compile a pattern whose program would not fit and falls back to its (still linear) NFA when
#: the DFA cache fills. RE2's own default is 8 MiB: with hundreds of rules that adds up.
REGEX_MAX_MEM = 1024 * 1024


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM
    options.log_errors = False  # the error comes back as an exception, and the client sees it
    return options


_REGEX_OPTIONS = _regex_options()


def compile_regex(pattern: str, path: str) -> Any:
    """``pattern`` compiled by RE2, or :class:`RuleError` at ``path`` saying why it is refused.

    Rules come from API clients and run on every event: a backtracking engine (Python's ``re``)
    lets one pattern like ``^(a+)+$`` block the engine for seconds per event. RE2 guarantees time
    linear in the input and refuses what it cannot do in linear time (backreferences,
    lookaround); the syntax is otherwise Python's (``(?i)``, ``\\d``, ``(?P<name>...)``).
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        raise RuleError(path, f"regular expressions are limited to {MAX_REGEX_LENGTH} characters")
    try:
        return re2.compile(pattern, _REGEX_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise RuleError(path, f"invalid regular expression (RE2 syntax): {reason}") from exc


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    num = (int, float)
    return (isinstance(a, num) and isinstance(b, num)) or (isinstance(a, str) and isinstance(b, str))


def _test(op: str) -> Callable[[Any, Any], bool]:
    """The comparison ``op`` as ``test(field_value, expected)``."""
    if op == "==":
        return lambda a, b: a == b and not (isinstance(a, bool) ^ isinstance(b, bool))
    if op == "!=":
        return lambda a, b: a != b or (isinstance(a, bool) ^ isinstance(b, bool))
    if op in _ORDERING:
        compare = _ORDERING[op]

        def ordered(a: Any, b: Any) -> bool:
            kind_a, kind_b = type(a), type(b)
            if (kind_a is float or kind_a is int) and (kind_b is float or kind_b is int):
                return compare(a, b)  # the common case, without the general checks
            return _comparable(a, b) and compare(a, b)

        return ordered
    if op == "in":
        return lambda a, b: _hashable_in(a, b)
    if op == "not_in":
        return lambda a, b: not _hashable_in(a, b)
    if op == "contains":
        return lambda a, b: (
            (isinstance(a, str) and isinstance(b, str) and b in a) or (isinstance(a, list) and b in a)
        )
    return lambda a, b: isinstance(a, str) and b.search(a) is not None  # matches


def _hashable_in(a: Any, members: Any) -> bool:
    try:
        return a in members
    except TypeError:  # an unhashable field value against a set
        return False


def compile_filter(spec: Any, path: str, steps: Sequence[str] = ()) -> Predicate:
    """Compile ``spec`` (already shape-checked by the JSON Schema) into a predicate.

    ``steps`` names the earlier steps a ``ref`` may point to; raises :class:`RuleError` at the
    exact path of anything the schema cannot express (one combinator per object, bad regex,
    unknown step...).
    """
    return _compile(spec, path, tuple(steps), 0)


def _compile(spec: Any, path: str, steps: tuple[str, ...], depth: int) -> Predicate:
    if depth > MAX_DEPTH:
        raise RuleError(path, f"filters nest at most {MAX_DEPTH} levels deep")
    if not isinstance(spec, Mapping):
        raise RuleError(path, "a filter must be an object")
    kinds = [k for k in ("all", "any", "not", "field") if k in spec]
    if len(kinds) != 1:
        raise RuleError(path, "a filter needs exactly one of 'all', 'any', 'not' or 'field'")
    kind = kinds[0]
    if kind in ("all", "any"):
        extra = set(spec) - {kind}
        if extra:
            raise RuleError(join_path(path, sorted(extra)[0]), f"not allowed next to '{kind}'")
        items = spec[kind]
        if not isinstance(items, list) or not items:
            raise RuleError(join_path(path, kind), "must be a non-empty list of filters")
        parts = tuple(
            _compile(item, join_path(path, kind, i), steps, depth + 1) for i, item in enumerate(items)
        )
        if len(parts) == 1:
            return parts[0]
        if kind == "all":
            return lambda event, bound: all(p(event, bound) for p in parts)
        return lambda event, bound: any(p(event, bound) for p in parts)
    if kind == "not":
        extra = set(spec) - {"not"}
        if extra:
            raise RuleError(join_path(path, sorted(extra)[0]), "not allowed next to 'not'")
        inner = _compile(spec["not"], join_path(path, "not"), steps, depth + 1)
        return lambda event, bound: not inner(event, bound)
    return _comparison(spec, path, steps)


def _comparison(spec: Mapping[str, Any], path: str, steps: tuple[str, ...]) -> Predicate:
    extra = set(spec) - {"field", "op", "operator", "value"}
    if extra:
        raise RuleError(join_path(path, sorted(extra)[0]), "unknown key in a comparison")
    field = spec["field"]
    if not isinstance(field, str) or not field:
        raise RuleError(join_path(path, "field"), "must be a non-empty string")
    if "op" in spec and "operator" in spec:
        raise RuleError(join_path(path, "operator"), "give 'op' or 'operator', not both")
    if "op" not in spec and "operator" not in spec:
        raise RuleError(join_path(path, "op"), "is required")
    op_key = "op" if "op" in spec else "operator"
    op = spec.get(op_key)
    if op not in OPERATORS:
        raise RuleError(join_path(path, op_key), f"must be one of {', '.join(OPERATORS)}")
    if "value" not in spec:
        raise RuleError(join_path(path, "value"), "is required")
    value = spec["value"]
    value_path = join_path(path, "value")
    get = getter(field)
    if isinstance(value, Mapping):
        if op in _NO_REFS:
            raise RuleError(value_path, f"'{op}' needs a literal value, not a reference")
        return _with_ref(get, _test(op), value, value_path, steps)
    expected = _literal(op, value, value_path)
    test = _test(op)

    def compare(event: Mapping[str, Any], _bound: Mapping[str, Any] | None) -> bool:
        actual = get(event)
        return actual is not MISSING and test(actual, expected)

    return compare


def _literal(op: str, value: Any, path: str) -> Any:
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise RuleError(path, f"'{op}' needs a list")
        try:
            return frozenset(value)
        except TypeError:
            return tuple(value)
    if op == "matches":
        if not isinstance(value, str):
            raise RuleError(path, "'matches' needs a regular expression string")
        return compile_regex(value, path)
    if op in _ORDERING and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        raise RuleError(path, f"'{op}' needs a number or a string")
    return value


def _with_ref(get: Getter, test: Callable[[Any, Any], bool], ref: Mapping[str, Any], path: str,
              steps: tuple[str, ...]) -> Predicate:  # fmt: skip
    extra = set(ref) - {"ref", "factor", "offset"}
    if extra:
        raise RuleError(join_path(path, sorted(extra)[0]), "a reference has only 'ref', 'factor', 'offset'")
    target = ref.get("ref")
    if not isinstance(target, str) or "." not in target:
        raise RuleError(join_path(path, "ref"), "must look like '<step>.<field>', e.g. 'first.price'")
    step, field = target.split(".", 1)
    if step not in steps:
        known = ", ".join(steps) or "none (references work inside sequence/absence steps only)"
        raise RuleError(join_path(path, "ref"), f"unknown step '{step}'; earlier steps: {known}")
    factor, offset = ref.get("factor", 1), ref.get("offset", 0)
    for key, number_ in (("factor", factor), ("offset", offset)):
        if isinstance(number_, bool) or not isinstance(number_, int | float):
            raise RuleError(join_path(path, key), "must be a number")
    arithmetic = factor != 1 or offset != 0
    get_ref = getter(field)

    def compare(event: Mapping[str, Any], bound: Mapping[str, Any] | None) -> bool:
        if not bound or step not in bound:
            return False
        expected = get_ref(bound[step])
        actual = get(event)
        if expected is MISSING or actual is MISSING:
            return False
        if arithmetic:
            if isinstance(expected, bool) or not isinstance(expected, int | float):
                return False
            expected = expected * factor + offset
        return test(actual, expected)

    return compare


def symbols_of(spec: Any) -> frozenset[str] | None:
    """The symbols a filter restricts ``symbol`` to (top level or inside ``all``), else ``None``.

    Lets the engine index rules by symbol: a rule about BTCUSDT is never looked at for ETHUSDT.
    """
    if not isinstance(spec, Mapping):
        return None
    if "all" in spec and isinstance(spec["all"], list):
        found = [s for s in (symbols_of(item) for item in spec["all"]) if s is not None]
        return frozenset.intersection(*found) if found else None
    if spec.get("field") != "symbol":
        return None
    op, value = spec.get("op", spec.get("operator")), spec.get("value")
    if op == "==" and isinstance(value, str):
        return frozenset([value])
    if op == "in" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    return None


def is_symbol_pin(spec: Any) -> bool:
    """``True`` when ``spec`` is exactly ``symbol == x`` or ``symbol in [...]`` (strings)."""
    return isinstance(spec, Mapping) and "all" not in spec and symbols_of(spec) is not None


#: JSON Schema of a filter (recursive; served as ``$defs.filter``).
FILTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "A comparison {field, op, value} or {all: [...]}, {any: [...]}, {not: {...}}, nested at most "
        f"{MAX_DEPTH} levels deep; 'matches' takes an RE2 regular expression of at most "
        f"{MAX_REGEX_LENGTH} characters."
    ),
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/filter"}},
        "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/filter"}},
        "not": {"$ref": "#/$defs/filter"},
        "field": {"type": "string", "minLength": 1},
        "op": {"enum": list(OPERATORS)},
        "operator": {"enum": list(OPERATORS)},
        "value": {},
    },
}

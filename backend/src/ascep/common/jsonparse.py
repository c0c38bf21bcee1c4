"""Parse an untrusted JSON document with a bound on its nesting, in time linear in its size.

Python's ``json`` recurses once per nesting level: about a thousand ``[`` make it raise
``RecursionError`` (a 500 before this module existed), and deep but parseable documents are
costly for every recursive consumer downstream (JSON Schema validation of CEP filters, ``repr``
in logs). So the depth is measured *before* parsing, with C-speed byte operations only
(``replace``, ``split``, ``translate``, ``accumulate``) — no Python loop per character and no
backtracking regular expression an attacker could make quadratic. ``RecursionError`` is still
caught, as a second line of defence.

No JSON library on PyPI offers a configurable depth limit (orjson's is fixed at 1024, the
standard library and simplejson have none), hence this small hand-written scan.

Only UTF-8 is accepted (RFC 8259 section 8.1): in UTF-8 the bytes of a multi-byte character are
never ASCII, so a quote or a bracket byte is always that character.
"""

from __future__ import annotations

import json
from itertools import accumulate
from typing import Any

from ascep.common.errors import BadRequest

#: Default of the ``MAX_JSON_DEPTH`` setting: objects and arrays nested in one another.
DEFAULT_MAX_DEPTH = 32
#: Default of the ``MAX_JSON_BODY_BYTES`` setting (a service may declare a larger one).
DEFAULT_MAX_BYTES = 1024 * 1024

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = [0] * 256
_DELTA[ord("[")] = _DELTA[ord("{")] = 1
_DELTA[ord("]")] = _DELTA[ord("}")] = -1


def nesting_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in ``data`` (UTF-8 JSON), ignoring brackets in strings.

    Escapes are removed first: pairs of backslashes, then escaped quotes. What is left of a
    backslash run after removing its pairs escapes the next character, exactly as a JSON string
    reads it, so the remaining quotes are the string delimiters and every other piece between
    them is outside a string. Invalid JSON may be mis-measured, but only after the point where
    the parser stops, so the parser never nests deeper than what is measured here.
    """
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The document in ``data``; :class:`BadRequest` when it is not strict UTF-8 JSON or too deep.

    ``NaN``/``Infinity`` (which Python's ``json`` accepts by default) are refused: they are not
    JSON, and a ``NaN`` threshold silently never matches.
    """
    if not data.strip():
        raise BadRequest("the body is empty; expected a JSON document", {"reason": "empty"})
    depth = nesting_depth(data)
    if depth > max_depth:
        raise BadRequest(
            f"the JSON body nests {depth} levels deep; at most {max_depth} are allowed",
            {"max_depth": max_depth, "depth": depth},
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("the body must be UTF-8 encoded JSON", {"reason": "encoding"}) from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            {"reason": exc.msg, "line": exc.lineno, "column": exc.colno},
        ) from exc
    except RecursionError as exc:  # unreachable while the scan above holds; never a 500 anyway
        raise BadRequest(
            f"the JSON body nests more than {max_depth} levels deep", {"max_depth": max_depth}
        ) from exc
    except ValueError as exc:  # NaN/Infinity, an integer beyond Python's digit limit
        raise BadRequest(f"the body is not valid JSON: {exc}", {"reason": str(exc)}) from exc

"""The one JSON body parser: depth measured before parsing, in linear time, strict JSON only."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ascep.common.errors import BadRequest
from ascep.common.jsonparse import DEFAULT_MAX_DEPTH, nesting_depth, parse_json


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "]]]]]]", "{{"]', 1),  # brackets inside strings do not count
        (r'["\"[[[", "\\", [[]]]', 3),  # an escaped quote does not end the string; \\ does not escape
        (r'["\\\"[[", "x"]', 1),  # \\ then \" : still inside the string
        ('{"k\\u005c": "[["}', 1),
    ],
)
def test_nesting_depth_ignores_strings_and_escapes(text: str, depth: int) -> None:
    assert nesting_depth(text.encode()) == depth
    assert depth_of(json.loads(text)) == depth


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9\n'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=4), children, max_size=3)
    ),
    max_leaves=30,
)


@given(json_values)
def test_nesting_depth_agrees_with_the_parsed_document(value: Any) -> None:
    for encoded in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        assert nesting_depth(encoded.encode()) == depth_of(value)


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_documents_are_a_400_naming_the_limit(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()
    with pytest.raises(BadRequest) as caught:
        parse_json(body)
    assert caught.value.details["max_depth"] == DEFAULT_MAX_DEPTH
    assert caught.value.status_code == 400


def test_the_limit_is_inclusive() -> None:
    assert parse_json(b"[" * 32 + b"]" * 32) is not None
    with pytest.raises(BadRequest):
        parse_json(b"[" * 33 + b"]" * 33)
    assert parse_json(b"[[[]]]", max_depth=3) == [[[]]]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"{",
        b"[NaN]",
        b'{"x": Infinity}',
        b'{"x": -Infinity}',
        b'"\xff"',
        b"1" * 5000,  # beyond Python's integer digit limit: a ValueError, not a JSONDecodeError
    ],
)
def test_what_is_not_strict_json_is_a_400(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_json(body)


@pytest.mark.parametrize(
    "body",
    [
        b'["' + b'\\"' * 500_000,  # unterminated string of escaped quotes: quadratic for a regex
        b"[" + b"[]," * 350_000 + b"[]]",  # wide, not deep
        b'"' + b"[" * 1_000_000,
    ],
    ids=["escaped-quotes", "wide", "brackets-in-a-string"],
)
def test_the_scan_is_linear_on_adversarial_megabytes(body: bytes) -> None:
    started = time.perf_counter()
    nesting_depth(body)
    assert time.perf_counter() - started < 2.0  # ~20 ms here; generous for a loaded machine

"""The event schemas (OpenAPI responses, AsyncAPI payloads) describe exactly what ``to_dict()`` sends."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ascep.common.errors import NotFound, ValidationFailed
from ascep.common.event_schemas import SHAPES, event_schema
from ascep.common.openapi.schemas import ERROR_ENVELOPE

# The payloads test_events.py round-trips: real to_dict() output of each event.
_spec = importlib.util.spec_from_file_location("_events_cases", Path(__file__).with_name("test_events.py"))
assert _spec is not None
assert _spec.loader is not None
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
PUBLIC = [(cls, payload) for cls, payload in _cases.ROUND_TRIPS if cls in SHAPES]


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without room for extras: a field ``to_dict`` sends but the schema lacks fails."""
    return {**schema, "additionalProperties": False}


@pytest.mark.parametrize(("cls", "payload"), PUBLIC, ids=lambda x: getattr(x, "__name__", ""))
def test_to_dict_fits_its_schema_exactly(cls: type, payload: Callable[[], dict[str, Any]]) -> None:
    schema = event_schema(cls)
    Draft202012Validator.check_schema(schema)
    errors = [e.message for e in Draft202012Validator(_strict(schema)).iter_errors(payload())]
    assert errors == []


def test_every_public_event_has_a_case() -> None:
    assert {cls for cls, _ in PUBLIC} == set(SHAPES)


def test_a_missing_field_is_caught() -> None:
    price = {k: v for k, v in _cases.PRICE.to_dict().items() if k != "source"}
    assert not Draft202012Validator(event_schema(type(_cases.PRICE))).is_valid(price)


@pytest.mark.parametrize("error", [NotFound("no rule 4", {"rule_id": 4}), ValidationFailed("bad", {})])
def test_the_envelope_schema_fits_real_errors(error: Any) -> None:
    Draft202012Validator.check_schema(ERROR_ENVELOPE)
    for request_id in ("abc", None):
        assert Draft202012Validator(ERROR_ENVELOPE).is_valid(error.envelope(request_id))

"""Schemathesis against the whole platform: every operation of ``/api/openapi.json``, through the gateway.

Real processes (every service, the gateway, Redis), requests generated from the document itself
— valid and invalid ones — and four checks on every answer: no 5xx (``not_a_server_error``), a
documented status (``status_code_conformance``) and content type (``content_type_conformance``),
and a body that fits its documented schema (``response_schema_conformance``). A handful of
examples per operation keeps the run around a minute on two cores; what it found was fixed in the
services, and the exclusions below each say why.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.full_stack import Platform, running_platform
from support.polling import wait_for
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration

#: ASCEP_FUZZ_EXAMPLES=50 for a deeper run by hand; the suite keeps it short.
EXAMPLES_PER_OPERATION = int(os.environ.get("ASCEP_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def platform(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with redis_server.client() as client:
        client.flushall()
    # A signing key, so the token endpoint is fuzzed for real (without one it answers 503, by design).
    overrides = {"JWT_SECRET": secrets.token_urlsafe(48)}
    with running_platform(redis_server.url, tmp_path_factory.mktemp("fuzz"), overrides) as started:
        yield started


@pytest.fixture
def api_schema(platform: Platform) -> schemathesis.BaseSchema:
    url = platform.gateway.url + "/api/openapi.json"

    def every_service_described() -> bool:
        states = requests.get(url, timeout=5).json()["info"]["x-ascep-services"]
        return all(s["state"] == "fresh" for s in states.values())

    wait_for(every_service_described, timeout=30, message="every service's document fetched")
    return schemathesis.openapi.from_url(url).exclude(
        # /metrics and /api/openapi.yaml are text whose size is not the point; /api/openapi.json
        # is validated by test_openapi.py; the pages and assets are checked in Chromium.
        path_regex=r"^/(metrics|api/openapi\.(json|yaml)|api/asyncapi\.json|docs.*|redoc)$",
    )


def _conforms(operation: Any, base_url: str) -> list[str]:
    """Run one operation's examples (valid and invalid); the failures found, as readable text."""
    found: list[str] = []
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure text has the request
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=10)
        except (AssertionError, ExceptionGroup) as failure:  # FailureGroup: the failed checks, a curl line
            found.append(f"{operation.label}: {failure}")

    run()
    return found


@pytest.mark.timeout(300)
def test_every_operation_conforms(api_schema: schemathesis.BaseSchema, platform: Platform) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operations += 1
        failures += _conforms(result.ok(), platform.gateway.url)
    assert operations > 40, "the document lost operations"
    assert failures == [], "\n\n".join(failures)

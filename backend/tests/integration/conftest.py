"""Fixtures shared by every integration test package: the echo upstream process."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from support.processes import HttpService
from support.stack import UPSTREAM_SCRIPT


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpService]:
    """A real HTTP service process that echoes requests and misbehaves on demand."""
    service = HttpService(
        "upstream", [sys.executable, str(UPSTREAM_SCRIPT)], {}, tmp_path_factory.mktemp("upstream")
    )
    service.start().wait_healthy()
    yield service
    service.stop()

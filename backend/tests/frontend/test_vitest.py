"""The dashboard's own unit and component tests (Vitest, jsdom), run as part of ``./ascep test``."""

from __future__ import annotations

import pytest

from support.frontend import ensure_node_modules, npm


@pytest.mark.timeout(300)
def test_vitest_suite_passes() -> None:
    ensure_node_modules()
    done = npm("run", "test", "--silent", "--", "--reporter=dot")
    assert "failed" not in done.stdout.lower() or " 0 failed" in done.stdout.lower(), done.stdout

"""The tasks API builds its one Celery app in its factory, never on import (Flask's Celery example).

Each case runs in a fresh interpreter that counts ``Celery(...)`` constructions, so what another
test imported earlier cannot hide an import-time app.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

COUNT_CELERY_APPS = textwrap.dedent(
    """
    import json, sys
    import celery

    built = []
    original = celery.Celery.__init__

    def counting(self, *args, **kwargs):
        built.append(sys._getframe(1).f_globals.get("__name__"))
        original(self, *args, **kwargs)

    celery.Celery.__init__ = counting
    import {modules}
    on_import = list(built)
    {then}
    print(json.dumps({{
        "on_import": on_import,
        "total": len(built),
        "worker_module_loaded": "ascep.tasks.celery_app" in sys.modules,
    }}))
    """
)


def count_celery_apps(modules: str, then: str = "pass") -> dict[str, Any]:
    script = COUNT_CELERY_APPS.format(modules=modules, then=then)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["ascep.tasks", "ascep.tasks.app", "ascep.tasks.views"])
def test_importing_the_tasks_api_builds_no_celery_app(module: str) -> None:
    found = count_celery_apps(module)
    assert found["on_import"] == []
    assert not found["worker_module_loaded"], "the worker-only module is imported by the API"


def test_the_api_factory_builds_exactly_one_celery_app() -> None:
    found = count_celery_apps(
        "ascep.tasks",
        # No Redis is contacted while building the app: port 9 (discard) is never dialled here.
        "app = ascep.tasks.create_app({'REDIS_URL': 'redis://127.0.0.1:9/0'})\n"
        "assert app.extensions['ascep.tasks'].celery is not None",
    )
    assert found["on_import"] == []
    assert found["total"] == 1


def test_the_worker_module_builds_its_one_app() -> None:
    found = count_celery_apps("ascep.tasks.worker")
    assert found["on_import"] == ["ascep.tasks.celery_setup"]

"""Every service: ``create_app`` only builds; one runtime in ``app.extensions["ascep.<service>"]`` runs."""

from __future__ import annotations

import importlib
import threading

import pytest

from ascep.common.lifecycle import extension_key, runtime_of

#: (package, service name, runtime class path). Nothing below opens a connection: Redis is unused.
SERVICES = [
    ("ascep.gateway", "gateway", "ascep.gateway.app:Gateway"),
    ("ascep.health", "health", "ascep.health.runtime:HealthRuntime"),
    ("ascep.price_feed", "price_feed", "ascep.price_feed.runtime:PriceFeedRuntime"),
    ("ascep.arbitrage", "arbitrage", "ascep.arbitrage.runtime:ArbitrageRuntime"),
    ("ascep.cep", "cep_engine", "ascep.cep.runtime:CepRuntime"),
    ("ascep.tasks", "tasks", "ascep.tasks.runtime:TasksRuntime"),
]
CONFIG = {"REDIS_URL": "redis://127.0.0.1:9/0", "ASYNC_MODE": "threading", "TESTING": True}


def _class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("package", "service", "runtime_class"), SERVICES, ids=[s[1] for s in SERVICES])
def test_create_app_builds_one_runtime_and_starts_nothing(
    package: str, service: str, runtime_class: str
) -> None:
    create_app = importlib.import_module(package).create_app
    before = {t.ident for t in threading.enumerate()}
    app = create_app(dict(CONFIG))
    started = [t.name for t in threading.enumerate() if t.ident not in before]
    assert started == [], "create_app must not start background work (the runtime's start() does)"
    runtime = runtime_of(app)
    assert app.extensions[extension_key(service)] is runtime
    assert type(runtime) is _class(runtime_class)


def test_runtime_of_checks_the_kind() -> None:
    from ascep.cep import create_app
    from ascep.cep.runtime import CepRuntime
    from ascep.health.runtime import HealthRuntime

    app = create_app(dict(CONFIG))
    assert isinstance(runtime_of(app, CepRuntime), CepRuntime)
    with pytest.raises(TypeError, match="CepRuntime"):
        runtime_of(app, HealthRuntime)

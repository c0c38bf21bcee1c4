"""No service package imports another: what two services share lives in ``ascep.common``.

A service importing another's module couples their releases and start-up (importing
``ascep.price_feed.symbols`` from the arbitrage detector loaded the price feed's package), and the
import becomes the undeclared contract. Checked with a walk over every module's AST, so an import
inside a function counts as much as one at the top. ``bench`` and ``launcher`` are exempt: they
drive the services from outside. ``ascep.service_registry`` (the platform's registry: the gateway
routes by it, the launcher starts by it, each service takes its default port from it) belongs to
no service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ascep

SERVICES = ("gateway", "health", "price_feed", "arbitrage", "cep", "tasks")
PACKAGE = Path(ascep.__file__).parent

#: (importing module, imported module) pairs that break the rule on purpose: the Celery jobs run
#: other services' Flask-free domain code offline (a backtest *is* the CEP engine's replay over
#: stored prices; the signal report reads the arbitrage signal store), where an HTTP call would
#: only move the same coupling to a runtime dependency. The test fails when one of these
#: disappears, so this list only shrinks.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("ascep.tasks.jobs.backtest", "ascep.cep.errors"),
        ("ascep.tasks.jobs.backtest", "ascep.cep.replay"),
        ("ascep.tasks.jobs.backtest", "ascep.cep.rules"),
        ("ascep.tasks.jobs.report", "ascep.arbitrage.store"),
    }
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def _service_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "ascep" and parts[1] in SERVICES:
        return parts[1]
    return None


def cross_service_imports() -> set[tuple[str, str]]:
    """Every (importer, imported) pair where the two belong to different services."""
    found: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        own = _service_of(module)
        if own is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in _imported(tree, module, path.name == "__init__.py"):
            other = _service_of(target)
            if other is not None and other != own:
                found.add((module, ".".join(target.split(".")[:3])))
    return found


def test_no_service_imports_another_service() -> None:
    unexpected = sorted(cross_service_imports() - KNOWN_EXCEPTIONS)
    assert not unexpected, "service packages import each other; move the shared code to ascep.common: " + (
        ", ".join(f"{a} -> {b}" for a, b in unexpected)
    )


def test_known_exceptions_still_exist() -> None:
    """An exception that was fixed is removed from the list, so it cannot come back unnoticed."""
    assert not sorted(KNOWN_EXCEPTIONS - cross_service_imports())


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    tree = ast.parse("def f():\n    from ascep.price_feed import symbols\n    import ascep.cep.engine\n")
    assert {"ascep.price_feed", "ascep.price_feed.symbols", "ascep.cep.engine"} <= _imported(
        tree, "ascep.arbitrage.quotes", False
    )

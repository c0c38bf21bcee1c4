"""No import cycles among ``ascep`` modules, counting imports inside functions too.

A cycle makes import order matter (a module half-initialised when its partner reads from it) and
hides which module owns a concept; the usual fix is to move the shared definition into a module
of its own (``tasks/jobs/base.py``, ``gateway/bundle.py``). The graph comes from grimp, which reads
every ``import`` statement, function-level ones included. ``if TYPE_CHECKING:`` imports count too:
they never run, but a cycle hidden behind one is still two modules that each need the other (the
old ``gateway/app.py`` <-> ``gateway/views.py``), and it turns real at the first runtime use.
Importing ``a.b.c`` runs the package ``a.b`` first, but a package importing its own submodules is
the normal layout (``cep/patterns``), so those implicit edges are not counted.
"""

from __future__ import annotations

from itertools import pairwise

import grimp
import pytest


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The import graph of the installed ``ascep`` package (no cache written to the worktree)."""
    return grimp.build_graph("ascep", cache_dir=None)


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is deep enough for recursion to be a risk)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def describe_cycle(graph: grimp.ImportGraph, component: set[str]) -> str:
    """One concrete cycle through the component, with the lines that import, for the message."""
    first = min(component)
    second = min(m for m in graph.find_modules_directly_imported_by(first) if m in component)
    chain = graph.find_shortest_chain(importer=second, imported=first) or (second, first)
    modules = [first, *chain]
    lines = []
    for importer, imported in pairwise(modules):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = f" (line {details[0]['line_number']}: {details[0]['line_contents']})" if details else ""
        lines.append(f"  {importer} -> {imported}{where}")
    return "\n".join(lines)


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    messages = [describe_cycle(graph, c) for c in sorted(cycles, key=min)]
    assert not cycles, "import cycles among ascep modules:\n" + "\n\n".join(messages)


def test_the_cycle_search_finds_a_cycle() -> None:
    """The search itself works: a graph with a known cycle (through a function-level import) fails."""
    known = grimp.ImportGraph()
    for module in ("pkg", "pkg.catalog", "pkg.jobs", "pkg.jobs.backtest", "pkg.base"):
        known.add_module(module)
    known.add_import(importer="pkg.catalog", imported="pkg.jobs", line_number=40, line_contents="(in a def)")
    known.add_import(importer="pkg.jobs", imported="pkg.jobs.backtest", line_number=1, line_contents="")
    known.add_import(importer="pkg.jobs.backtest", imported="pkg.catalog", line_number=3, line_contents="")
    known.add_import(importer="pkg.jobs.backtest", imported="pkg.base", line_number=4, line_contents="")
    cycles = [c for c in strongly_connected(known) if len(c) > 1]
    assert cycles == [{"pkg.catalog", "pkg.jobs", "pkg.jobs.backtest"}]
    assert "pkg.jobs.backtest -> pkg.catalog" in describe_cycle(known, cycles[0])

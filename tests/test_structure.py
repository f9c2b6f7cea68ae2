"""The shape of the package: no import cycles, and no product code importing support code.

Every ``import`` in every module counts, those inside functions too (a deferred import is still
a dependency); only imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import artwork

ROOT = Path(artwork.__file__).parent
SUPPORT = ("artwork.bench", "artwork.testing")
"""Benchmarks and test support: they may import the product, never the other way round."""


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ["artwork", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, skipping the bodies of ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                yield child
                yield from _runtime_nodes(child)
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" for alias in node.names] + [source]
        else:
            continue
        for name in names:
            if name == "artwork" or name.startswith("artwork."):
                target = _resolve(name)
                if target is not None and target != module:
                    found.add(target)
    return found


GRAPH: dict[str, set[str]] = {module: _imports(module, path) for module, path in MODULES.items()}


def _package(module: str) -> str:
    """The top-level package (``artwork.bandit``) or module (``artwork.ingest``) of ``module``."""
    return ".".join(module.split(".")[:2])


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_within(graph: Mapping[str, set[str]], component: list[str]) -> list[str]:
    return [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component]


def test_the_graph_sees_function_level_imports() -> None:
    # The command line imports its subsystems inside functions, to start fast.
    assert "artwork.bandit.learner" in GRAPH["artwork.cli.bandit"]


def test_no_module_imports_itself_round_a_cycle() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, "module import cycles:\n" + "\n".join(
        "; ".join(_edges_within(GRAPH, c)) for c in cycles
    )


def test_no_top_level_package_imports_itself_round_a_cycle() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        if module == "artwork":
            continue
        edges = packages.setdefault(_package(module), set())
        edges.update(_package(t) for t in targets if _package(t) != _package(module))
    cycles = _cycles(packages)
    detail = []
    for component in cycles:
        detail += [
            f"{a} -> {b}"
            for a, targets in sorted(GRAPH.items())
            for b in sorted(targets)
            if _package(a) in component and _package(b) in component and _package(a) != _package(b)
        ]
    assert not cycles, f"package import cycles {cycles}:\n" + "\n".join(detail)


def test_product_code_never_imports_benchmarks_or_test_support() -> None:
    def support(module: str) -> bool:
        return any(module == s or module.startswith(s + ".") for s in SUPPORT)

    offending = [
        f"{module} -> {target}"
        for module, targets in sorted(GRAPH.items())
        if not support(module)
        for target in sorted(targets)
        if support(target)
    ]
    assert not offending, "product modules importing support code:\n" + "\n".join(offending)


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []

"""Layering of the package, read from the source with ``ast`` (nothing is imported).

* no import cycles between modules: top-level and function-level (lazy) imports both count, because a
  lazy import that closes a cycle is still a cycle in the design;
* the lower layers (utilities, data, models, tasks, metrics, the engine and its parts) do not import
  ``artforge.config``: options are the API layer's business, the lower layers take plain arguments;
* the errors the lower layers raise do not name command-line flags (``--batch``): the same code runs
  from the Python API, where there are no flags; the CLI/API layer words its own errors.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = "artforge"
ROOT = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# The API layer may import config; everything listed here may not.
LOWER_LAYERS = (
    "artforge.utils",
    "artforge.data",
    "artforge.models",
    "artforge.tasks",
    "artforge.modality",
    "artforge.losses",
    "artforge.penalties",
    "artforge.metrics",
    "artforge.training.engine",
    "artforge.training.checkpoint",
    "artforge.training.distributed",
    "artforge.training.monitor",
    "artforge.training.health",
    "artforge.training.selfcond",
    "artforge.training.diffaug",
    "artforge.training.migrations",
    "artforge.training.rundir",
    "artforge.sample_filters",  # the filters themselves: the commands (sample, evaluate, bench) choose them
)

# Lower-layer modules that are a command's implementation and read that command's options object.
# data/ingest.py *is* `artforge prepare`: it takes a PrepareConfig, validates it and records it in the
# dataset's manifest (to_dict), so it sits with the commands, not below them. Its helper
# data/imaging.py does not: it takes the plain ImageOptions that ingest builds.
CONFIG_ALLOWED = {
    "artforge.data.ingest": "the `prepare` command itself (PrepareConfig in, manifest out)",
    "artforge.data.audio_ingest": "the `prepare audio` command itself (AudioPrepareConfig in, manifest out)",
}

# Lower-layer modules whose raised errors may still name a CLI flag, each with the reason. Only the
# command modules above and files this change could not edit belong here; the others are debts to reword.
FLAG_WORDING_ALLOWED: dict[str, str] = {
    **CONFIG_ALLOWED,
}

# Imports that close a cycle and can only go once a file this change could not edit changes; each
# names that change. The test fails when an entry's import is gone, so that the entry goes too.
PENDING_EDGES: dict[tuple[str, str], str] = {
}

FLAG = re.compile(r"--[a-z]")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for name, path in MODULES.items()}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve_base(importer: str, level: int, module: str | None) -> str:
    """The absolute name of ``from <level dots><module> import ...`` in ``importer``."""
    if level == 0:
        return module or ""
    package = importer if _is_package(importer) else importer.rpartition(".")[0]
    parts = package.split(".")
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    return f"{base}.{module}" if module else base


def _known(name: str) -> str | None:
    """The package module ``name`` refers to, or its closest enclosing one (``a.b.attr`` -> ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(importer: str) -> list[tuple[str, int]]:
    """(imported package module, line) for every import in ``importer``, at any depth."""
    found = []
    for node in ast.walk(TREES[importer]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name) if alias.name.startswith(PACKAGE) else None
                if target:
                    found.append((target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_base(importer, node.level, node.module)
            if not (base == PACKAGE or base.startswith(PACKAGE + ".")):
                continue
            for alias in node.names:
                # `from . import x` / `from .pkg import mod`: the submodule when it is one
                sub = f"{base}.{alias.name}"
                target = sub if sub in MODULES else _known(base)
                if target:
                    found.append((target, node.lineno))
    return [(target, line) for target, line in found if target != importer]


def import_graph() -> dict[str, dict[str, int]]:
    """importer -> {imported: first line}. Importing ``a.b.c`` also runs ``a/__init__`` and
    ``a/b/__init__``, but those edges are not counted: a package's ``__init__`` importing its own
    submodules would otherwise make every submodule that imports a sibling a 'cycle'."""
    graph: dict[str, dict[str, int]] = {}
    for name in MODULES:
        edges: dict[str, int] = {}
        for target, line in imports_of(name):
            edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components)


def _shortest_cycle(graph: dict[str, dict[str, int]], start: str, members: set[str]) -> list[str]:
    """start -> ... -> start, fewest imports, within ``members`` (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, {})):
                if w not in members:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1] + [start]
                if w not in previous:
                    previous[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"{start} is on no cycle")


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every import cycle's modules, as chains: for each module on a cycle, the shortest cycle through it
    (each cycle once, however it is rotated)."""
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for component in _components(graph):
        for start in component:
            path = _shortest_cycle(graph, start, set(component))[:-1]
            first = path.index(min(path))
            path = path[first:] + path[:first] + [path[first]]  # from its first module by name, for reading
            if tuple(path) not in seen:
                seen.add(tuple(path))
                cycles.append(path)
    return cycles


def _chain(graph: dict[str, dict[str, int]], path: list[str]) -> str:
    def short(name: str) -> str:
        return name[len(PACKAGE) + 1:] if name.startswith(PACKAGE + ".") else name

    steps = [short(path[0])]
    for a, b in zip(path, path[1:]):
        steps.append(f"-({MODULES[a].relative_to(ROOT).as_posix()}:{graph[a][b]})-> {short(b)}")
    return " ".join(steps)


def _in_lower_layer(name: str) -> bool:
    return any(name == layer or name.startswith(layer + ".") for layer in LOWER_LAYERS)


def test_the_package_is_parsed():
    assert "artforge.config" in MODULES and "artforge.training.engine" in MODULES  # can fail: the module walk missed files
    graph = import_graph()
    # relative, parent-relative and `from . import submodule` imports resolve to modules
    assert "artforge.training.checkpoint" in graph["artforge.training.engine"]  # can fail: `from . import x` unresolved
    assert "artforge.errors" in graph["artforge.training.engine"]  # can fail: `from ..errors import` unresolved


def test_find_cycles_reports_each_cycle_as_a_chain():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b": 1}, "b": {}}) == []
    two = {"a": {"b": 1, "c": 1}, "b": {"a": 2}, "c": {"a": 3}}  # one component, two cycles
    assert find_cycles(two) == [["a", "b", "a"], ["a", "c", "a"]]


def test_no_import_cycles():
    graph = import_graph()
    for (importer, imported), change in PENDING_EDGES.items():
        assert imported in graph[importer], f"{importer} no longer imports {imported}: drop its PENDING_EDGES entry"  # can fail: stale entry
        del graph[importer][imported]
    cycles = find_cycles(graph)
    assert not cycles, "import cycles (lazy imports count too):\n" + "\n".join(_chain(graph, c) for c in cycles)


def test_lower_layers_do_not_import_config():
    graph = import_graph()
    offenders = [
        f"{MODULES[name].relative_to(ROOT).as_posix()}:{edges['artforge.config']}"
        for name, edges in sorted(graph.items())
        if _in_lower_layer(name) and "artforge.config" in edges and name not in CONFIG_ALLOWED
    ]
    assert not offenders, "lower layers importing artforge.config: " + ", ".join(offenders)
    for name in CONFIG_ALLOWED:
        assert name in MODULES, f"stale allow-list entry {name}"  # can fail: a module renamed or removed


def _strings(node: ast.AST):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


# The user-facing errors (errors.py: TrainingDiverged, NoCheckpointYet, ...) and anything named *Error.
ERROR_CLASSES = {node.name for node in TREES["artforge.errors"].body if isinstance(node, ast.ClassDef)}


def _is_error(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name.endswith("Error") or name in ERROR_CLASSES


def flag_wording(name: str) -> list[str]:
    """'file:line: text' for each ``raise SomethingError(...)`` in ``name`` whose message or fix names a CLI flag."""
    found = []
    for node in ast.walk(TREES[name]):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _is_error(node.exc)):
            continue
        for text in _strings(node.exc):
            if FLAG.search(text):
                found.append(f"{MODULES[name].relative_to(ROOT).as_posix()}:{node.lineno}: {text.strip()!r}")
    return found


def test_lower_layer_errors_do_not_name_cli_flags():
    offenders = []
    for name in sorted(MODULES):
        if _in_lower_layer(name) and name not in FLAG_WORDING_ALLOWED:
            offenders += flag_wording(name)
    assert not offenders, "lower-layer errors naming CLI flags:\n" + "\n".join(offenders)
    for name in FLAG_WORDING_ALLOWED:
        assert name in MODULES, f"stale allow-list entry {name}"  # can fail: a module renamed or removed
        if name not in CONFIG_ALLOWED:
            assert flag_wording(name), f"{name} names no CLI flag any more: drop its FLAG_WORDING_ALLOWED entry"

"""Layering of the package, read from the source with ``ast`` (nothing is imported).

* every module has a layer (LAYERS, issue 38's order), and no module imports one of a higher layer
  except the arrows in KNOWN_UPWARD, today's debt, which can only shrink;
* the cycles between packages are no more than KNOWN_PACKAGE_CYCLES, which can only shrink;
* no import cycles between modules: top-level and function-level (lazy) imports both count, because a
  lazy import that closes a cycle is still a cycle in the design;
* the lower layers (utilities, data, ops, models, the run layer, the engine, tasks, metrics) do not import a
  command's options (``artforge.options`` and its per-command modules): the lower layers take plain
  arguments, or the part of the train options that is theirs (options/engine.py, generation.py,
  translation.py, families.py, train.py's ``TrainSections``);
* the errors the lower layers raise do not name command-line flags (``--batch``): the same code runs
  from the Python API, where there are no flags; the CLI/API layer words its own errors.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from architecture_audit import strongly_connected  # noqa: E402

PACKAGE = "artforge"
ROOT = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# The API layer may import any command's options; everything listed here may not (COMMAND_OPTIONS).
LOWER_LAYERS = (
    "artforge.utils",
    "artforge.data",
    "artforge.models",
    "artforge.tasks",
    "artforge.modality",
    "artforge.losses",
    "artforge.penalties",
    "artforge.metrics",
    "artforge.ops",
    "artforge.runs",
    "artforge.training",
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
    "artforge.data.output": "the `prepare` command's output checks (--out, --overwrite), split from data/ingest.py",
    "artforge.data.pairs": "the `prepare --pairs` command's pairing (--derive, --sides), split from data/ingest.py",
    "artforge.tasks.setups": "the train command's checks of an image-to-image run (--task, --crop, --init), moved "
                             "from training/ to the tasks they set up; wording them without flags changes the CLI's messages",
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
    """The strongly connected components of more than one module (the audit script's, scipy's)."""
    return strongly_connected(graph)


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
    assert "artforge.options.train" in MODULES and "artforge.training.engine" in MODULES  # can fail: the module walk missed files
    graph = import_graph()
    # relative, parent-relative and `from . import submodule` imports resolve to modules
    assert "artforge.runs.checkpoint" in graph["artforge.runs.rundir"]  # can fail: `from . import x` unresolved
    assert "artforge.runs.checkpoint" in graph["artforge.training.engine"]  # can fail: `from ..pkg import x` unresolved
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


# The options of a command as a whole (the package front, each command's module): a command's business.
COMMAND_OPTIONS = ("artforge.options", "artforge.options.apply", "artforge.options.bench", "artforge.options.evaluate",
                   "artforge.options.explore", "artforge.options.export", "artforge.options.prepare",
                   "artforge.options.provenance", "artforge.options.sample")


def test_lower_layers_do_not_import_a_command_s_options():
    graph = import_graph()
    offenders = [
        f"{MODULES[name].relative_to(ROOT).as_posix()}:{edges[target]} ({target})"
        for name, edges in sorted(graph.items()) for target in COMMAND_OPTIONS
        if _in_lower_layer(name) and target in edges and name not in CONFIG_ALLOWED
    ]
    assert not offenders, "lower layers importing a command's options: " + ", ".join(offenders)
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



# ---- the layer order (issue 38) ------------------------------------------------------------------
# Lowest first; a module may import its own layer and the ones below. Each module is placed where it
# belongs, not where its file lies: data/ingest.py and metrics/evaluate.py are the `prepare` and
# `evaluate` commands. A new module must be added here (the test
# below fails until it is). Names are relative to the package; "__init__" is the package root (the API).
LAYERS: dict[str, tuple[str, ...]] = {
    # errors, helpers and the torch-free option metadata (the registries' names, the filters' arithmetic,
    # aspect-ratio shapes)
    "base": ("errors", "_version", "draws", "aspect", "extras", "utils", "utils.bars", "utils.batching", "utils.device",
             "utils.events", "utils.files", "utils.images", "utils.synth", "recipes",
             # every command's options: torch-free declarations, defaults and checks (options/)
             "options", "options.catalog", "options.fields", "options.names", "options.shared", "options.engine", "options.generation",
             "options.translation", "options.families", "options.train", "options.prepare", "options.sample",
             "options.evaluate", "options.export", "options.explore", "options.provenance", "options.apply",
             "options.bench", "options.describe"),
    # data, ops and objectives: pure functions of tensors and files. Every augmentation (ops/augment.py) and
    # the mood measurement (which the music data and the metrics both use) belong here.
    "pieces": ("data", "data.archive", "data.builtin", "data.derive", "data.drums", "data.imaging",
               "data.loader", "data.pianoroll", "data.rolls", "data.sound", "data.mood",
               # prepare's steps that take plain values (split from data/ingest.py): sources, decoding, splits
               "data.scan", "data.collect", "data.splits",
               # piano rolls' files, corpora and key (split from data/pianoroll.py)
               "data.music_files", "data.music_corpora", "data.music_key",
               "ops", "ops.augment", "ops.degrade", "ops.image_pool", "ops.mood_guide", "ops.spectral", "ops.swd", "ops.tiling",
               "losses", "penalties", "sample_filters"),
    "models": ("models", "models.cyclegan", "models.dcgan", "models.esrgan", "models.family", "models.heads",
               "models.musegan", "models.pix2pix", "models.registry", "models.specgan", "models.style",
               "models.toy_mlp", "models.vgg", "models.wavegan", "modality"),
    # a run folder's layout, checkpoints and their migrations, its log
    # and a run's sampler network (what inference and sr's --init load)
    "runs": ("runs", "runs.rundir", "runs.checkpoint", "runs.migrations", "runs.monitor", "runs.sampler"),
    # the step machinery (steps.py: Phase, run_step, Task) and the loop that runs it
    "engine": ("training", "training.steps", "training.engine", "training.distributed", "training.health"),
    # with self-conditioning and the set-ups
    "tasks": ("tasks", "tasks.base", "tasks.generation", "tasks.paired", "tasks.specs", "tasks.sr", "tasks.toy",
              "tasks.unpaired", "tasks.selfcond", "tasks.setups"),
    # inference and metrics: one layer
    "inference": ("sampling", "translating", "composing", "listening", "explore", "explore._output",
                  "explore.interpolate", "explore.layout", "explore.mixing", "explore.palette", "explore.project",
                  "explore.steering", "provenance", "watermark",
                  "metrics", "metrics.cache", "metrics.classes", "metrics.classifier", "metrics.compare",
                  "metrics.encoder", "metrics.extractors", "metrics.fid", "metrics.inception",
                  "metrics.inception_score", "metrics.kid", "metrics.mood_judges", "metrics.music", "metrics.novelty",
                  "metrics.prdc", "metrics.sanity", "metrics.sound", "metrics.sources",
                  # evaluate's parts that take plain values (split from metrics/evaluate.py)
                  "metrics.collect", "metrics.image_metrics", "metrics.reference", "metrics.results"),
    # the commands and the code that is a command's own
    "commands": ("commands", "commands.apply", "commands.bench", "commands.explore", "commands.export",
                 "commands.evaluate", "commands.prepare", "commands.provenance", "commands.report", "commands.sample",
                 "commands.train",
                 "commands.trainer", "commands.sizing", "needs", "data.ingest", "data.audio_ingest", "data.music_ingest",
                 "data.output", "data.pairs",
                 "metrics.evaluate", "metrics.run_reports", "metrics.translation", "metrics.music_eval", "exporting", "recreating", "reporting",
                 "bench", "bench.toy"),
    # the studio (issue 39): a front end like the CLI, over the commands layer
    "interface": ("cli", "__main__", "__init__", "studio", "studio.guard", "studio.store", "studio.workspace",
                  "studio.worker", "studio.server", "studio.serve"),
}

# Today's imports from a lower layer to a higher one: the debt issue 38's redesign pays off. The test
# fails on an upward import not listed here, and on an entry whose import is gone (drop it: the list
# only shrinks). (importer, imported) -> what removes it.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

# Packages (subpackages and top-level modules; "__init__" the package root) that lie on a cycle of
# imports between packages today, each cycle as its sorted members, and the pairs that import each
# other directly. Both can only shrink: the test fails on a new one and on one that is gone.
KNOWN_PACKAGE_CYCLES: list[list[str]] = []
KNOWN_MUTUAL_IMPORTS: set[tuple[str, str]] = set()


def _short(module: str) -> str:
    return module[len(PACKAGE) + 1:] if module.startswith(PACKAGE + ".") else "__init__"


LAYER_ORDER = list(LAYERS)
LAYER_OF = {name: layer for layer, names in LAYERS.items() for name in names}


def upward_imports(graph: dict[str, dict[str, int]], layer_of: dict[str, str]) -> dict[tuple[str, str], int]:
    """(importer, imported) -> line, for each import of a module of a higher layer (short names)."""
    rank = {name: LAYER_ORDER.index(layer) for name, layer in layer_of.items()}
    # a module with no layer is test_every_module_has_a_layer's failure, not this one's
    return {(_short(a), _short(b)): line for a, edges in graph.items() for b, line in edges.items()
            if _short(a) in rank and _short(b) in rank and rank[_short(a)] < rank[_short(b)]}


def package_of(module: str) -> str:
    """artforge.training.engine -> training; artforge.cli -> cli; artforge -> __init__."""
    return _short(module).split(".")[0]


def package_graph(graph: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    packages: dict[str, dict[str, int]] = {}
    for a, edges in graph.items():
        out = packages.setdefault(package_of(a), {})
        for b, line in edges.items():
            if package_of(b) != package_of(a):
                out.setdefault(package_of(b), line)
    return packages


def mutual_imports(packages: dict[str, dict[str, int]]) -> set[tuple[str, str]]:
    return {(a, b) for a in packages for b in packages[a] if a < b and a in packages.get(b, {})}


def test_every_module_has_a_layer():
    modules = {_short(name) for name in MODULES}
    placed = [name for names in LAYERS.values() for name in names]
    unplaced, gone = sorted(modules - set(placed)), sorted(set(placed) - modules)
    assert not unplaced, f"modules with no layer: {unplaced}; add each to LAYERS"
    assert not gone, f"LAYERS names modules that are gone: {gone}"
    twice = sorted(name for name in placed if placed.count(name) > 1)
    assert not twice, f"modules in two layers: {twice}"


def test_upward_imports_finds_an_arrow_against_the_order():
    graph = {"artforge.errors": {"artforge.cli": 3}, "artforge.cli": {"artforge.errors": 1},
             "artforge.sampling": {"artforge.metrics.fid": 7}}  # same layer: allowed
    layer_of = {"errors": "base", "cli": "interface", "sampling": "inference", "metrics.fid": "inference"}
    assert upward_imports(graph, layer_of) == {("errors", "cli"): 3}


def test_no_import_goes_up_a_layer_except_the_known_debt():
    found = upward_imports(import_graph(), LAYER_OF)

    def where(arrow: tuple[str, str]) -> str:
        importer = PACKAGE if arrow[0] == "__init__" else f"{PACKAGE}.{arrow[0]}"
        return f"{MODULES[importer].relative_to(ROOT).as_posix()}:{found[arrow]}"

    new = [f"{where(a)}: {a[0]} ({LAYER_OF[a[0]]}) imports {a[1]} ({LAYER_OF[a[1]]})"
           for a in sorted(found) if a not in KNOWN_UPWARD]
    assert not new, "imports from a lower layer to a higher one (LAYERS):\n" + "\n".join(new)
    gone = sorted(set(KNOWN_UPWARD) - set(found))
    assert not gone, f"KNOWN_UPWARD entries no longer imported upward: {gone}; drop them (the list only shrinks)"


def test_package_graph_and_its_mutual_imports():
    graph = {"artforge.tasks.base": {"artforge.training.engine": 1}, "artforge.training.engine": {
        "artforge.tasks.base": 2, "artforge.training.checkpoint": 3}, "artforge.cli": {"artforge": 4}}
    packages = package_graph(graph)
    assert packages == {"tasks": {"training": 1}, "training": {"tasks": 2}, "cli": {"__init__": 4}}
    assert mutual_imports(packages) == {("tasks", "training")}


def test_package_cycles_only_shrink():
    packages = package_graph(import_graph())
    cycles = _components(packages)
    known = {name for cycle in KNOWN_PACKAGE_CYCLES for name in cycle}
    grown = [cycle for cycle in cycles if not any(set(cycle) <= set(k) for k in KNOWN_PACKAGE_CYCLES)]
    assert not grown, f"new cycles between packages: {grown} (known: {KNOWN_PACKAGE_CYCLES})"
    assert cycles == KNOWN_PACKAGE_CYCLES, (f"the cycles between packages shrank to {cycles}: update "
                                            f"KNOWN_PACKAGE_CYCLES (it only shrinks; {sorted(known)} before)")
    mutual = mutual_imports(packages)
    assert not mutual - KNOWN_MUTUAL_IMPORTS, f"new packages importing each other: {sorted(mutual - KNOWN_MUTUAL_IMPORTS)}"
    gone = sorted(KNOWN_MUTUAL_IMPORTS - mutual)
    assert not gone, f"packages no longer importing each other: {gone}; drop them from KNOWN_MUTUAL_IMPORTS"

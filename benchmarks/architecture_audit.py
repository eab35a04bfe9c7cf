"""Measure how far the package is from "one house" (issue 38), read from the source with ``ast``.

Nothing of artforge is imported, so this runs on any checkout (``--root`` points at another one's
``src/artforge``) and takes well under a second. Every count has a ``--list`` that prints each
occurrence as ``file:line  code``, so a reader can check it.

Names, read from the source (not typed in here), and the module that owns each one:

    task         the ``name = "..."`` of each class in ``tasks/*.py`` (not ``tasks/base.py``); owner: that file
    family       the first argument of each ``Family("...", ...)`` call in ``models/*.py``; owner: that file
                 (the architectures ``--arch`` offers are some of them)
    modality     the first argument of each ``...Modality("...", ...)`` call; owner: ``modality.py``
    report kind  ``"sound"``, ``"sounds"``, ``"music"``: the kinds of an evaluate/sample report; no registry
                 holds them, so they are listed here (REPORT_KINDS); owners: the modules that write them (a
                 dict display ``{"kind": "music", ...}``, read from the source)

A **branch on a name** is a comparison (``==``, ``!=``, ``in``, ``not in``, ``is``, ``is not``) between
an expression (the subject) and a name's string literal, a tuple/list/set of literals that holds one,
or an UPPER_CASE module constant defined anywhere in the package as such a tuple/list/set
(``TRANSLATION_TASKS``); and a ``match`` case on such a literal. Every comparison counts, wherever it
is: in an ``if``/``elif``/``while``, a conditional expression, or a boolean that is assigned or
returned (a predicate computed here is branched on elsewhere). A line counts once per kind of name
(``a == "x" or a == "y"`` is one branch; ``task == "generation" and arch == "dcgan"`` one of each).
A comparison in a module that owns every name it compares with is the part's own business and is not
counted. Some names belong to two kinds ("pix2pix", "cyclegan" and "toy" are tasks and families); the
subject decides: a subject whose text says ``task`` is a task, ``arch``/``family`` a family,
``modality``/``trains_on`` a modality, ``kind`` a report kind; a subject that says none of these is
the one of task, family that names most of the literals (task on a tie). A modality or a report kind
counts only under a subject that says its word (the words "image", "audio", "sound" and "music" are common: an option
named "image" or a sub-command "prepare audio" is not a modality); a subject that says ``recipe``,
``preset``, ``loss``, ``dataset`` or ``source`` is another registry's name and is not counted. The
registries own every name of their kind (``models/registry.py``, ``catalog.py``: their lookups and
validation are not branches).

A **table keyed by names** is a dict display whose keys are all string literals, at least two of them
names of one kind (``TASK_DEFAULTS``, ``FAMILY_RECIPES``, ``{"generation": ..., "sr": ...}.get(task)``),
outside the owner of every key: the same branch, written as data. It counts once, as the kind with
most of its keys. A lookup with a literal key (``PREVIEWS["generation"]``) is not counted.

A **feature probe** is ``hasattr(x, "attr")`` or ``getattr(x, "attr", default)`` where ``attr`` is
an attribute that a network class of ``models/`` defines (a method, a class attribute, or
``self.attr = ...``; network classes are the classes in ``models/`` that are not dataclasses) and the
object's text does not say ``cfg`` or ``config`` (a config's optional field is not a network's
feature). A line counts once per attribute; probes inside the module that defines it are not counted.

**Package cycles**: the packages are the subpackages (``training``, ``metrics``, ...) and the top-level
modules (``cli``, ``config``, ...; the root ``__init__`` is ``artforge``). An arrow A -> B is an import
of B anywhere in A (``all``) or only at module level (``top-level``: what runs at import). Counted: the
strongly connected components of more than one package, the packages in them, the pairs that import
each other directly (the "tasks<->training" of the issue), and the imports that lie on a cycle (both
ends in one component: the arrows that a redesign must turn or remove).

Sizes: the largest file and the files over 600 lines; the option modules (``config.py`` before issue
38, the ``options/`` package after): how many, their lines and the largest module's, their dataclasses
(classes decorated ``@dataclass``), their options (calls of ``option(...)``), and the largest options
dataclass by fields (its annotated fields and its base classes' within its module, ClassVar excepted):
``TrainConfig`` before, one part's options after.

    python benchmarks/architecture_audit.py              # the table
    python benchmarks/architecture_audit.py --list       # every occurrence as file:line  code
    python benchmarks/architecture_audit.py --json       # the numbers, for tests and the closing note
    python benchmarks/architecture_audit.py --root ../other/src/artforge
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "artforge"
PACKAGE = "artforge"
KINDS = ("task", "family", "modality", "report")
REPORT_KINDS = ("sound", "sounds", "music")  # no registry holds them (see the docstring)
# Words in a comparison's subject that say which kind of name it is (checked in this order).
SUBJECT_WORDS = {"task": ("task",), "family": ("arch", "family"), "modality": ("modality", "trains_on"),
                 "report": ("kind",)}
UNSAID_KINDS = ("task", "family")  # distinctive enough to count under any subject
# The registries own every name of their kind.
REGISTRIES = {"task": (), "family": ("models/registry.py", "catalog.py"), "modality": ("modality.py",), "report": ()}
OTHER_REGISTRIES = ("recipe", "preset", "loss", "dataset", "source")
COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
BIG_FILE = 600
OPTION_MODULES = ("config.py", "options/")  # the one file before issue 38, the package after


@dataclass
class Source:
    """The parsed package: relative path -> tree and lines."""
    root: Path
    trees: dict[str, ast.Module] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> "Source":
        source = cls(root)
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            text = path.read_text(encoding="utf-8")
            source.trees[rel] = ast.parse(text, filename=str(path))
            source.lines[rel] = text.splitlines()
        return source

    def code(self, rel: str, line: int) -> str:
        return self.lines[rel][line - 1].strip()


@dataclass(frozen=True)
class Hit:
    kind: str  # task, family, modality, report (branches, tables) or the attribute (probes)
    file: str
    line: int


# ---- names and their owners ----------------------------------------------------------------------

def _first_str_arg(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _task_names(source: Source) -> dict[str, set[str]]:
    owners: dict[str, set[str]] = {}
    for rel, tree in source.trees.items():
        if not rel.startswith("tasks/") or rel in ("tasks/base.py", "tasks/__init__.py"):
            continue
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            for stmt in cls.body:
                named = isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "name"
                                                             for t in stmt.targets)
                if named and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    owners.setdefault(stmt.value.value, set()).add(rel)
    return owners


def _constructed_names(source: Source, where: str, constructor) -> dict[str, set[str]]:
    """The first string argument of every call whose name satisfies ``constructor``, in files under ``where``."""
    owners: dict[str, set[str]] = {}
    for rel, tree in source.trees.items():
        if not rel.startswith(where):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and constructor(_call_name(node)) and _first_str_arg(node):
                owners.setdefault(_first_str_arg(node), set()).add(rel)
    return owners


def _literal_strings(node: ast.AST) -> list[str]:
    """The string constants ``node`` can be: a literal, or either branch of a conditional expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_strings(node.body) + _literal_strings(node.orelse)
    return []


def _report_owners(source: Source) -> dict[str, set[str]]:
    owners: dict[str, set[str]] = {name: set() for name in REPORT_KINDS}
    for rel, tree in source.trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "kind":
                    for name in _literal_strings(value):
                        if name in owners:
                            owners[name].add(rel)
    return owners


def name_owners(source: Source) -> dict[str, dict[str, set[str]]]:
    """kind -> name -> the files that own it."""
    return {
        "task": _task_names(source),
        "family": _constructed_names(source, "models/", lambda name: name == "Family"),
        "modality": _constructed_names(source, "modality.py", lambda name: name.endswith("Modality")),
        "report": _report_owners(source),
    }


# ---- branches and tables -------------------------------------------------------------------------

def _string_sequence(node: ast.AST) -> list[str] | None:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]
    return None


def string_constants(source: Source) -> dict[str, list[str]]:
    """UPPER_CASE module constants defined as a tuple/list/set of string literals, by name (any module)."""
    constants: dict[str, list[str]] = {}
    for tree in source.trees.values():
        for stmt in tree.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else (
                stmt.target if isinstance(stmt, ast.AnnAssign) else None)
            value = getattr(stmt, "value", None)
            if isinstance(target, ast.Name) and target.id.isupper() and value is not None:
                strings = _string_sequence(value)
                if strings:
                    constants.setdefault(target.id, []).extend(strings)
    return constants


def _compared_strings(node: ast.AST, constants: dict[str, list[str]]) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    sequence = _string_sequence(node)
    if sequence:
        return sequence
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return constants.get(name) if name and name.isupper() else None


def classify(subject: str, literals: list[str], owners: dict[str, dict[str, set[str]]]) -> str | None:
    """The kind of name that ``subject`` is compared with, or None (see the docstring)."""
    text = subject.lower()
    if any(word in text for word in OTHER_REGISTRIES):
        return None
    kinds = [kind for kind in KINDS if any(name in owners[kind] for name in literals)]
    said = [kind for kind in kinds if any(word in text for word in SUBJECT_WORDS[kind])]
    if said:
        return said[0]
    unsaid = [kind for kind in kinds if kind in UNSAID_KINDS]
    return max(unsaid, key=lambda kind: sum(name in owners[kind] for name in literals)) if unsaid else None


def _owned_here(rel: str, kind: str, literals: list[str], owners: dict[str, dict[str, set[str]]]) -> bool:
    if rel in REGISTRIES[kind]:
        return True
    named = [name for name in literals if name in owners[kind]]
    return all(rel in owners[kind][name] for name in named)


def _comparisons(tree: ast.Module):
    """(subject, compared-with, line) for each comparison and match case."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for left, op, right in zip(operands, node.ops, operands[1:]):
                if isinstance(op, COMPARISONS):
                    yield left, right, node.lineno
                    yield right, left, node.lineno
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for pattern in ast.walk(case.pattern):
                    if isinstance(pattern, ast.MatchValue):
                        yield node.subject, pattern.value, pattern.lineno


def branches(source: Source, owners, constants) -> list[Hit]:
    hits = []
    for rel, tree in source.trees.items():
        for subject, other, line in _comparisons(tree):
            literals = _compared_strings(other, constants)
            if not literals or _compared_strings(subject, constants):
                continue
            kind = classify(ast.unparse(subject), literals, owners)
            if kind and not _owned_here(rel, kind, literals, owners):
                hits.append(Hit(kind, rel, line))
    return hits


def tables(source: Source, owners) -> list[Hit]:
    hits = []
    for rel, tree in source.trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict) or not node.keys or not all(
                    isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
                continue
            keys = [k.value for k in node.keys]
            counts = {kind: sum(key in owners[kind] for key in keys) for kind in KINDS if kind != "report"}
            kind = max(counts, key=lambda k: counts[k])  # first of the most, in KINDS order
            if counts[kind] >= 2 and not _owned_here(rel, kind, keys, owners):
                hits.append(Hit(kind, rel, node.lineno))
    return hits


# ---- feature probes ------------------------------------------------------------------------------

def _is_dataclass(cls: ast.ClassDef) -> bool:
    return any("dataclass" in ast.unparse(d) for d in cls.decorator_list)


def network_attributes(source: Source) -> dict[str, set[str]]:
    """attribute -> the models/ files whose network classes define it."""
    found: dict[str, set[str]] = {}
    for rel, tree in source.trees.items():
        if not rel.startswith("models/"):
            continue
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and not _is_dataclass(n)):
            for node in ast.walk(cls):
                names = []
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in cls.body:
                    names = [node.name]
                elif isinstance(node, ast.Assign):
                    names = [t.id if isinstance(t, ast.Name) and node in cls.body else
                             t.attr if isinstance(t, ast.Attribute) and ast.unparse(t.value) == "self" else ""
                             for t in node.targets]
                for name in filter(None, names):
                    if not name.startswith("__"):
                        found.setdefault(name, set()).add(rel)
    return found


def probes(source: Source, attributes: dict[str, set[str]]) -> list[Hit]:
    hits = []
    for rel, tree in source.trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) >= 2):
                continue
            is_probe = node.func.id == "hasattr" or (node.func.id == "getattr" and len(node.args) == 3)
            attr = node.args[1].value if isinstance(node.args[1], ast.Constant) else None
            target = ast.unparse(node.args[0]).lower()
            if (is_probe and attr in attributes and rel not in attributes[attr]
                    and "cfg" not in target and "config" not in target):
                hits.append(Hit(attr, rel, node.lineno))
    return hits


# ---- package cycles ------------------------------------------------------------------------------

def _module_name(rel: str) -> str:
    parts = [PACKAGE, *Path(rel).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """artforge.training.engine -> training; artforge.cli -> cli; artforge -> artforge."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def _top_level_nodes(tree: ast.Module):
    """The statements that run at import: the module body, its if/try/with blocks and class bodies, not
    function bodies."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.ExceptHandler, ast.With)):
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ClassDef):
            stack.extend(node.body)


def _imported(module: str, is_package: bool, node: ast.AST, modules: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            parts = (module if is_package else module.rpartition(".")[0]).split(".")
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    else:
        return []
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


def package_graph(source: Source, top_level_only: bool) -> dict[str, dict[str, tuple[str, int]]]:
    """package -> {imported package: (first file, line)}; imports within a package are left out."""
    modules = {_module_name(rel) for rel in source.trees}
    graph: dict[str, dict[str, tuple[str, int]]] = {}
    for rel, tree in sorted(source.trees.items()):
        module = _module_name(rel)
        here = package_of(module)
        graph.setdefault(here, {})
        nodes = _top_level_nodes(tree) if top_level_only else ast.walk(tree)
        for node in sorted(nodes, key=lambda n: getattr(n, "lineno", 0)):
            for name in _imported(module, rel.endswith("__init__.py"), node, modules):
                there = package_of(name)
                if there != here:
                    graph[here].setdefault(there, (rel, node.lineno))
    return graph


def strongly_connected(graph: dict[str, dict]) -> list[list[str]]:
    """Components of more than one node (scipy's strongly connected components), each sorted, sorted."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    nodes = sorted(set(graph) | {w for targets in graph.values() for w in targets})
    at = {name: i for i, name in enumerate(nodes)}
    edges = [(at[v], at[w]) for v, targets in graph.items() for w in targets]
    rows, cols = zip(*edges) if edges else ((), ())
    adjacency = csr_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for name, label in zip(nodes, labels):
        groups.setdefault(int(label), []).append(name)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)


def mutual_pairs(graph: dict[str, dict]) -> list[tuple[str, str]]:
    return sorted((a, b) for a in graph for b in graph[a] if a < b and a in graph.get(b, {}))


def arrows_in_cycles(graph: dict[str, dict]) -> list[tuple[str, str]]:
    """The imports between two packages of one strongly connected component: each lies on a cycle."""
    component_of = {v: i for i, component in enumerate(strongly_connected(graph)) for v in component}
    return sorted((a, b) for a in graph for b in graph[a]
                  if a in component_of and component_of[a] == component_of.get(b))


def cycle_figures(graph: dict[str, dict]) -> dict:
    components = strongly_connected(graph)
    return {"components": components, "packages_in_cycles": sum(map(len, components)),
            "mutual_pairs": [list(p) for p in mutual_pairs(graph)],
            "arrows_in_cycles": [list(p) for p in arrows_in_cycles(graph)]}


# ---- sizes ---------------------------------------------------------------------------------------

def _fields(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[str]:
    names: list[str] = []
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            names += [n for n in _fields(classes[base.id], classes) if n not in names]
    for stmt in cls.body:
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and "ClassVar" not in ast.unparse(stmt.annotation) and stmt.target.id not in names):
            names.append(stmt.target.id)
    return names


def option_sizes(source: Source) -> dict:
    """The option modules' sizes: lines per module, dataclasses, ``option(...)`` calls, the widest dataclass."""
    modules = sorted(rel for rel in source.trees if rel == OPTION_MODULES[0] or rel.startswith(OPTION_MODULES[1]))
    dataclasses_, options, widest = 0, 0, {"name": None, "fields": 0}
    for rel in modules:
        tree = source.trees[rel]
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        dataclasses_ += sum(_is_dataclass(c) for c in classes.values())
        options += sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "option"
                       for n in ast.walk(tree))
        for name, cls in classes.items():
            if _is_dataclass(cls) and len(_fields(cls, classes)) > widest["fields"]:
                widest = {"name": f"{rel}:{name}", "fields": len(_fields(cls, classes))}
    lines = {rel: len(source.lines[rel]) for rel in modules}
    return {"option_modules": lines, "option_dataclasses": dataclasses_, "option_calls": options,
            "widest_options": widest}


# ---- the audit -----------------------------------------------------------------------------------

def audit(root: Path = ROOT) -> dict:
    """Every figure and its occurrences, as plain data (the --json output)."""
    source = Source.read(root)
    owners = name_owners(source)
    constants = string_constants(source)
    branch_hits = branches(source, owners, constants)
    table_hits = tables(source, owners)
    probe_hits = probes(source, network_attributes(source))
    graphs = {scope: package_graph(source, top_level_only=scope == "top-level") for scope in ("all", "top-level")}
    sizes = sorted(((len(lines), rel) for rel, lines in source.lines.items()), reverse=True)

    def listed(hits: list[Hit]) -> list[dict]:
        return [{"kind": h.kind, "file": h.file, "line": h.line, "code": source.code(h.file, h.line)}
                for h in sorted(set(hits), key=lambda h: (h.file, h.line, h.kind))]

    return {
        "names": {kind: {name: sorted(files) for name, files in sorted(names.items())}
                  for kind, names in owners.items()},
        "branches": {kind: sum(h.kind == kind for h in set(branch_hits)) for kind in KINDS},
        "branches_by_file": dict(sorted(Counter(h.file for h in set(branch_hits)).items(),
                                        key=lambda item: (-item[1], item[0]))),
        "tables": {kind: sum(h.kind == kind for h in set(table_hits)) for kind in KINDS if kind != "report"},
        "probes": len(set(probe_hits)),
        "cycles": {scope: cycle_figures(graph) for scope, graph in graphs.items()},
        "largest_file": {"file": sizes[0][1], "lines": sizes[0][0]},
        "files_over_600": [{"file": rel, "lines": n} for n, rel in sizes if n > BIG_FILE],
        **option_sizes(source),
        "occurrences": {"branches": listed(branch_hits), "tables": listed(table_hits), "probes": listed(probe_hits),
                        "package_imports": {scope: {f"{a} -> {b}": f"{rel}:{line}" for a in sorted(graph)
                                                    for b, (rel, line) in sorted(graph[a].items())}
                                            for scope, graph in graphs.items()}},
    }


def table(result: dict) -> str:
    cycles_all, cycles_top = result["cycles"]["all"], result["cycles"]["top-level"]
    big = ", ".join(f"{f['file']} ({f['lines']})" for f in result["files_over_600"]) or "none"
    modules, widest = result["option_modules"], result["widest_options"]
    rows = [
        ("branches on a task name outside the task", result["branches"]["task"]),
        ("branches on a family/architecture name outside the family", result["branches"]["family"]),
        ("branches on a modality name outside modality.py", result["branches"]["modality"]),
        ("branches on a report kind outside its writers", result["branches"]["report"]),
        ("tables keyed by task / family / modality names", " / ".join(str(v) for v in result["tables"].values())),
        ("feature probes on networks (hasattr/getattr)", result["probes"]),
        ("package cycles, all imports: components (packages)",
         f"{len(cycles_all['components'])} ({cycles_all['packages_in_cycles']})"),
        ("package pairs importing each other, all imports", len(cycles_all["mutual_pairs"])),
        ("package imports on a cycle, all imports", len(cycles_all["arrows_in_cycles"])),
        ("package cycles, top-level imports: components (packages)",
         f"{len(cycles_top['components'])} ({cycles_top['packages_in_cycles']})"),
        ("package pairs importing each other, top-level imports", len(cycles_top["mutual_pairs"])),
        ("package imports on a cycle, top-level imports", len(cycles_top["arrows_in_cycles"])),
        ("largest file (lines)", f"{result['largest_file']['file']} ({result['largest_file']['lines']})"),
        (f"files over {BIG_FILE} lines", big),
        ("option modules: count / lines / largest module's lines / dataclasses / options",
         f"{len(modules)} / {sum(modules.values())} / {max(modules.values(), default=0)} / "
         f"{result['option_dataclasses']} / {result['option_calls']}"),
        ("widest options dataclass (fields)", f"{widest['name']} ({widest['fields']})"),
    ]
    lines = ["| measure | count |", "|---|---|"] + [f"| {name} | {value} |" for name, value in rows]
    by_file = ", ".join(f"`{f}` {n}" for f, n in result["branches_by_file"].items())
    return "\n".join(lines) + f"\n\nBranches by file: {by_file or 'none'}"


def listing(result: dict) -> str:
    out = []
    for what in ("branches", "tables", "probes"):
        out.append(f"## {what}")
        out += [f"{o['file']}:{o['line']}  [{o['kind']}]  {o['code']}" for o in result["occurrences"][what]]
    for scope in ("all", "top-level"):
        cycles = result["cycles"][scope]
        out.append(f"## package cycles ({scope} imports)")
        out += ["component: " + " ".join(c) for c in cycles["components"]]
        imports = result["occurrences"]["package_imports"][scope]
        for a, b in cycles["mutual_pairs"]:
            out.append(f"{a} <-> {b}: {imports[f'{a} -> {b}']}, {imports[f'{b} -> {a}']}")
        out += [f"on a cycle: {a} -> {b}  {imports[f'{a} -> {b}']}" for a, b in cycles["arrows_in_cycles"]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the package folder to read (default: this checkout's)")
    parser.add_argument("--list", action="store_true", help="print each occurrence as file:line  code")
    parser.add_argument("--json", action="store_true", help="print the figures and occurrences as JSON")
    args = parser.parse_args(argv)
    if not (args.root / "__init__.py").is_file():
        print(f"architecture_audit: {args.root} is not a package folder; pass --root path/to/src/artforge",
              file=sys.stderr)
        return 2
    result = audit(args.root)
    print(json.dumps(result, indent=1) if args.json else listing(result) if args.list else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

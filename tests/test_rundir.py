"""Run folder layout: ``RunLayout`` names every file a run writes, and only it (and the checkpoint and export
modules, for the names of their own folders) spells those names.

The rule is checked on the source with ``ast``: a name counts where the code builds a path with it
(``run_dir / "eval"``, ``Path("log.jsonl")``, ``open("options.json")``, ``"eval/x.json"``, a named constant
``EVAL = "eval"``), not where it is a log event's or an option's name (``"eval"``, ``"tensorboard"``) or words
in a message or docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from artforge.runs import checkpoint as ckpt
from artforge.runs.rundir import OPTIONS_FILE, RunLayout

ROOT = Path(__file__).resolve().parents[1] / "src" / "artforge"

RUNDIR = "runs/rundir.py"
CHECKPOINT = "runs/checkpoint.py"
EXPORT = "sampling.py"  # the exported folder's names (exporting.py builds on sampling.py and imports them)

# Each name, and the one module that may spell it (model.safetensors: in checkpoints and in exported folders).
OWNERS = {
    "options.json": {RUNDIR},
    "log.jsonl": {RUNDIR},
    "grids": {RUNDIR},
    "eval": {RUNDIR},
    "samples": {RUNDIR},
    "report.html": {RUNDIR},
    "tensorboard": {RUNDIR},
    "checkpoints": {CHECKPOINT},
    "index.json": {CHECKPOINT},
    "state.json": {CHECKPOINT},
    "training.safetensors": {CHECKPOINT},
    "model.safetensors": {CHECKPOINT, EXPORT},
    "model.json": {EXPORT},
    "README.md": {EXPORT},
}

# (module, name): why that module spells a name of the list for something that is not a run's file.
NOT_A_RUN = {
    ("metrics/inception.py", "checkpoints"): "torch hub's folder of downloaded weights (~/.cache/torch/hub/checkpoints)",
}

PATH_CALLS = {"Path", "PurePath", "open", "joinpath", "join", "SummaryWriter"}


def test_layout_paths():
    root = Path("runs/00003-openmoji-64-dcgan")
    layout = RunLayout(root)
    assert layout.root == root
    assert layout.options == root / "options.json" == root / OPTIONS_FILE
    assert layout.log == root / "log.jsonl"
    assert layout.grids == root / "grids"
    assert layout.grid(200) == root / "grids" / "000200.png"
    assert layout.grid(1234567) == root / "grids" / "1234567.png"
    assert layout.checkpoints == root / "checkpoints"
    assert layout.checkpoint(200) == root / "checkpoints" / "step-000200"
    assert layout.checkpoint(200).name == ckpt.checkpoint_name(200)
    assert layout.eval == root / "eval"
    assert layout.eval_result("step-000200") == root / "eval" / "step-000200.json"
    assert layout.samples == root / "samples"
    assert layout.report == root / "report.html"
    assert layout.tensorboard == root / "tensorboard"


def test_layout_takes_a_string_and_is_frozen():
    layout = RunLayout("runs/00000-x")
    assert layout == RunLayout(Path("runs/00000-x"))
    assert layout.log == Path("runs/00000-x/log.jsonl")
    with pytest.raises(AttributeError):
        layout.root = Path("elsewhere")


def test_checkpoint_names_match_what_checkpoint_resolves(tmp_path):
    layout = RunLayout(tmp_path)
    ckpt.save_checkpoint(layout.checkpoints, 20, {"G": torch.nn.Linear(2, 2)}, {"step": 20})
    assert ckpt.resolve_checkpoint(tmp_path, "20") == layout.checkpoint(20)
    assert (layout.checkpoint(20) / ckpt.STATE_FILE).is_file()


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            found.add(id(body[0].value))
    return found


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _path_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) for every name of OWNERS the code uses as a file or folder name."""
    # ids of constants that are an operand of ``/``, an argument of a path call, or a named constant's value
    # (``CHECKPOINTS = "checkpoints"``, divided into a path elsewhere)
    in_path: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            in_path.update({id(node.left), id(node.right)})
        elif isinstance(node, ast.Call) and _call_name(node) in PATH_CALLS:
            in_path.update(id(arg) for arg in node.args)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            in_path.add(id(node.value))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
            continue
        text = node.value
        for name in OWNERS:
            # "eval" as an event's name is fine; "eval" divided into a path, or "eval/x.json", is not.
            as_path = id(node) in in_path and text == name
            in_text = " " not in text and (text.startswith(name + "/") or text.endswith("/" + name)
                                           or f"/{name}/" in text)
            dotted = "." in name and text == name  # a file name is a file name wherever it stands
            if as_path or in_text or dotted:
                found.append((node.lineno, name))
    return found


def test_only_the_layout_spells_a_runs_file_names():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _path_uses(tree):
            if module not in OWNERS[name] and (module, name) not in NOT_A_RUN:
                offenders.append(f"src/artforge/{module}:{line}: {name!r}")
    assert not offenders, ("name a run's files through runs/rundir.py's RunLayout (checkpoints' insides: "
                           "runs/checkpoint.py's constants; exported folders: sampling.py's), not as literals:\n"
                           + "\n".join(offenders))


def test_the_rule_finds_what_it_forbids():
    code = '''
"""A docstring may say run_dir / "eval" and log.jsonl."""
a = run_dir / "log.jsonl"
b = run_dir / "eval" / f"{name}.json"
c = open("options.json")
d = Path(run_dir, "tensorboard")
e = "checkpoints/step-000200"
f = {"event": "eval", "tensorboard": True}
g = "see RUN/samples/ for the images"
GRIDS = "grids"
'''
    assert sorted(_path_uses(ast.parse(code))) == [
        (3, "log.jsonl"), (4, "eval"), (5, "options.json"), (6, "tensorboard"), (7, "checkpoints"), (10, "grids")]


def test_every_owner_spells_its_names():
    """The owners hold the names (so that the rule above checks the right modules)."""
    for name, owners in OWNERS.items():
        for module in owners:
            assert f'"{name}"' in (ROOT / module).read_text(encoding="utf-8"), (module, name)

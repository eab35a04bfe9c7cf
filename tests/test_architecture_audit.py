"""benchmarks/architecture_audit.py: its counts on a constructed package, and its package cycles against
tests/test_layers.py's own reading of the import graph (two implementations that must agree)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))
sys.path.insert(0, str(HERE))

import architecture_audit as audit_script  # noqa: E402
import test_layers as layers  # noqa: E402

# A package with one occurrence of each rule, counted and not; expected counts are in the comments.
FILES = {
    "__init__.py": "",
    "errors.py": "",
    "catalog.py": 'ARCHITECTURES = ("dcgan", "pix2pix")\n',
    "modality.py": ('IMAGE = ImageModality("image", "B, C, H, W")\n'
                    'WAVE = WaveModality("audio", "B, 1, L")\n'
                    'def preview(modality):\n    return modality == "image"  # its owner: not counted\n'),
    "models/__init__.py": "",
    "models/dcgan.py": ("from dataclasses import dataclass\n"
                        "@dataclass\nclass DCGANConfig:\n    resolution: int = 64\n"
                        "class G:\n    def encode_real(self, x):\n        return x\n"
                        "    def __init__(self):\n        self.num_ws = 3\n"
                        'FAMILY = Family("dcgan", DCGANConfig, build)\n'),
    "models/pix2pix.py": 'FAMILY = Family("pix2pix", None, None)\n',
    "models/registry.py": ("from ..catalog import ARCHITECTURES\n"
                           "def get(name):\n    if name not in ARCHITECTURES:  # the registry: not counted\n"
                           "        raise KeyError(name)\n"),
    "tasks/__init__.py": "",
    "tasks/base.py": 'class Task:\n    name = "task"\n',
    "tasks/generation.py": ("from .base import Task\n"
                            'class GenerationTask(Task):\n    name = "generation"\n'
                            '    def own(self):\n        return self.name == "generation"  # its owner: not counted\n'
                            '    def styled(self, G):\n        return hasattr(G, "num_ws")  # probe 1\n'),
    "tasks/paired.py": ('class PairedTask:\n    name = "pix2pix"\n'
                        "    def attach(self):\n        from ..training import loop  # lazy: closes the cycle\n"),
    "training/__init__.py": "",
    "training/loop.py": (
        "from ..tasks import generation\n"
        'TRANSLATION = ("pix2pix",)\n'
        "def train(cfg, ds, report, task, x, name, G):\n"
        '    if cfg.task == "generation":  # task 1\n        pass\n'
        "    if cfg.task in TRANSLATION:  # task 2, through the constant\n        pass\n"
        '    if task == "pix2pix" or task == "generation":  # task 3 (one line)\n        pass\n'
        '    if x == "pix2pix":  # task 4: a task and a family; no word in the subject: the task\n        pass\n'
        '    if cfg.arch == "pix2pix":  # family 1: the subject says arch\n        pass\n'
        '    if ds.modality == "image":  # modality 1\n        pass\n'
        '    if name == "image":  # not counted: the subject does not say modality\n        pass\n'
        '    if report.get("kind") == "music":  # report kind 1\n        pass\n'
        '    if cfg.recipe == "dcgan":  # not counted: a recipe\n        pass\n'
        "    match cfg.task:\n        case \"generation\":  # task 5\n            pass\n"
        '    kind = {"generation": 1, "pix2pix": 2}.get(cfg.task)  # table 1 (task)\n'
        '    encode = getattr(G, "encode_real", None)  # probe 2\n'
        '    getattr(cfg, "num_ws", 0)  # not counted: a config\n'
        '    getattr(G, "resolution", 0)  # not counted: a config field, no network attribute\n'
        '    getattr(G, "num_ws")  # not counted: no default, not a probe\n'),
    "metrics/__init__.py": "",
    "metrics/evaluate.py": ('def write(report):\n    out = {"kind": "music"}  # the writer owns "music"\n'
                            '    return report["kind"] == "music"  # not counted\n'),
    "config.py": ("from dataclasses import dataclass\nfrom typing import ClassVar\n"
                  "def option(default, help):\n    return default\n"
                  '@dataclass\nclass A:\n    x: int = option(1, "x")\n    y: ClassVar[int] = 0\n'
                  '@dataclass\nclass TrainConfig(A):\n    z: int = option(2, "z")\n    w: int = 3\n'),
    "options/engine.py": ('from dataclasses import dataclass\n@dataclass\nclass EngineOptions:\n'
                          '    seed: int = option(0, "seed")\n'),
    "big.py": "x = 1\n" * 601,
}


def _package(root: Path) -> Path:
    package = root / "artforge"
    for rel, text in FILES.items():
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / rel).write_text(text, encoding="utf-8")
    return package


def test_counts_on_a_constructed_package(tmp_path):
    result = audit_script.audit(_package(tmp_path))
    assert result["names"]["task"] == {"generation": ["tasks/generation.py"], "pix2pix": ["tasks/paired.py"]}
    assert result["names"]["family"] == {"dcgan": ["models/dcgan.py"], "pix2pix": ["models/pix2pix.py"]}
    assert result["names"]["report"]["music"] == ["metrics/evaluate.py"]
    assert result["branches"] == {"task": 5, "family": 1, "modality": 1, "report": 1}
    assert result["tables"] == {"task": 1, "family": 0, "modality": 0}
    assert [(o["file"], o["kind"]) for o in result["occurrences"]["probes"]] == [
        ("tasks/generation.py", "num_ws"), ("training/loop.py", "encode_real")]
    assert result["cycles"]["all"]["components"] == [["tasks", "training"]]
    assert result["cycles"]["all"]["mutual_pairs"] == [["tasks", "training"]]
    assert result["cycles"]["top-level"]["components"] == []  # the closing import is lazy
    assert result["largest_file"] == {"file": "big.py", "lines": 601}
    assert [f["file"] for f in result["files_over_600"]] == ["big.py"]
    assert (result["option_dataclasses"], result["option_calls"]) == (3, 3)
    assert result["option_modules"] == {"config.py": 12, "options/engine.py": 4}
    assert result["widest_options"] == {"name": "config.py:TrainConfig", "fields": 3}


def test_json_output_and_a_wrong_root(tmp_path, capsys):
    package = _package(tmp_path)
    assert audit_script.main(["--json", "--root", str(package)]) == 0
    assert json.loads(capsys.readouterr().out)["branches"]["task"] == 5
    assert audit_script.main(["--root", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere is not a package folder" in err and "Traceback" not in err


def test_package_cycles_agree_with_test_layers():
    result = audit_script.audit()["cycles"]["all"]
    packages = layers.package_graph(layers.import_graph())
    rename = {"__init__": "artforge"}
    theirs = [sorted(rename.get(p, p) for p in c) for c in layers._components(packages)]
    assert result["components"] == sorted(theirs)
    assert {tuple(p) for p in result["mutual_pairs"]} == {
        tuple(sorted(rename.get(p, p) for p in pair)) for pair in layers.mutual_imports(packages)}

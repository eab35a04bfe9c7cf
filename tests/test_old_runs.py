"""Runs made before issue 38's redesign (commit ca4152c, one per family and task) load, sample and resume.

tests/fixtures/runs-ca4152c/ holds the runs, their tiny datasets, a dcgan export and expected.json:
the shape and sha256 of what the old code sampled (seeds 0-1), translated and upscaled from them, and
of the weights its own resume of each run two steps on trained.
make_fixtures.py there remakes them with the old code; its README says how. Fixtures are copied to a
temporary folder first: nothing here writes into them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch

import artforge
from artforge.cli import main
from artforge.runs import checkpoint as ckpt

FIXTURES = Path(__file__).parent / "fixtures" / "runs-ca4152c"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
GENERATION = ("dcgan", "style", "wavegan", "specgan", "musegan")

_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)

pytest.importorskip("soundfile")  # the sound and music runs write WAVs
pytest.importorskip("pretty_midi")  # and MIDI


def _skip_unless_same_platform() -> None:
    """Bit identity holds on the torch build and CPU kernels the fixtures were made with (other kernels
    round differently); everything before this call is checked everywhere."""
    here = (torch.__version__, torch.backends.cpu.get_cpu_capability())
    if here != (EXPECTED["torch"], EXPECTED["cpu_capability"]):
        made = f"torch {EXPECTED['torch']} ({EXPECTED['cpu_capability']})"
        pytest.skip(f"identity with the old outputs: made with {made}, this is torch {here[0]} ({here[1]})")


def _copy(name: str, tmp_path: Path) -> Path:
    """The run in a temporary folder, its recorded datasets pointing at copies of the fixture's."""
    spec = EXPECTED["runs"][name]
    run = tmp_path / spec["folder"]
    shutil.copytree(FIXTURES / "runs" / spec["folder"], run)
    shutil.copytree(FIXTURES / "datasets", tmp_path / "datasets")
    where = {p: str(tmp_path / "datasets" / Path(p).name) for p in _recorded(run)}
    text = (run / "options.json").read_text()
    for old, new in where.items():
        text = text.replace(old, new)
    (run / "options.json").write_text(text)
    return run


def _recorded(run: Path) -> list[str]:
    """The absolute dataset paths the old run recorded (a temporary folder of the machine that made it)."""
    options = json.loads((run / "options.json").read_text())
    train = options["train"]
    return [train[k] for k in ("dataset", "a", "b") if train.get(k)] + [options["dataset"]["path"]]


def _outputs(name: str, run: Path, out: Path) -> dict:
    """Sample seeds 0-1, translate or upscale the fixture's input, as the old code did (make_fixtures.py)."""
    if name in GENERATION:
        args = ["sample", str(run), "--seeds", "0-1", "--no-watermark"]
    elif name == "sr":
        args = ["upscale", str(run), str(FIXTURES / "inputs" / "disc-8.png"), "--no-watermark", "--quiet"]
    else:
        args = ["translate", str(run), str(FIXTURES / "inputs" / "disc.png"), "--seed", "0", "--no-watermark",
                "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    return make_fixtures.outputs(out)


@pytest.mark.parametrize("name", list(EXPECTED["runs"]))
def test_an_old_run_makes_what_it_made_and_resumes(name, tmp_path, one_thread):
    run = _copy(name, tmp_path)
    got = _outputs(name, run, tmp_path / "out")
    expected = EXPECTED["runs"][name]["outputs"]
    assert {k: v["shape"] for k, v in got.items()} == {k: v["shape"] for k, v in expected.items()}
    step, old_resume = EXPECTED["runs"][name]["step"], EXPECTED["runs"][name]["resumed"]
    shrink = make_fixtures.SHRINK.get(name)  # made with a smaller D than any option gives: resumed so too
    with make_fixtures.shrunk(*shrink) if shrink else contextlib.nullcontext():
        resumed = artforge.train(resume=run, steps=old_resume["step"])
    assert resumed.step == old_resume["step"] == step + 2
    assert [p.name for p in ckpt.list_checkpoints(run / "checkpoints")][-1] == f"step-{step + 2:06d}"
    _skip_unless_same_platform()
    assert {k: v["sha256"] for k, v in got.items()} == {k: v["sha256"] for k, v in expected.items()}
    assert make_fixtures.weights_hash(resumed.checkpoint) == old_resume["weights_sha256"]  # the old code's resume


def test_an_old_export_loads_and_samples_what_it_sampled(tmp_path, one_thread):
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "exports" / EXPECTED["export"]["folder"], export)
    images = artforge.load(export, device="cpu").sample(seeds=[0, 1])
    assert images.shape == (2, 32, 32, 3)
    got = _outputs("dcgan", export, tmp_path / "out")
    expected = EXPECTED["export"]["outputs"]
    assert {k: v["shape"] for k, v in got.items()} == {k: v["shape"] for k, v in expected.items()}
    _skip_unless_same_platform()
    assert {k: v["sha256"] for k, v in got.items()} == {k: v["sha256"] for k, v in expected.items()}
    assert hashlib.sha256(images[0].tobytes()).hexdigest() == expected["seed0000.png"]["sha256"]


def test_the_fixtures_are_the_old_format_and_untouched_by_the_tests():
    """Each run holds the one checkpoint ca4152c's code wrote (format 2, its format); none of the tests' own."""
    for name, spec in EXPECTED["runs"].items():
        checkpoints = ckpt.list_checkpoints(FIXTURES / "runs" / spec["folder"] / "checkpoints")
        assert [p.name for p in checkpoints] == [f"step-{spec['step']:06d}"], name
        assert json.loads((checkpoints[0] / ckpt.STATE_FILE).read_text())["format_version"] == 2, name

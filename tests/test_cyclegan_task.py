"""--task cyclegan on the engine: two unpaired domains, both generators, pools in the checkpoint, exact resume."""

import json

import pytest
import torch
from PIL import Image

import artforge
from artforge.cli import main
from artforge.errors import UsageError
from artforge.runs import checkpoint as ckpt
from artforge.runs.monitor import read_log

from conftest import write_blob_dataset

OPTS = dict(task="cyclegan", batch=2, width=4, blocks=1, pool_size=3, tick=1, checkpoint_every=100,
            progress=False, tensorboard=False, device="cpu")


@pytest.fixture(scope="module")
def domain_b(tmp_path_factory):
    return write_blob_dataset(tmp_path_factory.mktemp("b") / "other-blobs-32.zip", n=20, seed=1)


def _losses(run_dir, key):
    rows, _ = read_log(run_dir / "log.jsonl")
    return [r[key] for r in rows if key in r]


def test_cyclegan_trains_both_ways_and_resumes_exactly(blob_dataset, domain_b, tmp_path, monkeypatch):
    from artforge.training.engine import Engine
    full = artforge.train(out=tmp_path / "a", a=blob_dataset, b=domain_b, steps=6, **OPTS)
    options = json.loads((full.run_dir / "options.json").read_text())
    assert options["model"]["arch"] == "cyclegan" and options["train"]["recipe"] == "cyclegan"
    assert options["train"]["loss"] == "least-squares" and options["train"]["lr_decay"] == 0.5
    assert options["train"]["b"] == str(domain_b) and full.run_dir.name.endswith("-cyclegan")
    assert options["dataset_b"]["path"].endswith("other-blobs-32.zip") and options["dataset_b"]["images"] == 20
    loaded = ckpt.load_checkpoint(full.checkpoint)
    pool = loaded["state"]["task_state"]["pool_a"]
    assert pool["count"] == 3 and pool["images"].shape == (3, 3, 32, 32)  # full: 6 steps of 2 fakes, 3 kept
    assert {k.split(".")[0] for k in loaded["models"]["G"]} == {"ab", "ba"}
    assert all(_losses(full.run_dir, k) for k in ("Loss/cycle", "Loss/identity", "Loss/D_a", "Loss/D_b"))
    grid = Image.open(full.run_dir / "grids" / "000006.png")
    assert grid.width > grid.height  # input | translated | back, for both domains
    with monkeypatch.context() as m:  # stopped at step 3 of 6, as Ctrl-C would stop it
        m.setattr(Engine, "_done", lambda self, started: self.step >= 3)
        part = artforge.train(out=tmp_path / "b", a=blob_dataset, b=domain_b, steps=6, **OPTS)
    resumed = artforge.train(resume=part.run_dir, steps=6)
    assert _losses(part.run_dir, "Loss/G") == _losses(full.run_dir, "Loss/G")
    wa, wb = loaded["models"], ckpt.load_checkpoint(resumed.checkpoint)["models"]
    assert all(torch.equal(wa[net][k], wb[net][k]) for net in ("G", "D", "G_ema") for k in wa[net])


def test_identity_weight_zero_drops_the_identity_loss(blob_dataset, domain_b, tmp_path):
    run = artforge.train(out=tmp_path, a=blob_dataset, b=domain_b, steps=2, identity_weight=0.0, **OPTS)
    assert not _losses(run.run_dir, "Loss/identity") and _losses(run.run_dir, "Loss/cycle")


def test_cyclegan_refuses_missing_or_mismatched_domains(blob_dataset, pairs_dataset, tmp_path, capsys):
    with pytest.raises(UsageError, match="needs two domains"):
        artforge.train(out=tmp_path, a=blob_dataset, steps=1, **OPTS)
    with pytest.raises(UsageError, match="holds pairs"):
        artforge.train(out=tmp_path, a=blob_dataset, b=pairs_dataset, steps=1, **OPTS)
    other = write_blob_dataset(tmp_path / "big.zip", n=12, res=64)
    with pytest.raises(UsageError, match="same --size"):
        artforge.train(out=tmp_path / "runs", a=blob_dataset, b=other, steps=1, **OPTS)
    code = main(["train", "--task", "cyclegan", "--a", str(blob_dataset), "--b", str(tmp_path / "nope.zip"),
                 "--steps", "1", "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and "--b" in err and "nope.zip" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_options_of_another_task_are_refused(blob_dataset, tmp_path, capsys):
    with pytest.raises(UsageError, match="--scale is an option of --task sr, not of --task generation"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, scale=2, progress=False)
    assert main(["train", str(blob_dataset), "--task", "pix2pix", "--cycle-weight", "5", "--out", str(tmp_path)]) == 2
    assert "--cycle-weight is an option of --task cyclegan" in capsys.readouterr().err
    with pytest.raises(UsageError, match="--eval-every scores generated images"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, task="sr", eval_every=10, progress=False)

"""--task pix2pix on the engine: trains on a paired dataset, previews, resumes exactly, refuses the wrong data."""

import json

import pytest
import torch
from PIL import Image

import artforge
from artforge.cli import main
from artforge.errors import UsageError
from artforge.tasks.paired import flip_pairs, split_pairs
from artforge.runs import checkpoint as ckpt
from artforge.runs.monitor import read_log

OPTS = dict(task="pix2pix", batch=4, width=8, tick=2, checkpoint_every=100, progress=False, tensorboard=False,
            device="cpu", augment=("flip",))


def test_pairs_split_at_the_middle_and_flip_together():
    left, right = torch.arange(8.0).view(1, 1, 2, 4).repeat(6, 1, 1, 1), torch.zeros(6, 1, 2, 4)
    a, b = split_pairs(torch.cat([left, right], dim=-1))
    assert torch.equal(a, left) and torch.equal(b, right)
    x = torch.randn(64, 3, 4, 4)
    fa, fb = flip_pairs(x, x.clone(), torch.Generator().manual_seed(0))
    assert torch.equal(fa, fb)  # the same flip on both halves of every pair
    flipped = [not torch.equal(fa[i], x[i]) for i in range(64)]
    assert 16 < sum(flipped) < 48 and all(torch.equal(fa[i], x[i].flip(-1)) for i in range(64) if flipped[i])


def _l1(run_dir):
    rows, _ = read_log(run_dir / "log.jsonl")
    return [r["Loss/L1"] for r in rows if "Loss/L1" in r]


def test_pix2pix_trains_on_pairs_and_resumes_exactly(pairs_dataset, tmp_path, monkeypatch):
    from artforge.training.engine import Engine
    opts = {**OPTS, "tick": 1}  # a log line every step: the stopped run's lines are the full run's
    full = artforge.train(pairs_dataset, out=tmp_path / "a", steps=8, **opts)
    assert full.run_dir.name.endswith("-pix2pix")
    options = json.loads((full.run_dir / "options.json").read_text())
    assert options["model"]["arch"] == "pix2pix" and options["train"]["task"] == "pix2pix"
    assert options["train"]["recipe"] == "dcgan" and options["train"]["beta1"] == 0.5
    state = json.loads((full.checkpoint / ckpt.STATE_FILE).read_text())
    assert state["family"] == "pix2pix" and state["task"] == "pix2pix" and state["best"]["metric"] == "l1"
    grid = Image.open(full.run_dir / "grids" / "000008.png")
    assert grid.width > grid.height  # input | output | target, side by side
    with monkeypatch.context() as m:  # stopped at step 5 of 8, as Ctrl-C would stop it
        m.setattr(Engine, "_done", lambda self, started: self.step >= 5)
        part = artforge.train(pairs_dataset, out=tmp_path / "b", steps=8, **opts)
    resumed = artforge.train(resume=part.run_dir, steps=8)
    assert _l1(part.run_dir) == _l1(full.run_dir)
    wa = ckpt.load_checkpoint(full.checkpoint)["models"]
    wb = ckpt.load_checkpoint(resumed.checkpoint)["models"]
    assert all(torch.equal(wa[net][k], wb[net][k]) for net in ("G", "D", "G_ema") for k in wa[net])


def test_the_l1_term_pulls_outputs_to_the_targets(pairs_dataset, tmp_path):
    run = artforge.train(pairs_dataset, out=tmp_path, steps=40, lr_g=1e-3, **{**OPTS, "tick": 10})
    l1 = _l1(run.run_dir)
    assert l1[-1] < 0.6 * l1[0]


def test_the_wrong_kind_of_dataset_is_a_one_line_error(pairs_dataset, blob_dataset, tmp_path, capsys):
    with pytest.raises(UsageError, match="holds single images; --task pix2pix trains on pairs"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, **OPTS)
    with pytest.raises(UsageError, match="holds pairs .* generation trains on single images"):
        artforge.train(pairs_dataset, out=tmp_path, steps=1, progress=False, device="cpu")
    assert main(["train", str(blob_dataset), "--task", "pix2pix", "--steps", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "artforge prepare pairs" in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # no run folder left behind


def test_pix2pix_from_the_command_line_and_what_sample_says_of_it(pairs_dataset, tmp_path, capsys):
    args = ["train", str(pairs_dataset), "--task", "pix2pix", "--steps", "2", "--batch", "4", "--width", "8",
            "--out", str(tmp_path), "--quiet", "--no-tensorboard"]
    assert main(args) == 0
    out = capsys.readouterr().out
    run = next(tmp_path.iterdir())
    assert f"next: artforge translate {run} IMAGES... --out DIR" in out and "artforge sample" not in out
    assert main(["sample", str(run), "--n", "2"]) != 0
    assert "is a pix2pix run: it translates images" in capsys.readouterr().err

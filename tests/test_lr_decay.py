"""--lr-decay: learning rates fall linearly to 0 (or to --lr-floor-g / --lr-floor-d) over the last share
of a run, and resume exactly."""

import json

import pytest
import torch

import artforge
from artforge.runs import checkpoint as ckpt
from artforge.training.engine import Engine, decay_factor
from artforge.runs.monitor import read_log
from conftest import TINY


def test_the_decay_factor_is_one_until_the_share_then_falls_linearly_to_zero():
    assert decay_factor(0.3, 0.0) == 1.0  # off
    assert decay_factor(0.0, 0.5) == 1.0 and decay_factor(0.5, 0.5) == 1.0
    assert decay_factor(0.75, 0.5) == pytest.approx(0.5)
    assert decay_factor(0.9, 0.2) == pytest.approx(0.5)
    assert decay_factor(1.0, 0.5) == 0.0 and decay_factor(1.2, 0.5) == 0.0


def test_with_a_floor_the_factor_falls_from_one_to_the_floor():
    assert decay_factor(0.5, 0.5, 0.2) == 1.0
    assert decay_factor(0.75, 0.5, 0.2) == pytest.approx(0.6)
    assert decay_factor(1.0, 0.5, 0.2) == pytest.approx(0.2) and decay_factor(1.2, 0.5, 0.2) == pytest.approx(0.2)
    assert decay_factor(0.9, 0.5, 1.0) == 1.0  # a floor of 1: that network's rate stays as set


def _factors(run_dir):
    rows, _ = read_log(run_dir / "log.jsonl")
    return [r["Schedule/lr_factor"] for r in rows if "Schedule/lr_factor" in r]


def test_a_run_decays_its_rates_over_the_last_share_and_resumes_on_schedule(blob_dataset, tmp_path, monkeypatch):
    opts = {**TINY, "tick": 1, "checkpoint_every": 100, "lr_decay": 0.5, "lr_g": 4e-4}
    full = artforge.train(blob_dataset, out=tmp_path / "a", steps=8, **opts)
    # before step s (0-based) 8 steps in: progress s/8, so 1 until s = 4, then 0.75, 0.5, 0.25
    assert _factors(full.run_dir) == pytest.approx([1, 1, 1, 1, 1, 0.75, 0.5, 0.25])
    state = json.loads((full.checkpoint / ckpt.STATE_FILE).read_text())
    assert state["optimizers"]["G"]["param_groups"][0]["lr"] == pytest.approx(4e-4 * 0.25)

    with monkeypatch.context() as m:  # stopped at step 5 of an 8-step run, as Ctrl-C would stop it
        m.setattr(Engine, "_done", lambda self, started: self.step >= 5)
        part = artforge.train(blob_dataset, out=tmp_path / "b", steps=8, **opts)
    assert part.step == 5
    resumed = artforge.train(resume=part.run_dir, steps=8)
    assert _factors(part.run_dir) == _factors(full.run_dir)
    wa = ckpt.load_checkpoint(full.checkpoint)["models"]["G_ema"]
    wb = ckpt.load_checkpoint(resumed.checkpoint)["models"]["G_ema"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_each_network_falls_to_its_own_floor(blob_dataset, tmp_path):
    opts = {**TINY, "tick": 1, "lr_decay": 0.5, "lr_g": 4e-4, "lr_d": 3e-4, "r1_gamma": 0.0, "lr_floor_g": 0.5,
            "lr_floor_d": 1.0}
    run = artforge.train(blob_dataset, out=tmp_path, steps=8, **opts)
    groups = json.loads((run.checkpoint / ckpt.STATE_FILE).read_text())["optimizers"]
    # the last step ran at progress 7/8: the shared factor is 0.25, G's 0.5 + 0.5 * 0.25
    assert groups["G"]["param_groups"][0]["lr"] == pytest.approx(4e-4 * 0.625)
    assert groups["D"]["param_groups"][0]["lr"] == pytest.approx(3e-4)
    assert _factors(run.run_dir)[-1] == pytest.approx(0.25)


def test_without_the_option_rates_stay_as_set(blob_dataset, tmp_path):
    run = artforge.train(blob_dataset, out=tmp_path, steps=3, **{**TINY, "lr_g": 4e-4})
    assert _factors(run.run_dir) == []
    state = json.loads((run.checkpoint / ckpt.STATE_FILE).read_text())
    assert state["optimizers"]["G"]["param_groups"][0]["lr"] == pytest.approx(4e-4)


def test_a_share_outside_0_to_1_is_refused_naming_the_option(blob_dataset, tmp_path):
    from artforge.errors import UsageError
    with pytest.raises(UsageError, match="--lr-decay"):
        artforge.train(blob_dataset, out=tmp_path, steps=2, **{**TINY, "lr_decay": 1.5})
    with pytest.raises(UsageError, match="--lr-floor-g"):
        artforge.train(blob_dataset, out=tmp_path, steps=2, **{**TINY, "lr_decay": 0.5, "lr_floor_g": -0.1})

"""The 2-D mode-collapse benchmark: mixtures, the VEEGAN/PacGAN metrics, a short real run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from artforge.bench.toy import MIXTURES, per_seed_table, score, summarize, table, train_toy
from artforge.tasks.toy import sample_mixture
from artforge.cli import main

from conftest import gen


def test_mixtures_match_the_protocol():
    ring, grid = MIXTURES["ring"], MIXTURES["grid"]
    assert len(ring.centers) == 8 and ring.std == 0.02
    assert all(math.isclose(math.hypot(*c), 2.0) for c in ring.centers)
    assert len(grid.centers) == 25 and grid.std == 0.05
    assert sorted({c[0] for c in grid.centers}) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    x = sample_mixture(grid, 20000, gen(0))
    assert x.shape == (20000, 2)
    nearest = torch.cdist(x, torch.tensor(grid.centers)).min(1).values
    assert (nearest < 3 * grid.std).float().mean().item() > 0.98  # the data itself is ~99% "high quality"


def test_score_of_perfect_collapsed_and_bad_samples():
    ring = MIXTURES["ring"]
    perfect = np.repeat(np.asarray(ring.centers), 10, axis=0)
    assert score(perfect, ring) == {"modes": 8, "high_quality": 100.0, "kl": pytest.approx(0.0, abs=1e-12),
                                    "total_modes": 8}
    collapsed = np.tile(np.asarray(ring.centers[:1]), (50, 1))
    s = score(collapsed, ring)
    assert s["modes"] == 1 and s["kl"] == pytest.approx(math.log(8))  # all mass on 1 of 8 modes
    far = np.zeros((10, 2))  # the ring's centre: 2 away from every mode
    assert score(far, ring)["high_quality"] == 0.0 and score(far, ring)["modes"] == 0
    mixed = np.concatenate([perfect, far])  # 80 perfect, 10 far
    assert score(mixed, ring)["high_quality"] == pytest.approx(80 / 90 * 100)


def test_a_short_run_captures_the_modes_and_self_conditioning_is_why():
    # the benchmark's own networks, a seventh of its steps
    result = train_toy("grid", "stable", seed=0, steps=3000)
    assert result.samples.shape == (2500, 2)
    assert result.metrics["modes"] == 25 and result.metrics["high_quality"] > 95
    plain = train_toy("grid", "stable", seed=0, steps=3000, self_cond=0)  # the same recipe, unconditional
    assert plain.metrics["high_quality"] < result.metrics["high_quality"] - 10


def test_summary_table_and_cli(tmp_path, capsys):
    code = main(["bench", "toy", "--dataset", "ring", "--recipe", "dcgan", "--seeds", "2", "--steps", "200",
                 "--width", "32", "--jobs", "1", "--out", str(tmp_path / "out"), "--save-samples", str(tmp_path / "npy"),
                 "--filter", "jacobian,d", "--filter-drop", "0.1", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    for method in ("dcgan", "dcgan, Jacobian filter 10%", "dcgan, D filter 10%"):
        assert f"| artforge --recipe {method} | 2 |" in out
    assert "PacGAN4" in out and "VEEGAN" in out
    assert "High-quality % by seed" in out and "| ring | dcgan, Jacobian filter 10% |" in out
    data = json.loads((tmp_path / "out" / "toy-bench.json").read_text())
    assert [(r["seed"], r["sampler"]) for r in data["runs"]] == [(s, f) for s in (0, 1) for f in ("", "jacobian", "d")]
    assert [row["runs"] for row in data["summary"]] == [2, 2, 2]
    assert data["protocol"]["filters"] == ["jacobian", "d"] and data["protocol"]["filter_drop"] == 0.1
    assert data["protocol"]["self_cond"] == {"dcgan": 0}
    assert data["protocol"]["model"]["hidden"] == 32 and data["protocol"]["model"]["g_layers"] == 4
    assert (tmp_path / "out" / "toy-bench.png").stat().st_size > 1000
    saved = np.load(tmp_path / "npy" / "ring-dcgan-seed1.npy")
    for tag in ("dfilter", "jacobianfilter"):
        filtered = np.load(tmp_path / "npy" / f"ring-dcgan-{tag}-seed1.npy")
        assert filtered.shape == (2500, 2) and not np.array_equal(saved, filtered)


def test_filter_options_are_validated(capsys):
    assert main(["bench", "toy", "--filter", "jacobian", "--filter-drop", "1"]) == 2
    assert main(["bench", "toy", "--filter", "best"]) == 2
    err = capsys.readouterr().err
    assert "--filter-drop must be a fraction in [0, 1), got 1.0" in err
    assert "--filter must be one of d, jacobian, got 'best'" in err and "Traceback" not in err


def test_summary_statistics():
    from artforge.bench.toy import ToyResult
    runs = [ToyResult("grid", "x", s, np.zeros((1, 2)), {"modes": m, "high_quality": hq, "kl": 0.1, "total_modes": 25},
                      1.0) for s, (m, hq) in enumerate([(25, 90.0), (23, 80.0), (24, 85.0)])]
    (row,) = summarize(runs)
    assert row["modes"] == 24 and row["modes_se"] == pytest.approx(1 / math.sqrt(3))
    assert row["high_quality"] == 85 and row["min_high_quality"] == 80 and not row["all_modes_every_run"]
    assert "| grid | artforge --recipe x | 3 | 24.0 +- 0.6 / 25 |" in table([row])
    assert "| 0.100 +- 0.000 |" in table([row])
    runs[1].metrics["kl"] = math.inf  # no high-quality sample in one run
    assert "| inf (a run has no high-quality sample) | 80.0 |" in table(summarize(runs))


def test_per_seed_table_marks_every_run_that_misses_the_target():
    from artforge.bench.toy import ToyResult
    runs = [ToyResult("ring", "stable", s, np.zeros((1, 2)), {"modes": m, "high_quality": hq, "kl": 0.0,
                                                               "total_modes": 8}, 1.0)
            for s, (m, hq) in enumerate([(8, 97.0), (8, 96.96), (7, 99.0), (8, 98.2)])]
    md = per_seed_table(runs)
    assert "| ring | stable | 97.00 | **96.96** | **99.00 (7/8 modes)** | 98.20 | 2 of 4 |" in md
    assert summarize(runs)[0]["runs_meeting_target"] == 2
    runs[1].metrics["high_quality"] = 97.5
    assert "| 3 of 4 |" in per_seed_table(runs)


def test_full_is_the_published_protocol():
    import inspect

    from artforge.bench.toy import ToyConfig
    from artforge.options import ToyBenchConfig
    cli, steps = ToyBenchConfig(full=True), inspect.signature(train_toy).parameters["steps"].default
    assert (cli.width, cli.steps, cli.seeds, cli.datasets()) == (ToyConfig().hidden, steps, 10, ["ring", "grid"])
    assert main(["bench", "toy", "--full", "--seeds", "0"]) == 2  # --full parses, and is validated like the rest


def test_the_default_is_a_quick_look_and_given_options_win():
    from artforge.options import ToyBenchConfig
    quick, full = ToyBenchConfig(), ToyBenchConfig(full=True)
    assert (quick.datasets(), quick.seeds, quick.steps) == (["grid"], 2, 3_000)
    runs = len(quick.datasets()) * quick.seeds * quick.steps
    assert runs * 40 <= len(full.datasets()) * full.seeds * full.steps  # a 40th of the training steps
    mixed = ToyBenchConfig(full=True, seeds=3, dataset="ring")
    assert (mixed.datasets(), mixed.seeds, mixed.steps) == (["ring"], 3, 20_000)
    assert ToyBenchConfig(steps=100).seeds == 2


def test_r1_gamma_override_reaches_training_and_the_labels(tmp_path, capsys):
    quick = dict(steps=64, batch=64, width=16)
    own = train_toy("ring", "stable", 0, **quick).samples
    assert np.array_equal(train_toy("ring", "stable", 0, r1_gamma=0.1, **quick).samples, own)  # the recipe's own
    without = train_toy("ring", "stable", 0, r1_gamma=0.0, **quick).samples
    assert not np.array_equal(without, own)
    code = main(["bench", "toy", "--dataset", "ring", "--recipe", "stable", "--seeds", "1", "--steps", "64",
                 "--batch", "64", "--width", "16", "--jobs", "1", "--out", str(tmp_path / "out"),
                 "--save-samples", str(tmp_path / "npy"), "--r1-gamma", "0", "--quiet"])
    assert code == 0
    assert "| ring | artforge --recipe stable --r1-gamma 0 | 1 |" in capsys.readouterr().out
    data = json.loads((tmp_path / "out" / "toy-bench.json").read_text())
    assert data["protocol"]["overrides"] == {"r1_gamma": 0.0} and data["protocol"]["self_cond"] == {"stable": 50}
    assert np.array_equal(np.load(tmp_path / "npy" / "ring-stable-r1-gamma0-seed0.npy"), without.astype(np.float32))


def test_r1_gamma_override_is_validated(capsys):
    assert main(["bench", "toy", "--r1-gamma", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--r1-gamma must be a number >= 0, got -1.0" in err and "Traceback" not in err


def test_self_cond_override_turns_self_conditioning_off_for_the_study(tmp_path, capsys):
    quick = dict(steps=64, batch=64, width=16)
    plain = train_toy("grid", "stable", 0, self_cond=0, **quick).samples
    assert not np.array_equal(plain, train_toy("grid", "stable", 0, **quick).samples)
    code = main(["bench", "toy", "--dataset", "grid", "--recipe", "stable", "--seeds", "1", "--steps", "64",
                 "--batch", "64", "--width", "16", "--jobs", "1", "--out", str(tmp_path / "out"),
                 "--save-samples", str(tmp_path / "npy"), "--self-cond", "0", "--r1-gamma", "0.1", "--quiet"])
    assert code == 0
    assert "| grid | artforge --recipe stable --r1-gamma 0.1 --self-cond 0 | 1 |" in capsys.readouterr().out
    data = json.loads((tmp_path / "out" / "toy-bench.json").read_text())
    assert data["protocol"]["overrides"] == {"r1_gamma": 0.1, "self_cond": 0}
    assert data["protocol"]["self_cond"] == {"stable": 0}  # the clusters the runs used
    saved = np.load(tmp_path / "npy" / "grid-stable-r1-gamma0.1-self-cond0-seed0.npy")
    assert np.array_equal(saved, plain.astype(np.float32))
    assert main(["bench", "toy", "--self-cond", "1"]) == 2
    err = capsys.readouterr().err
    assert "--self-cond 1 makes a single cluster" in err and "Traceback" not in err

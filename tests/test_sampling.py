"""Sampling: seeds are reproducible, independent of batch; truncation; labels; the report."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import artforge
from artforge import watermark
from artforge.options import SampleConfig
from artforge.errors import UsageError
from artforge.sampling import sample_to_folder, weighted_label
from artforge.utils.images import to_uint8

from conftest import TINY


def test_same_seed_gives_the_same_image_whatever_the_batch(trained_run):
    model = artforge.load(trained_run, device="cpu")
    a = model.sample(n=6, seed=10)
    b = model.sample(seeds=[12, 99, 10])
    assert a.shape == (6, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a[2], b[0])
    np.testing.assert_array_equal(a[0], b[2])
    assert not np.array_equal(a[0], a[1])
    many = model.sample(seeds=list(range(50)))  # across a pass boundary (RENDER_BATCH): still seed by seed
    np.testing.assert_array_equal(many[12], a[2])
    np.testing.assert_array_equal(many[40], model.sample(seeds=[40])[0])


def test_a_style_image_renders_the_same_alone_and_among_others(style_run):
    model = artforge.load(style_run, device="cpu")
    ws = model.styles(list(range(40)), truncation=0.7)
    together = model.render(ws)
    for i in (0, 17, 39):
        np.testing.assert_array_equal(model.render(ws[i:i + 1])[0], together[i])
    np.testing.assert_array_equal(model.sample(seeds=[17], truncation=0.7)[0], together[17])


def test_truncation_zero_collapses_to_the_mean_latent(trained_run):
    model = artforge.load(trained_run, device="cpu")
    images = model.sample(n=4, seed=0, truncation=0.0)
    assert all(np.array_equal(images[0], im) for im in images[1:])
    assert not np.array_equal(model.sample(n=1, seed=0, truncation=0.5), model.sample(n=1, seed=0))


def test_sample_command_writes_pngs_named_by_seed_and_a_grid(trained_run, tmp_path):
    result = sample_to_folder(SampleConfig(run=str(trained_run), seeds="3,7-8", out=str(tmp_path)))
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["grid.png", "seed0003.png", "seed0007.png",
                                                               "seed0008.png"]  # each with its record (.json)
    model = artforge.load(trained_run, device="cpu")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "seed0007.png")),
                                  watermark.embed(model.sample(seeds=[7])[0]))  # marked as generated
    assert Image.open(result["grid"]).size[0] > 32 * 2


def test_conditional_model_samples_the_requested_class(labeled_dataset, tmp_path):
    # Without the output bias: it starts G at the (near-white) mean image, where two steps' worth of class
    # difference stays below one uint8 level; the label plumbing is what this test is about.
    result = artforge.train(labeled_dataset, out=tmp_path, steps=2, output_bias=False, **TINY)
    model = result.load(device="cpu")
    assert model.num_classes == 2 and model.label_names == ["blue", "red"]
    blue = model.sample(seeds=[1], label="blue")
    red = model.sample(seeds=[1], label=1)
    assert not np.array_equal(blue, red)
    np.testing.assert_array_equal(model.sample(seeds=[1]), red)  # default: class = seed % classes
    with pytest.raises(UsageError, match="--label 'green'"):
        model.sample(seeds=[1], label="green")
    norms = model.jacobian_norms([1, 2], label="blue")  # the filter's norms follow the class asked for
    assert norms.shape == (2,) and not np.allclose(norms, model.jacobian_norms([1, 2], label="red"))


def test_label_on_an_unconditional_model_is_an_error(trained_run):
    with pytest.raises(UsageError, match="not conditional"):
        artforge.load(trained_run, device="cpu").sample(n=1, label=0)


def test_self_conditioned_model_samples_its_clusters_by_name(many_blobs, blob_dataset, tmp_path):
    run = artforge.train(many_blobs, out=tmp_path, steps=2, output_bias=False, **TINY).run_dir  # as above
    model = artforge.load(run, device="cpu")  # 160 unlabeled images, 128 for training: 4 clusters
    assert model.num_classes == 4 and model.label_names == [f"cluster-{i:02d}" for i in range(4)]
    a, b = model.sample(seeds=[3], label="cluster-01"), model.sample(seeds=[3], label=2)
    assert not np.array_equal(a, b)
    assert len(model.label_weights) == 4 and sum(model.label_weights) == pytest.approx(1.0)
    label = int(model.labels([3], None)[0])
    np.testing.assert_array_equal(model.sample(seeds=[3]), model.sample(seeds=[3], label=label))
    off = artforge.train(many_blobs, out=tmp_path, steps=1, self_cond=0, **TINY).run_dir
    few = artforge.train(blob_dataset, out=tmp_path, steps=1, **TINY).run_dir  # 36 images: too few to cluster
    assert artforge.load(off, device="cpu").num_classes == 0 == artforge.load(few, device="cpu").num_classes


def test_weighted_labels_follow_the_weights_over_consecutive_seeds():
    weights = [0.5, 0.1, 0.4]
    drawn = np.bincount([weighted_label(s, weights) for s in range(1000)], minlength=3) / 1000
    assert np.allclose(drawn, weights, atol=0.005)  # a low-discrepancy sequence: close even over few seeds
    assert np.allclose(np.bincount([weighted_label(s, weights) for s in range(100, 150)], minlength=3) / 50,
                       weights, atol=0.04)


def test_report_is_self_contained_html(trained_run, tmp_path):
    path = artforge.report(trained_run, out=tmp_path / "r.html")
    text = path.read_text()
    assert text.startswith("<!doctype html>") and "data:image/png;base64," in text
    assert text.count("data:image/png;base64,") >= 4 and "<h2>Curves</h2>" in text  # grids and matplotlib charts
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing to fetch


def test_jacobian_norms_of_a_seed_do_not_depend_on_the_batch(trained_run):
    model = artforge.load(trained_run, device="cpu")
    a = model.jacobian_norms([3, 5, 9])
    b = model.jacobian_norms([9, 3], batch=1)
    assert a.shape == (3,)
    # an estimate from 8 probes: within 30% of the exact Frobenius norm of dG/dz, by autograd
    exact = []
    for seed in (3, 5, 9):
        jacobian = torch.autograd.functional.jacobian(model.G, model.latents([seed]))
        exact.append(float(jacobian.flatten().norm()))
    np.testing.assert_allclose(a, exact, rtol=0.3)
    np.testing.assert_allclose(b, a[[2, 0]], rtol=1e-5)


def test_jacobian_filter_leaves_out_the_seeds_with_the_largest_norms(trained_run, tmp_path):
    result = sample_to_folder(SampleConfig(run=str(trained_run), n=8, seed=0, filter="jacobian", filter_drop=0.25,
                                           out=str(tmp_path)))
    norms = artforge.load(trained_run, device="cpu").jacobian_norms(list(range(8)))
    worst = sorted(np.argsort(-norms)[:2].tolist())
    assert sorted(result["dropped"]) == worst
    assert sorted(p.name for p in tmp_path.glob("seed*.png")) == [f"seed{s:04d}.png" for s in range(8) if s not in worst]


@pytest.mark.parametrize("options, message", [({"filter": "best"}, "--filter must be one of jacobian, got 'best'"),
                                              ({"filter": "jacobian,d"}, "--filter d is for artforge bench only"),
                                              ({"filter_drop": 1.5}, "--filter-drop must be a fraction in [0, 1)")])
def test_filter_options_are_validated(trained_run, options, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        SampleConfig(run=str(trained_run), **options)


def test_sample_command_says_which_seeds_the_filter_left_out(trained_run, tmp_path, capsys):
    from artforge.cli import main
    assert main(["sample", str(trained_run), "--n", "10", "--filter", "jacobian", "--filter-drop", "0.2",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    left_out = [int(s) for s in out.split("left out 2 seeds where G's Jacobian is largest: ")[1].split(",")]
    assert len(left_out) == 2 and len(list(tmp_path.glob("seed*.png"))) == 8
    assert not any((tmp_path / f"seed{s:04d}.png").exists() for s in left_out)
    assert main(["sample", str(trained_run), "--filter-drop", "1"]) == 2


# ----------------------------------------------------------------------------- truncation toward the mean latent

def test_truncation_moves_latents_toward_the_models_mean_latent(trained_run, monkeypatch):
    model = artforge.load(trained_run, device="cpu")
    z = model.latents([1, 2])
    assert torch.equal(model.mean_latent(), torch.zeros(model.model_config.z_dim))  # N(0, I): z's numbers unchanged
    assert torch.equal(model.truncate(z, 1.0), z) and torch.equal(model.truncate(z, 0.7), 0.7 * z)

    mean = torch.linspace(-1, 1, model.model_config.z_dim)  # a family with another mean latent overrides mean_latent
    monkeypatch.setattr(type(model), "mean_latent", lambda self: mean)
    torch.testing.assert_close(model.truncate(z, 0.5), mean + 0.5 * (z - mean))
    with torch.no_grad():
        mean_image = to_uint8(model.G(mean[None])).numpy()[0]
    assert all(np.array_equal(im, mean_image) for im in model.sample(seeds=[1, 2], truncation=0.0))  # psi=0
    with torch.no_grad():
        drawn = to_uint8(model.G(z)).numpy()
    np.testing.assert_array_equal(model.sample(seeds=[1, 2], truncation=1.0), drawn)  # psi=1: as drawn


# ----------------------------------------------------------------------------- the output folder

def test_default_folder_is_named_by_checkpoint_and_first_seed(trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    result = sample_to_folder(SampleConfig(run=str(run), seeds="7,3", grid=False))
    assert result["out"] == run / "samples" / f"{result['checkpoint'].name}-seed0007"
    assert sorted(p.name for p in result["out"].iterdir()) == ["samples.json", "seed0003.json", "seed0003.png",
                                                               "seed0007.json", "seed0007.png"]


def test_a_later_call_replaces_only_the_images_the_earlier_one_wrote(trained_run, tmp_path, capsys):
    from artforge.cli import main

    out = tmp_path / "picks"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "seed9999.png").write_bytes(b"not written by artforge")  # already there: not ours to delete
    sample_to_folder(SampleConfig(run=str(trained_run), n=4, seed=0, out=str(out)))
    assert main(["sample", str(trained_run), "--seeds", "2,10", "--no-grid", "--out", str(out)]) == 0
    assert "removed 4 images an earlier call wrote there" in capsys.readouterr().out  # seeds 0, 1, 3 and the grid
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "samples.json", "seed0002.json", "seed0002.png",
                                                     "seed0010.json", "seed0010.png", "seed9999.png"]
    record = json.loads((out / "samples.json").read_text())
    assert record["seeds"] == [2, 10] and record["files"] == ["seed0002.png", "seed0002.json", "seed0010.png",
                                                              "seed0010.json"]

    record["files"] += ["notes.txt", "../outside.png", "seed9999.png/../notes.txt"]  # a record never deletes those
    (out / "samples.json").write_text(json.dumps(record))
    (tmp_path / "outside.png").write_bytes(b"x")
    sample_to_folder(SampleConfig(run=str(trained_run), seeds="2", out=str(out), grid=False))
    assert (out / "notes.txt").exists() and (tmp_path / "outside.png").exists()
    assert sorted(p.name for p in out.glob("seed*.png")) == ["seed0002.png", "seed9999.png"]


def test_psi_zero_gives_each_class_s_mean_style_image(labeled_style_run):
    """Truncation in w pulls toward the class's own mean w: psi = 0 draws that class's average image."""
    model = artforge.load(labeled_style_run, device="cpu")
    means = []
    for label in (0, 1):
        images = model.sample(seeds=[1, 2, 3], truncation=0.0, label=label)
        means.append(model.render(model.mean_style(label)[None])[0])
        assert all(np.array_equal(image, means[-1]) for image in images)
    assert not np.array_equal(means[0], means[1])
    assert not np.array_equal(model.sample(seeds=[1], label=0)[0], means[0])  # psi = 1: the seed's own image

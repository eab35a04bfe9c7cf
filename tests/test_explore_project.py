"""artforge explore project: the losses against direct maths, projection fitting, held-out PSNR, the CLI.

Also the pieces projection shares with palette and layout control (explore/steering.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.errors import UsageError
from artforge.explore import steering
from artforge.explore.project import (d_features, feature_distance, held_out_psnr, load_discriminator, pixel_loss,
                                      project, psnr, run_dataset, start_styles, variations)

from conftest import gen


@pytest.fixture(scope="module")
def model(style_run):
    import artforge
    return artforge.load(style_run, device="cpu")


@pytest.fixture(scope="module")
def D(model):
    return load_discriminator(model)


# ----------------------------------------------------------------------------- steering (shared)

def test_rgb_to_lab_matches_reference_values():
    rgb = torch.tensor([[1.0, 1, 1], [0, 0, 0], [1, 0, 0], [0, 0, 1]])
    expected = torch.tensor([[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [32.30, 79.19, -107.86]])
    assert torch.allclose(steering.rgb_to_lab(rgb), expected, atol=0.05)


def test_rgb_to_lab_has_finite_gradients_at_black_and_white():
    rgb = torch.tensor([[0.0, 0, 0], [1, 1, 1], [0.5, 0.2, 0.0]], requires_grad=True)
    steering.delta_e(steering.rgb_to_lab(rgb), torch.tensor([50.0, 10, 10])).sum().backward()
    assert torch.isfinite(rgb.grad).all()


def test_delta_e_is_euclidean_in_lab():
    a, b = torch.tensor([50.0, 10, -20]), torch.tensor([47.0, 14, -20])
    assert steering.delta_e(a, b, eps=0).item() == pytest.approx(5.0)


@pytest.mark.parametrize("text", ["#ff0000", "ff0000", "#f00", "red"])
def test_parse_colour(text):
    assert steering.parse_colour(text, "--colors").tolist() == [255, 0, 0]


def test_parse_colour_names_the_flag():
    with pytest.raises(UsageError, match="--blobs 'nope' is not a colour"):
        steering.parse_colour("nope", "--blobs")


def test_lr_schedule_warms_up_and_ramps_down():
    assert steering.lr_at(0.0, 0.1) == 0
    assert steering.lr_at(0.5, 0.1) == pytest.approx(0.1)
    assert steering.lr_at(0.9, 0.1) < steering.lr_at(0.8, 0.1) < 0.1
    assert steering.lr_at(1.0, 0.1) == pytest.approx(0)


def test_read_image_fits_to_the_shape_and_channels(tmp_path):
    Image.new("RGB", (50, 30), (10, 200, 30)).save(tmp_path / "wide.png")
    arr = steering.read_image(tmp_path / "wide.png", "IMAGE", 3, (32, 32))
    assert arr.shape == (32, 32, 3) and arr[16, 16].tolist() == [10, 200, 30]
    assert steering.read_image(tmp_path / "wide.png", "IMAGE", 1, (16, 24)).shape == (16, 24, 1)


def test_read_image_refuses_a_file_that_is_no_image(tmp_path):
    (tmp_path / "bad.png").write_text("not a picture")
    with pytest.raises(UsageError, match="IMAGE .*bad.png cannot be read as an image"):
        steering.read_image(tmp_path / "bad.png", "IMAGE", 3, (32, 32))


def test_steer_at_strength_zero_keeps_the_start(model, one_thread):
    ws0 = model.styles([3])
    ws, history = steering.steer(model.G, ws0, lambda x: x.square().mean((1, 2, 3)), strength=0, steps=5)
    assert torch.equal(ws, ws0) and history == []


def test_steer_in_w_moves_every_layer_alike(model, one_thread):
    ws, _ = steering.steer(model.G, model.styles([3]), lambda x: x.mean((1, 2, 3)), steps=3, lr=0.1, space="w")
    assert torch.allclose(ws[:, 1:], ws[:, :1].expand_as(ws[:, 1:]))


# ----------------------------------------------------------------------------- projection losses (pure)

def test_pixel_loss_is_full_plus_quarter_resolution_distance():
    a, b = torch.randn(2, 3, 16, 16, generator=gen(0)), torch.randn(2, 3, 16, 16, generator=gen(1))
    pool = lambda x: x.reshape(2, 3, 4, 4, 4, 4).mean((3, 5))  # noqa: E731 (4x4 cells)
    mse = ((a - b) ** 2).mean((1, 2, 3)) + ((pool(a) - pool(b)) ** 2).mean((1, 2, 3))
    l1 = (a - b).abs().mean((1, 2, 3)) + (pool(a) - pool(b)).abs().mean((1, 2, 3))
    assert torch.allclose(pixel_loss(a, b, "mse"), mse, atol=1e-6)
    assert torch.allclose(pixel_loss(a, b, "l1"), l1, atol=1e-6)
    assert torch.equal(pixel_loss(a, a), torch.zeros(2))


def test_feature_distance_is_relative_squared_distance():
    f, t = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[1.0, 0.0], [3.0, 4.0]])
    assert torch.allclose(feature_distance(f, t), torch.tensor([4.0 / 1.0, 25.0 / 25.0]))


def test_psnr_against_direct_formula():
    a = np.zeros((2, 4, 4, 3), np.uint8)
    b = a.copy()
    b[0] = 10  # MSE 100
    assert psnr(b, a)[0] == pytest.approx(10 * np.log10(255 ** 2 / 100))
    assert psnr(a, a)[1] == pytest.approx(100)  # identical images: finite


def test_d_features_of_an_image_do_not_depend_on_its_batch(model, D, one_thread):
    x = torch.randn(3, 3, 32, 32, generator=gen(2))
    assert torch.allclose(d_features(D, x)[:1], d_features(D, x[:1]), atol=1e-6)


# ----------------------------------------------------------------------------- projecting

def test_projection_lowers_its_loss_and_raises_psnr(model, D, blob_dataset, one_thread):
    result = held_out_psnr(model, str(blob_dataset), 1, steps=15, D=D)
    assert result.used_d and len(result.history) == 15
    assert result.history[-1] < result.history[0]
    assert result.psnr[0] > result.start_psnr[0]


def test_a_render_of_the_model_is_recovered_in_w_plus(model, D, one_thread):
    target = model.render(model.styles([7]))
    result = project(model, target, space="w+", steps=120, lr=0.1, D=D)
    # from the mean style to a close match: the squared error down at least 4x (6 dB). The lite default's
    # 10-step G, trained with mode seeking, draws this target 8.7 dB from its mean style and 120 steps reach
    # 16.0 dB (without the term: 14.0 -> 20.5 dB, a model whose images vary less)
    assert result.psnr[0] > 15 and result.psnr[0] > result.start_psnr[0] + 6
    assert np.array_equal(model.render(result.ws), result.images)  # the styles returned are the render's


def test_variations_move_toward_random_seeds(model):
    ws = start_styles(model, 1)
    assert torch.equal(variations(model, ws, 2, strength=0.0), ws.expand(2, -1, -1))
    moved = variations(model, ws, 2, strength=0.5, seed=4)
    assert moved.shape == (2, model.G.num_ws, model.model_config.w_dim) and not torch.equal(moved[0], moved[1])


def test_run_dataset_is_the_runs_own(model, blob_dataset):
    assert run_dataset(model) == str(blob_dataset.resolve())


def test_an_exported_model_is_projected_with_pixels_alone(style_run, tmp_path, one_thread):
    import artforge
    from artforge.options import ExportConfig
    from artforge.exporting import export_model

    out = export_model(ExportConfig(run=str(style_run), out=str(tmp_path / "export"))).out
    exported = artforge.load(out, device="cpu")
    assert load_discriminator(exported) is None
    result = project(exported, exported.render(exported.styles([1])), steps=3, D=None)
    assert not result.used_d


# ----------------------------------------------------------------------------- the command

def test_cli_project_writes_projection_styles_and_variations(style_run, tmp_path, capsys, one_thread):
    from artforge.cli import main
    from artforge import watermark
    from artforge.provenance import decode_array, read_record

    Image.new("RGB", (40, 40), (200, 30, 40)).save(tmp_path / "red.png")
    out = tmp_path / "out"
    assert main(["explore", "project", str(style_run), str(tmp_path / "red.png"), "--steps", "5", "--vary", "2",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "PSNR" in printed and "projected.json" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == ["projected.json", "projected.png", "target.png", "variation-01.json", "variation-01.png",
                     "variation-02.json", "variation-02.png"]
    import artforge
    model = artforge.load(style_run, device="cpu")
    record = json.loads((out / "projected.json").read_text())
    ws = torch.from_numpy(decode_array(record["ws"]))
    assert record["kind"] == "project" and ws.shape == (model.G.num_ws, model.model_config.w_dim)
    marked = watermark.embed(model.render(ws[None])[0])  # outputs carry the invisible watermark
    assert np.array_equal(marked, np.asarray(Image.open(out / "projected.png")))
    assert read_record(out / "variation-01.png")["kind"] == "project-variation"


def test_cli_project_held_out_reports_psnr(style_run, capsys, one_thread):
    from artforge.cli import main

    assert main(["explore", "project", str(style_run), "--held-out", "2", "--steps", "3", "--space", "w",
                 "--quiet"]) == 0
    assert "projected 2 held-out images" in capsys.readouterr().out


def test_cli_project_refuses_an_unreadable_image(style_run, tmp_path, capsys):
    from artforge.cli import main

    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    assert main(["explore", "project", str(style_run), str(tmp_path / "bad.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.png cannot be read as an image" in err and len(err.splitlines()) == 1


def test_cli_project_needs_a_style_model(trained_run, tmp_path, capsys):
    from artforge.cli import main

    Image.new("RGB", (32, 32)).save(tmp_path / "x.png")
    assert main(["explore", "project", str(trained_run), str(tmp_path / "x.png")]) != 0
    err = capsys.readouterr().err.strip()
    assert "needs a style-based model" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    ([], "no image given"),
    (["img.png", "--held-out", "2"], "IMAGE and --held-out both given"),
    (["missing.png"], "IMAGE missing.png is not a file"),
    (["--held-out", "2", "--space", "z"], "--space"),
    (["--held-out", "2", "--vary-strength", "2"], "--vary-strength"),
])
def test_project_config_errors(args, message, tmp_path, monkeypatch, capsys):
    from artforge.cli import main

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (8, 8)).save(tmp_path / "img.png")
    assert main(["explore", "project", "some-run", *args]) == 2
    assert message in capsys.readouterr().err


def test_projection_psnr_benchmark_prints_w_and_w_plus(style_run, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "projection_psnr.py"
    out = subprocess.run([sys.executable, str(script), str(style_run), "--n", "1", "--steps", "2", "--device", "cpu",
                          "--json", str(tmp_path / "psnr.json")], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    rows = json.loads((tmp_path / "psnr.json").read_text())["rows"]
    assert [r["space"] for r in rows] == ["w", "w+"] and [r["psnr_std_db"] for r in rows] == [0.0, 0.0]  # one image
    # the figures are those of the library's projection with the benchmark's settings, run here
    import artforge
    from artforge.explore.project import held_out_psnr, load_discriminator, run_dataset
    model = artforge.load(style_run, device="cpu")
    for row in rows:
        result = held_out_psnr(model, run_dataset(model), 1, space=row["space"], steps=2, lr=0.1, d_weight=0.1,
                               D=load_discriminator(model))
        assert row["psnr_db"] == pytest.approx(float(result.psnr[0]), rel=1e-4)
        assert row["mean_image_psnr_db"] == pytest.approx(float(result.start_psnr[0]), rel=1e-4)


def test_conditional_projection_starts_at_the_class_mean(labeled_style_run, style_run, one_thread):
    import artforge

    model = artforge.load(labeled_style_run, device="cpu")
    red = start_styles(model, 1, "red")
    assert torch.equal(red[0, 0], model.mean_style(model.label_index("red")))
    both = start_styles(model, 1)
    assert torch.allclose(both[0, 0], (model.mean_style(0) + model.mean_style(1)) / 2)
    result = project(model, model.render(model.styles([2], label="blue")), steps=3, label="blue")
    assert result.images.shape[0] == 1
    with pytest.raises(UsageError, match="not conditional"):
        start_styles(artforge.load(style_run, device="cpu"), 1, "red")

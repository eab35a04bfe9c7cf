"""explore mix and explore interpolate: the layers mixing takes, the path's endpoints, the files written."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

import artforge
from artforge import provenance, watermark
from artforge.cli import main
from artforge.options import InterpolateConfig, MixConfig, split_layer_spec
from artforge.options.explore import LAYER_GROUP_NAMES
from artforge.errors import UsageError
from artforge.explore import interpolate as ip
from artforge.explore.mixing import mix_cells, mix_grid, parse_layers
from artforge.models.style import LAYER_GROUPS, StyleConfig, mix_styles

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(style_run):
    return artforge.load(style_run, device="cpu")


def close_images(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to one level: the same styles rendered in batches of another size may round differently."""
    return np.abs(a.astype(int) - b.astype(int)).max() <= 1


# ----------------------------------------------------------------------------- layer specs

def test_layer_group_names_match_the_model_family():
    assert LAYER_GROUP_NAMES == LAYER_GROUPS


def test_layer_specs_resolve_against_the_model():
    cfg = StyleConfig(resolution=64)  # 4..64 px: 9 style vectors
    assert parse_layers("coarse", cfg) == cfg.layer_group("coarse")
    assert parse_layers("fine", cfg) == cfg.layer_group("fine") == [7, 8]
    assert parse_layers("0-2,5", cfg) == [0, 1, 2, 5]
    assert parse_layers("middle,coarse", cfg) == sorted(cfg.layer_group("middle") + cfg.layer_group("coarse"))
    assert parse_layers([4, 1], cfg) == [1, 4]
    assert split_layer_spec("coarse, 3-4") == ("coarse", (3, 4))


@pytest.mark.parametrize("spec", ["bogus", "3-1", "-1", "a-b", ","])
def test_malformed_layer_specs_are_one_line_errors(spec):
    with pytest.raises(UsageError, match="--layers"):
        MixConfig(run="x", layers=spec)


def test_layers_past_the_model_or_an_empty_group_are_errors():
    cfg = StyleConfig(resolution=32)  # no layer at 64 px or more: fine is empty
    with pytest.raises(UsageError, match="past the last layer.*layers 0-6") as info:
        parse_layers("0-7", cfg)
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="fine names no layer"):
        parse_layers("fine", cfg)


# ----------------------------------------------------------------------------- mixing

def test_cells_take_exactly_the_named_layers_from_the_columns():
    rows, cols = torch.randn(2, 5, 4), torch.randn(3, 5, 4)
    cells = mix_cells(rows, cols, [1, 3])
    assert cells.shape == (2, 3, 5, 4)
    for r in range(2):
        for c in range(3):
            manual = rows[r].clone()
            manual[[1, 3]] = cols[c, [1, 3]]
            assert torch.equal(cells[r, c], manual)
            assert torch.equal(cells[r, c], mix_styles(rows[r:r + 1], cols[c:c + 1], [1, 3])[0])


def test_mix_grid_headers_are_plain_samples_and_cells_their_mix(model):
    grid = mix_grid(model, rows=[0, 1], cols=[5, 6, 7], layers="coarse")
    layers = model.model_config.layer_group("coarse")
    assert grid.layers == layers and grid.images.shape[:2] == (3, 4)
    assert (grid.images[0, 0] == 255).all()  # the blank corner
    assert close_images(grid.images[1:, 0], model.sample(seeds=[0, 1]))
    assert close_images(grid.images[0, 1:], model.sample(seeds=[5, 6, 7]))
    row_ws, col_ws = model.styles([0, 1]), model.styles([5, 6, 7])
    assert torch.equal(grid.ws[1, 2], mix_styles(row_ws[1:2], col_ws[2:3], layers)[0])
    other = [i for i in range(model.G.num_ws) if i not in layers]
    assert torch.equal(grid.ws[1, 2, other], row_ws[1, other]) and torch.equal(grid.ws[1, 2, layers], col_ws[2, layers])
    assert close_images(grid.images[2, 3], model.render(grid.ws[1, 2][None])[0])
    assert grid.picture().size[0] == 4 * (32 + 2) + 2


def test_mixing_needs_a_style_model(trained_run):
    with pytest.raises(UsageError, match="needs a style-based model"):
        mix_grid(artforge.load(trained_run, device="cpu"), [0], [1])


# ----------------------------------------------------------------------------- the math

def test_lerp_and_slerp_match_their_formulas():
    a, b = torch.randn(6, generator=torch.Generator().manual_seed(0)), torch.randn(6)
    for t in (0.0, 0.3, 0.5, 0.9, 1.0):
        assert torch.allclose(ip.lerp(a, b, t), a + t * (b - a), atol=1e-6)
        omega = math.acos(float(torch.dot(a, b) / (a.norm() * b.norm())))
        direct = (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)
        assert torch.allclose(ip.slerp(a, b, t), direct, atol=1e-5)
    assert torch.equal(ip.slerp(a, b, 0.0), a) and torch.equal(ip.slerp(a, b, 1.0), b)
    assert torch.equal(ip.lerp(a, b, 0.0), a) and torch.equal(ip.lerp(a, b, 1.0), b)


def test_slerp_of_nearly_parallel_vectors_is_finite_and_on_the_line():
    a = torch.randn(8)
    b = a * (1 + 1e-9)
    mid = ip.slerp(a, b, 0.5)
    assert torch.isfinite(mid).all() and torch.allclose(mid, a, atol=1e-5)
    assert torch.equal(ip.slerp(a, b, 1.0), b)


def test_slerp_keeps_the_norm_between_unit_vectors():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    t = torch.linspace(0, 1, 5)
    out = ip.slerp(a.expand(5, 2), b.expand(5, 2), t)
    assert torch.allclose(out.norm(dim=1), torch.ones(5), atol=1e-6)
    assert torch.allclose(out[2], torch.tensor([1.0, 1.0]) / math.sqrt(2))


@pytest.mark.parametrize("name", list(ip.EASINGS))
def test_easings_fix_the_endpoints(name):
    f = ip.EASINGS[name]
    t = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=torch.float64)
    out = f(t)
    assert out[0] == 0 and out[-1] == 1 and abs(out[2] - 0.5) < 1e-12
    assert (out.diff() > 0).all()  # can fail: an easing that turns back is not monotone


def test_path_frames_and_loop():
    keys = torch.randn(3, 4)
    p = ip.path(keys, 5)
    assert len(p.latents) == 11 and torch.equal(p.latents[0], keys[0])
    assert torch.equal(p.latents[5], keys[1]) and torch.equal(p.latents[-1], keys[2])
    looped = ip.path(keys, 5, loop=True, ease="smooth")
    assert len(looped.latents) == 15 and torch.equal(looped.latents[10], keys[2])
    assert looped.segment[-1] == 2 and looped.t[-1] < 1  # heads back to keys[0], short of repeating it
    expected = torch.lerp(keys[2], keys[0], torch.tensor(ip.EASINGS["smooth"](torch.tensor(0.8)).item()))
    assert torch.allclose(looped.latents[-1], expected, atol=1e-6)


# ----------------------------------------------------------------------------- interpolation on a model

@pytest.mark.parametrize("space", ["w", "z"])
def test_interpolation_endpoints_are_the_seeds(model, space):
    interp = ip.interpolate(model, [3, 8], space=space, frames=4, truncation=0.7)
    ends = model.styles([3, 8], truncation=0.7)
    assert len(interp.ws) == 5
    assert torch.allclose(interp.ws[0], ends[0], atol=1e-5) and torch.allclose(interp.ws[-1], ends[1], atol=1e-5)
    images = model.render(interp.ws)
    assert close_images(images[0], model.render(ends[:1])[0]) and close_images(images[-1], model.render(ends[1:])[0])
    if space == "z":
        z = model.latents([3, 8])
        assert torch.equal(interp.z[0], z[0]) and torch.equal(interp.z[-1], z[1])
    else:
        assert torch.equal(interp.ws[0], ends[0]) and torch.equal(interp.ws[-1], ends[1])


def test_looped_interpolation_returns_to_the_start(model):
    interp = ip.interpolate(model, [3, 8], frames=4, loop=True)
    ends = model.styles([3, 8])
    assert len(interp.ws) == 8 and torch.equal(interp.ws[4], ends[1])
    step = interp.ws[-1] - interp.ws[-2]  # the return segment's step
    assert torch.allclose(interp.ws[-1] + step, ends[0], atol=1e-5)  # one more step would be the first frame


def test_saved_styles_are_the_endpoints(model, tmp_path):
    ws = model.styles([1, 2])
    np.save(tmp_path / "a.npy", ws[0, 0].numpy())  # a plain w
    record = provenance.describe(model, "project", ws=ws[1])  # as projection saves
    (tmp_path / "b.json").write_text(json.dumps(record))
    keys, names = ip.load_latents([tmp_path / "a.npy", tmp_path / "b.json"], model.G.num_ws, ws.shape[-1])
    assert names == ["a.npy", "b.json"] and torch.equal(keys[1], ws[1]) and torch.equal(keys[0], ws[0])
    interp = ip.interpolate(model, ws=keys, frames=3, names=names)
    assert torch.equal(interp.ws[0], ws[0]) and torch.equal(interp.ws[-1], ws[1])
    np.save(tmp_path / "bad.npy", np.zeros((2, 3), np.float32))
    with pytest.raises(UsageError, match="not styles of this model"):
        ip.load_latents([tmp_path / "bad.npy"], model.G.num_ws, ws.shape[-1])


def test_z_space_with_seeds_of_two_classes_is_refused(labeled_style_run):
    model = artforge.load(labeled_style_run, device="cpu")
    with pytest.raises(UsageError, match="one class"):
        ip.interpolate(model, [0, 1], space="z", frames=2)
    assert len(ip.interpolate(model, [0, 1], space="z", frames=2, label=1).ws) == 3


def test_interpolate_config_checks():
    with pytest.raises(UsageError, match="both given"):
        InterpolateConfig(run="x", seeds="0,1", latents=("a.json",))
    with pytest.raises(UsageError, match="one seed"):
        InterpolateConfig(run="x", seeds="4")
    with pytest.raises(UsageError, match="--space z"):
        InterpolateConfig(run="x", latents=("a.json",), space="z")
    with pytest.raises(UsageError, match="--format"):
        InterpolateConfig(run="x", format="gif,avi")
    assert InterpolateConfig(run="x", format="none").format == ()


# ----------------------------------------------------------------------------- files and the CLI

def test_video_frames_are_even_and_large_enough():
    out = ip.video_frame(np.zeros((33, 20, 1), np.uint8))
    assert out.shape[2] == 3 and out.shape[0] % 2 == 0 and out.shape[1] % 2 == 0 and min(out.shape[:2]) >= 256


def test_cli_mix_writes_grid_and_cells_with_provenance(style_run, tmp_path, capsys):
    out = tmp_path / "mix"
    assert main(["explore", "mix", str(style_run), "--rows", "0,1", "--cols", "2-4", "--layers", "0-1",
                 "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    assert "grid" in capsys.readouterr().out
    with Image.open(out / "grid.png") as im:
        assert im.size == (4 * 34 + 2, 3 * 34 + 2)
    assert provenance.read_record(out / "grid.png")["kind"] == "mix-grid"
    record = provenance.read_record(out / "row0001-col0003.png")
    assert record["kind"] == "mix" and record["settings"]["layer_indices"] == [0, 1]
    model = artforge.load(style_run, device="cpu")
    ws = torch.from_numpy(provenance.decode_array(record["ws"]))
    expected = mix_styles(model.styles([1]), model.styles([3]), [0, 1])[0]
    assert torch.allclose(ws, expected, atol=1e-5)  # mapped in batches of another size
    with Image.open(out / "row0001-col0003.png") as im:
        assert close_images(np.asarray(im.convert("RGB")), watermark.embed(model.render(ws[None])[0]))  # marked
    assert len(list(out.glob("row*-col*.png"))) == 6


def test_cli_interpolate_writes_frames_gif_and_mp4(style_run, tmp_path, capsys):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "interp"
    assert main(["explore", "interpolate", str(style_run), "--seeds", "0,1,2", "--frames", "3", "--loop",
                 "--fps", "10", "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    assert "9 frames" in capsys.readouterr().out
    frames = sorted((out / "frames").glob("frame*.png"))
    assert len(frames) == 9
    record = provenance.read_record(frames[3])
    assert record["kind"] == "interpolate" and record["settings"]["frame"] == 3
    assert record["settings"]["from"] == "seed 1" and record["settings"]["t"] == 0
    with Image.open(out / "interpolation.gif") as gif:
        assert gif.n_frames == 9
    reader = imageio_ffmpeg.read_frames(str(out / "interpolation.mp4"))
    meta = next(reader)
    assert tuple(meta["size"]) == (256, 256) and sum(1 for _ in reader) == 9
    # a second, shorter call into the same folder leaves no frame of the first behind
    assert main(["explore", "interpolate", str(style_run), "--seeds", "0,1", "--frames", "2", "--format", "none",
                 "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    assert len(list((out / "frames").glob("frame*.png"))) == 3
    # saved styles back in: a frame's sidecar JSON is a keyframe, rendered as saved
    first, last = out / "frames" / "frame00000.json", out / "frames" / "frame00002.json"
    again = tmp_path / "again"
    assert main(["explore", "interpolate", str(style_run), "--latents", f"{first},{last}", "--frames", "2",
                 "--format", "gif", "--out", str(again), "--device", "cpu", "--quiet"]) == 0
    saved = provenance.decode_array(provenance.read_record(first)["ws"])
    assert np.array_equal(provenance.decode_array(provenance.read_record(again / "frames/frame00000.png")["ws"]), saved)
    assert "frame00000.json" in capsys.readouterr().out


def test_cli_explore_on_a_dcgan_run_is_one_line(trained_run, capsys):
    for action in (["mix"], ["interpolate", "--format", "gif"]):
        code = main(["explore", *action, str(trained_run), "--device", "cpu", "--quiet"])
        err = capsys.readouterr().err
        assert code != 0 and "needs a style-based model" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err

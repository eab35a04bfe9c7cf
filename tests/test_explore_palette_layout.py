"""artforge explore palette and layout: palettes, losses against direct maths, strength, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.errors import UsageError
from artforge.explore import layout as L
from artforge.explore import palette as P
from artforge.explore.steering import delta_e, rgb_to_lab, uint8_to_lab


@pytest.fixture(scope="module")
def model(style_run):
    import artforge
    return artforge.load(style_run, device="cpu")


# ----------------------------------------------------------------------------- palettes

def test_palette_from_hex():
    assert P.palette_from_hex("#ff0000, 00ff00,blue").tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    assert P.palette_from_hex(["#fff"]).tolist() == [[255, 255, 255]]
    with pytest.raises(UsageError, match="--colors"):
        P.palette_from_hex(" , ")


def test_palette_from_image_finds_its_colours_most_common_first(tmp_path):
    arr = np.zeros((40, 40, 3), np.uint8)
    arr[:, :30] = (230, 57, 70)  # three quarters red
    arr[:, 30:] = (29, 53, 87)
    Image.fromarray(arr).save(tmp_path / "ref.png")
    palette = P.palette_from_image(tmp_path / "ref.png", k=5)  # more colours asked for than it has
    assert palette.tolist() == [[230, 57, 70], [29, 53, 87]]


def test_palette_from_image_is_seeded(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "noise.png")
    a, b = (P.palette_from_image(tmp_path / "noise.png", k=4) for _ in range(2))
    assert a.shape == (4, 3) and np.array_equal(a, b)


# ----------------------------------------------------------------------------- palette loss and metric (pure)

def test_palette_loss_with_one_colour_is_the_plain_distance():
    rgb = torch.tensor([[[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]])  # (1, 1, 2, 3): red, blue
    white = rgb_to_lab(torch.ones(1, 3))
    d = delta_e(rgb_to_lab(rgb), white[0])  # (1, 1, 2)
    # one palette colour: the soft minimum over it is the distance itself; coverage's soft-min over pixels
    coverage = -P.SOFTNESS * torch.logsumexp(-d.flatten() / P.SOFTNESS, 0)
    expected = (d.mean() + 0.25 * coverage) / 100
    assert torch.allclose(P.palette_loss(rgb, white, coverage=0.25), expected[None], atol=1e-5)


def test_soft_min_approaches_the_minimum():
    d = torch.tensor([[3.0, 40.0, 10.0]])
    assert P.soft_min(d, 1, softness=0.01).item() == pytest.approx(3.0, abs=1e-3)
    assert P.soft_min(d, 1).item() < 3.0  # a smooth minimum lies below the hard one


def test_palette_distance_against_direct_maths():
    palette = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    images = np.zeros((2, 2, 2, 3), np.uint8)
    images[0, :] = palette[0]  # every pixel a palette colour
    images[1, 0, :] = palette[1]
    images[1, 1, :] = (255, 255, 255)
    white_to_palette = min(math.dist(uint8_to_lab(np.array([255, 255, 255], np.uint8)).tolist(),
                                     uint8_to_lab(c).tolist()) for c in palette)
    distance = P.palette_distance(images, palette)
    assert distance[0] == pytest.approx(0, abs=1e-3)
    assert distance[1] == pytest.approx(white_to_palette / 2, rel=1e-4)


def test_palette_distance_drops_as_strength_rises(model, one_thread):
    palette = P.palette_from_hex("#1d3557,#e63946,#f1faee")
    ws0 = model.styles([0, 1])
    distances = []
    for strength in (0.0, 0.5, 1.0):  # 50 steps: at 20 the full-strength run can still be short of the half one
        ws, history = P.recolour(model, ws0, palette, strength=strength, steps=50)
        distances.append(P.palette_distance(model.render(ws), palette).mean())
    assert distances[0] == pytest.approx(P.palette_distance(model.render(ws0), palette).mean())
    assert distances[0] > distances[1] > distances[2]
    assert history[-1] < history[0]


# ----------------------------------------------------------------------------- layouts

def test_parse_blobs():
    blobs = L.parse_blobs("0.5,0.25,0.2,#ff0000; 0,1,0.1,blue;")
    assert blobs == [L.Blob(0.5, 0.25, 0.2, (255, 0, 0)), L.Blob(0.0, 1.0, 0.1, (0, 0, 255))]


@pytest.mark.parametrize("text", ["0.5,0.5,0.2", "2,0.5,0.2,#fff", "a,b,c,#fff", "0.5,0.5,0,#fff", ";",
                                  "0.5,0.5,.2,#zz"])
def test_parse_blobs_refuses(text):
    with pytest.raises(UsageError, match="--blobs"):
        L.parse_blobs(text)


def test_layout_from_blobs_covers_the_disc():
    layout = L.layout_from_blobs(L.parse_blobs("0.5,0.5,0.25,#e63946"), (16, 16))
    assert layout.weight[8, 8] == 1 and layout.weight[0, 0] == 0 and layout.colours[8, 8].tolist() == [230, 57, 70]
    area = layout.weight.sum() / 16 ** 2
    assert area == pytest.approx(math.pi * 0.25 ** 2, rel=0.05)  # soft edges: coverage tracks the disc's area


def test_later_blobs_paint_over_earlier_ones():
    layout = L.layout_from_blobs(L.parse_blobs("0.5,0.5,0.4,#ff0000;0.5,0.5,0.1,#0000ff"), (16, 16))
    assert layout.colours[8, 8].tolist() == [0, 0, 255] and layout.colours[8, 3].tolist() == [255, 0, 0]


def test_grid_shape_keeps_the_aspect():
    assert L.grid_shape((32, 32)) == (16, 16)
    assert L.grid_shape((48, 64)) == (16, 21)
    assert L.grid_shape((8, 8)) == (8, 8)  # never finer than the image


def test_layout_from_mask(tmp_path):
    arr = np.zeros((32, 32), np.uint8)
    arr[:, 16:] = 255
    Image.fromarray(arr).save(tmp_path / "mask.png")
    free = L.layout_from_mask(str(tmp_path / "mask.png"), (16, 16), "#ff0000")
    assert free.weight[:, :8].max() == 0 and free.weight[:, 8:].min() == 1
    assert free.colours[0, 12].tolist() == [255, 0, 0]
    both = L.layout_from_mask(str(tmp_path / "mask.png"), (16, 16), "#ff0000", background="#0000ff")
    assert both.weight.min() == 1 and both.colours[0, 0].tolist() == [0, 0, 255]


def test_layout_loss_against_direct_maths():
    rgb = torch.tensor([[[[1.0, 0, 0], [0, 0, 1]]]])  # (1, 1, 2, 3)
    target = rgb_to_lab(torch.tensor([[[1.0, 0, 0], [1, 0, 0]]]))  # (1, 2, 3): red wanted at both cells
    weight = torch.tensor([[1.0, 0.5]])
    red_blue = delta_e(target[0, 0], rgb_to_lab(torch.tensor([0.0, 0, 1])))
    expected = (0 * 1 + red_blue * 0.5) / 1.5 / 100
    assert L.layout_loss(rgb, target, weight).item() == pytest.approx(expected.item(), abs=1e-5)


def test_layout_distance_is_zero_on_the_layout_itself():
    layout = L.layout_from_blobs(L.parse_blobs("0.5,0.5,0.3,#e63946"), (16, 16))
    picture = np.repeat(np.repeat(layout.colours, 2, 0), 2, 1)[None]
    assert L.layout_distance(picture, layout)[0] < 3  # only the soft edge's mixed cells differ


def test_layout_loss_drops(model, one_thread):
    layout = L.layout_from_blobs(L.parse_blobs("0.5,0.5,0.3,#e63946"), L.grid_shape((32, 32)))
    ws0 = model.styles([0])
    ws, history = L.steer_layout(model, ws0, layout, strength=0.7, steps=20)
    assert history[-1] < history[0]
    assert L.layout_distance(model.render(ws), layout)[0] < L.layout_distance(model.render(ws0), layout)[0]


# ----------------------------------------------------------------------------- the commands

def test_cli_palette(style_run, tmp_path, capsys, one_thread):
    from artforge.cli import main
    from artforge.provenance import read_record

    out = tmp_path / "pal"
    assert main(["explore", "palette", str(style_run), "--colors", "#264653,#e9c46a", "--seeds", "0-1", "--steps", "5",
                 "--out", str(out), "--quiet"]) == 0
    assert "palette distance" in capsys.readouterr().out
    for name in ("palette.png", "comparison.png", "before-seed0000.png", "after-seed0001.png"):
        assert (out / name).is_file()
    record = read_record(out / "after-seed0001.png")
    assert record["kind"] == "palette" and record["seed"] == 1 and record["settings"]["palette"] == ["#264653",
                                                                                                       "#e9c46a"]


def test_cli_layout_from_a_mask(style_run, tmp_path, capsys, one_thread):
    from artforge.cli import main
    from artforge.provenance import read_record

    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "lay"
    assert main(["explore", "layout", str(style_run), "--mask", str(tmp_path / "mask.png"), "--color", "#ffd166",
                 "--steps", "5", "--out", str(out), "--quiet"]) == 0
    assert "layout distance" in capsys.readouterr().out
    for name in ("layout.png", "comparison.png", "before-seed0000.png", "after-seed0000.png"):
        assert (out / name).is_file()
    assert read_record(out / "after-seed0000.png")["kind"] == "layout"


@pytest.mark.parametrize("action, args, message", [
    ("palette", ["--palette-image", "{bad}"], "--palette-image {bad} cannot be read as an image"),
    ("palette", ["--colors", "#123456", "--palette-image", "{bad}"], "give the palette once"),
    ("palette", ["--colors", "#12345g"], "--colors '#12345g' is not a colour"),
    ("palette", ["--colors", "red", "--strength", "1.5"], "--strength must be a number in [0, 1]"),
    ("layout", ["--mask", "{bad}"], "--mask {bad} cannot be read as an image"),
    ("layout", [], "give the layout once"),
    ("layout", ["--blobs", "0.5,0.5,0.2,#fff", "--background", "red"], "--background colours the rest of a --mask"),
    ("layout", ["--mask", "{missing}"], "--mask {missing} is not a file"),
])
def test_cli_errors_are_one_line(action, args, message, style_run, tmp_path, capsys):
    from artforge.cli import main

    bad, missing = tmp_path / "bad.png", tmp_path / "missing.png"
    bad.write_text("not an image")
    fill = lambda s: s.format(bad=bad, missing=missing)  # noqa: E731
    assert main(["explore", action, str(style_run), *map(fill, args)]) == 2
    err = capsys.readouterr().err.strip()
    assert fill(message) in err and len(err.splitlines()) == 1


def test_palette_and_layout_need_a_style_model(trained_run, capsys):
    from artforge.cli import main

    assert main(["explore", "palette", str(trained_run), "--colors", "red"]) != 0
    assert "palette control needs a style-based model" in capsys.readouterr().err
    assert main(["explore", "layout", str(trained_run), "--blobs", "0.5,0.5,0.2,red"]) != 0
    assert "layout control needs a style-based model" in capsys.readouterr().err

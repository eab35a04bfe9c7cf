"""Non-square art: shapes at each resolution and aspect, from prepare --aspect through training to sampling."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.aspect import aspect_shape, base_shape, nearest_style_sizes, parse_aspect, style_sizes
from artforge.cli import main
from artforge.data.archive import ArchiveWriter, open_dataset
from conftest import STYLE_TINY

RED, GREEN, BLUE = (220, 20, 20), (20, 200, 40), (30, 40, 210)
ASPECTS = [(1, 1), (4, 3), (3, 4), (16, 9), (9, 16), (3, 2), (2, 3)]


def one_line_error(err: str, *needles: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------------------- the rule

@pytest.mark.parametrize("aspect", ASPECTS)
def test_prepare_and_the_style_family_agree_on_every_shape(aspect):
    from artforge.models.style import StyleConfig

    for size in style_sizes(aspect):
        cfg = StyleConfig(resolution=size, aspect=aspect)
        assert aspect_shape(size, aspect) == cfg.image_shape  # the images prepare writes are the ones G draws
        h, w = cfg.image_shape
        assert max(h, w) == size and h * aspect[0] == w * aspect[1]


@pytest.mark.parametrize("size, aspect, shape", [(64, (1, 1), (64, 64)), (64, (4, 3), (48, 64)), (32, (3, 4), (32, 24)),
                                                 (64, (16, 9), (36, 64)), (96, (3, 2), (64, 96)), (64, (3, 2), (43, 64))])
def test_aspect_shape_is_height_width_with_the_longer_side_the_size(size, aspect, shape):
    assert aspect_shape(size, aspect) == shape


def test_base_shapes_and_sizes_near_an_untrainable_one():
    assert [base_shape(a) for a in [(1, 1), (4, 3), (16, 9), (3, 2), (8, 6)]] == [(4, 4), (3, 4), (9, 16), (4, 6), (3, 4)]
    assert nearest_style_sizes(64, (3, 2)) == [48, 96]
    assert parse_aspect("8:6") == (4, 3) and parse_aspect(" 16 : 9 ") == (16, 9)
    for bad in ("4x3", "4:0", "-4:3", "4:3:1", "a:b", "4.5:3", ""):
        with pytest.raises(ValueError):
            parse_aspect(bad)


# ----------------------------------------------------------------------------- prepare --aspect

def _save(folder, name, array) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(folder / name)


@pytest.fixture
def shapes_folder(tmp_path):
    """A wide, a tall and a square image, each telling its fit apart by colour."""
    src = tmp_path / "src"
    wide = np.zeros((48, 128, 3), np.uint8)
    wide[:, :32], wide[:, 32:96], wide[:, 96:] = RED, BLUE, GREEN  # its centre 64x48 is all blue
    _save(src, "wide.png", wide)
    _save(src, "tall.png", np.full((96, 24, 3), GREEN))
    _save(src, "square.png", np.full((40, 40, 3), RED))
    return src


def _images(path) -> dict[str, np.ndarray]:
    """The dataset's images by source file name (the manifest lists nothing by name: use the order)."""
    ds = open_dataset(path)
    return {name: ds.read(i) for i, name in enumerate(["square.png", "tall.png", "wide.png"])}


@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
def test_prepare_aspect_writes_width_by_height_images(tmp_path, shapes_folder, fit):
    out = tmp_path / f"{fit}.zip"
    assert main(["prepare", str(shapes_folder), "--out", str(out), "--size", "64", "--aspect", "4:3", "--fit", fit,
                 "--split", "1,0,0", "--quiet"]) == 0
    ds = open_dataset(out)
    assert (ds.height, ds.width, ds.resolution, ds.aspect) == (48, 64, 64, (4, 3))
    manifest = json.loads((tmp_path / f"{fit}.manifest.json").read_text())
    assert (manifest["height"], manifest["width"], manifest["resolution"]) == (48, 64, 64)
    assert manifest["options"]["aspect"] == "4:3"
    images = _images(out)
    assert all(a.shape == (48, 64, 3) for a in images.values())
    wide, tall = images["wide.png"].astype(int), images["tall.png"].astype(int)
    if fit == "crop":  # the centred 4:3 part: the wide image's blue middle, nothing of its red or green ends
        assert np.abs(wide - BLUE).max() <= 2
    elif fit == "pad":  # the tall image fits the height; white bars left and right
        assert (tall[:, :20] == 255).all() and (tall[:, -20:] == 255).all()
        assert np.abs(tall[:, 30:34] - GREEN).max() <= 2
    else:  # stretched: the wide image's three bands keep their share of the width
        assert np.abs(wide[:, :12] - RED).max() <= 2 and np.abs(wide[:, 20:44] - BLUE).max() <= 2
        assert np.abs(wide[:, -12:] - GREEN).max() <= 2


def test_prepare_names_a_non_square_dataset_by_its_size(tmp_path, shapes_folder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["prepare", str(shapes_folder), "--size", "32", "--aspect", "3:4", "--quiet"]) == 0
    ds = open_dataset(tmp_path / "datasets" / "src-24x32.zip")
    assert (ds.height, ds.width, ds.aspect) == (32, 24, (3, 4))


@pytest.mark.parametrize("args, needles", [
    (["--aspect", "4x3"], ["--aspect", "'4x3'", "W:H"]),
    (["--aspect", "0:1"], ["--aspect"]),
    (["--size", "64", "--aspect", "3:2"], ["--size 64 --aspect 3:2", "64x43", "--size 48 or 96"]),
    (["--size", "4", "--aspect", "4:3"], ["--size 4", "--size 8"]),
])
def test_a_bad_aspect_is_one_line_naming_the_option(capsys, tmp_path, shapes_folder, args, needles):
    assert main(["prepare", str(shapes_folder), "--out", str(tmp_path / "x.zip"), *args]) == 2
    one_line_error(capsys.readouterr().err, *needles)
    assert not (tmp_path / "x.zip").exists()


def test_a_dataset_from_before_reports_square_height_and_width(blob_dataset):
    ds = open_dataset(blob_dataset)  # its manifest records resolution alone
    assert (ds.height, ds.width, ds.resolution, ds.aspect, ds.shape) == (32, 32, 32, (1, 1), (32, 32))


# ----------------------------------------------------------------------------- training and sampling

def write_wide_dataset(path, n: int = 24, height: int = 24, width: int = 32, seed: int = 0):
    """Coloured ellipses on white at width x height, with a manifest as prepare --aspect writes it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    writer = ArchiveWriter(path)
    for _ in range(n):
        arr = np.full((height, width, 3), 255, np.uint8)
        cy, cx = rng.integers(height // 3, 2 * height // 3), rng.integers(width // 3, 2 * width // 3)
        arr[((yy - cy) / (height / 4)) ** 2 + ((xx - cx) / (width / 4)) ** 2 < 1] = rng.integers(0, 200, 3)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        writer.add(buf.getvalue())
    names = writer.names
    writer.close({"name": f"wide-{width}x{height}", "resolution": max(height, width), "height": height,
                  "width": width, "channels": 3, "label_names": [],
                  "split": {"train": names[:-4], "val": names[-4:-2], "test": names[-2:]}})
    return path


@pytest.fixture(scope="module")
def wide_dataset(tmp_path_factory):
    return write_wide_dataset(tmp_path_factory.mktemp("data") / "wide.zip")


@pytest.fixture(scope="module")
def wide_run(wide_dataset, tmp_path_factory):
    """A tiny style run on 32x24 images, with previews, health and SWD on the way (tick 2)."""
    import artforge

    options = dict(STYLE_TINY, tick=2, eval_images=8)
    return artforge.train(wide_dataset, out=tmp_path_factory.mktemp("runs"), steps=4, **options).run_dir


@pytest.mark.usefixtures("one_thread")
def test_a_style_run_on_4_3_images_samples_4_3_images(wide_run, tmp_path, capsys):
    import artforge

    options = json.loads((wide_run / "options.json").read_text())
    log = (wide_run / "log.jsonl").read_text()
    assert "Health/diversity" in log and '"swd32"' in log  # health and the quality signal ran on 32x24 images
    assert options["model"]["aspect"] == [4, 3]
    assert (options["dataset"]["height"], options["dataset"]["width"]) == (24, 32)
    assert artforge.load(wide_run, device="cpu").sample(n=4).shape == (4, 24, 32, 3)
    grids = sorted((wide_run / "grids").glob("*.png"))
    assert grids
    for grid in grids:  # preview grids: whole 32x24 images, 2 px apart
        with Image.open(grid) as im:
            assert (im.width - 2) % 34 == 0 and (im.height - 2) % 26 == 0

    out = tmp_path / "samples"
    assert main(["sample", str(wide_run), "--n", "3", "--out", str(out), "--device", "cpu"]) == 0
    pngs = sorted(out.glob("seed*.png"))
    assert len(pngs) == 3 and (out / "grid.png").exists()
    for png in pngs:
        with Image.open(png) as im:
            assert im.size == (32, 24)


@pytest.mark.usefixtures("one_thread")
def test_swd_evaluates_a_non_square_run(wide_run, monkeypatch, tmp_path):
    from artforge.options import EvaluateConfig
    from artforge.metrics.evaluate import evaluate

    monkeypatch.setenv("ARTFORGE_CACHE", str(tmp_path / "cache"))
    from artforge.ops.swd import swd
    from artforge.sampling import load

    report = evaluate(EvaluateConfig(run=str(wide_run), metrics=("swd",), n=8, progress=False, device="cpu"))
    # The same score from the function on the 32x24 images themselves (the data; seeds 0..7): the
    # non-square images reach SWD whole, neither padded nor cropped to a square.
    dataset = open_dataset(json.loads((wide_run / "options.json").read_text())["dataset"]["path"])
    real = np.stack([dataset.read(i) for i in range(len(dataset))])
    fake = load(wide_run, device="cpu").sample(seeds=list(range(8)), truncation=1.0)
    assert real.shape[1:3] == fake.shape[1:3] == (24, 32)
    to_float = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2) / 127.5 - 1  # noqa: E731
    assert report["results"] == pytest.approx(swd(to_float(real), to_float(fake), patches_per_image=64, seed=0),
                                              rel=1e-6)


def test_dcgan_on_a_non_square_dataset_is_one_line_and_makes_no_run(capsys, tmp_path, wide_dataset):
    out = tmp_path / "runs"
    assert main(["train", str(wide_dataset), "--out", str(out), "--arch", "dcgan", "--device", "cpu", "--steps", "1",
                 "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, "--arch dcgan trains square images", "wide-32x24 is 32x24",
                   "--arch style", "--aspect 1:1")
    assert not out.exists() or not any(out.iterdir())


def test_resuming_on_a_dataset_of_another_shape_is_refused(wide_run, blob_dataset):
    import artforge
    from artforge.errors import RunError

    with pytest.raises(RunError, match="32x32 px.*trained on 32x24"):
        artforge.train(blob_dataset, resume=wide_run, steps=6)


# ----------------------------------------------------------------------------- the pieces on the way

def test_swd_and_the_encoder_take_non_square_images():
    import torch

    from artforge.metrics.encoder import SmallEncoder
    from artforge.ops.swd import laplacian_pyramid, swd

    x = torch.rand(4, 3, 36, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert [tuple(level.shape[-2:]) for level in laplacian_pyramid(x)] == [(36, 64), (18, 32), (9, 16)]
    assert set(swd(x, x.flip(0), patches_per_image=8, directions=16, repeats=1)) == {"swd64", "swd32", "swd16", "swd"}
    images = (torch.rand(2, 3, 48, 64) * 255).to(torch.uint8)
    assert SmallEncoder().features(images).shape == (2, 256)


def test_a_folder_of_reals_is_fitted_to_a_non_square_run(tmp_path):
    from artforge.metrics.sources import FolderSource

    _save(tmp_path / "real", "a.png", np.full((40, 40, 3), RED))
    _save(tmp_path / "real", "b.png", np.full((30, 90, 3), BLUE))
    source = FolderSource(tmp_path / "real", (24, 32))
    assert source.images([0, 1]).shape == (2, 3, 24, 32) and source.resolution == 32


def test_the_sizing_probe_dataset_has_the_run_shape(tmp_path):
    from artforge.commands.sizing import _synthetic_dataset

    ds = _synthetic_dataset(tmp_path, (24, 32), 3, 0)
    assert ds.shape == (24, 32) and ds.read(0).shape == (24, 32, 3)

"""Provenance records, ``artforge recreate`` (pixel-exact, --vary, a moved run), the invisible
watermark (survives half size, JPEG 75 and a 10% crop; absence from real photographs: tests/test_watermark_real.py) and ``artforge verify``."""

from __future__ import annotations

import io
import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import artforge
from artforge import provenance
from artforge import watermark as wm
from artforge.cli import main
from artforge.options import RecreateConfig, VerifyConfig
from artforge.errors import UsageError

pytestmark = pytest.mark.usefixtures("one_thread")


def pixels(path) -> np.ndarray:
    return provenance.read_pixels(path)


def one_line_error(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return code, err[0]


# ----------------------------------------------------------------------------- records

def test_record_round_trips_through_the_png_and_the_sidecar(tmp_path):
    model = SimpleNamespace(run_dir=tmp_path, checkpoint=tmp_path / "step-000010", step=10, arch="style")
    ws = torch.randn(6, 16, generator=torch.Generator().manual_seed(0))
    z = torch.randn(16, generator=torch.Generator().manual_seed(1))
    record = provenance.describe(model, "sample", seed=7, label=1, truncation=0.7, ws=ws, z=z,
                                 settings={"n": 3, "filter": []})
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    path = provenance.save_image(tmp_path / "a.png", image, record, watermark=False)

    from_png = provenance.read_record(path)
    assert from_png == json.loads(provenance.sidecar_path(path).read_text())
    assert from_png["seed"] == 7 and from_png["label"] == 1 and from_png["truncation"] == 0.7
    assert from_png["model"]["step"] == 10 and from_png["settings"] == {"n": 3, "filter": []}
    assert from_png["watermark"] == {"applied": False, "scheme": wm.KEY}
    assert np.array_equal(provenance.decode_array(from_png["ws"]), ws.numpy())  # bit for bit
    assert np.array_equal(provenance.decode_array(from_png["z"]), z.numpy())
    assert np.array_equal(pixels(path), image)  # unmarked: the pixels as given

    Image.fromarray(image).save(path)  # metadata stripped (as by an editor): the sidecar still tells
    assert "artforge" not in Image.open(path).info
    assert provenance.read_record(path) == from_png
    provenance.sidecar_path(path).unlink()
    assert provenance.read_record(path) is None


def test_sample_writes_a_record_beside_every_image(trained_run, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sample", str(trained_run), "--seeds", "3,5", "--truncation", "0.8", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["grid.json", "grid.png", "samples.json", "seed0003.json",
                                                     "seed0003.png", "seed0005.json", "seed0005.png"]
    model = artforge.load(trained_run, device="cpu")
    record = provenance.read_record(out / "seed0005.png")
    assert record["kind"] == "sample" and record["seed"] == 5 and record["truncation"] == 0.8
    assert record["model"]["arch"] == "dcgan" and record["model"]["step"] == model.step
    assert record["settings"]["filter"] == [] and record["watermark"]["applied"] is True
    assert np.array_equal(provenance.decode_array(record["z"]), model.latents([5])[0].numpy())
    unmarked = model.sample(seeds=[5], truncation=0.8)[0]
    assert np.array_equal(pixels(out / "seed0005.png"), wm.embed(unmarked))  # marked, deterministically
    assert provenance.read_record(out / "grid.png")["kind"] == "sample-grid"
    assert json.loads((out / "samples.json").read_text())["files"][:2] == ["seed0003.png", "seed0003.json"]

    assert main(["sample", str(trained_run), "--seeds", "5", "--no-grid", "--no-watermark", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["samples.json", "seed0005.json", "seed0005.png"]  # sidecars too
    assert provenance.read_record(out / "seed0005.png")["watermark"]["applied"] is False
    assert np.array_equal(pixels(out / "seed0005.png"), model.sample(seeds=[5])[0])


# ----------------------------------------------------------------------------- recreate

def recreate_ok(capsys, image, *more) -> str:
    assert main(["recreate", str(image), "--device", "cpu", *map(str, more)]) == 0
    printed = capsys.readouterr().out
    assert "pixel-identical" in printed, printed
    return printed


def test_recreate_a_dcgan_sample_and_its_grid_exactly(trained_run, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sample", str(trained_run), "--seeds", "2,9", "--truncation", "0.7", "--out", str(out)]) == 0
    recreate_ok(capsys, out / "seed0009.png")
    again = out / "seed0009-recreated.png"
    assert np.array_equal(pixels(again), pixels(out / "seed0009.png"))
    assert provenance.read_record(again)["recreated_from"] == str((out / "seed0009.png").resolve())
    recreate_ok(capsys, out / "grid.png", "--out", tmp_path / "grid-again.png")

    edited = pixels(out / "seed0002.png").copy()  # an edit keeps the metadata's promise from holding
    edited[0, 0] = 255 - edited[0, 0]
    Image.fromarray(edited).save(tmp_path / "edited.png", pnginfo=_png_info(out / "seed0002.png"))
    assert main(["recreate", str(tmp_path / "edited.png"), "--device", "cpu"]) == 0
    assert "NOT identical" in capsys.readouterr().out


def _png_info(path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt(provenance.PNG_KEY, Image.open(path).info[provenance.PNG_KEY])
    return info


def test_recreate_a_style_sample_exactly_and_vary_it(style_run, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sample", str(style_run), "--seeds", "4", "--truncation", "0.6", "--no-grid", "--out",
                 str(out)]) == 0
    record = provenance.read_record(out / "seed0004.png")
    model = artforge.load(style_run, device="cpu")
    assert np.array_equal(provenance.decode_array(record["ws"]), model.styles([4], truncation=0.6)[0].numpy())

    printed = recreate_ok(capsys, out / "seed0004.png", "--vary", "3", "--vary-strength", "0.5")
    assert "wrote 3 neighbours" in printed
    varied = [out / f"seed0004-vary{i:02d}.png" for i in (1, 2, 3)]
    images = [pixels(out / "seed0004.png")] + [pixels(p) for p in varied]
    assert all(not np.array_equal(a, b) for i, a in enumerate(images) for b in images[i + 1:])
    child = provenance.read_record(varied[0])
    assert child["kind"] == "vary" and child["parent"]["seed"] == 4 and child["parent"]["kind"] == "sample"
    recreate_ok(capsys, varied[1])  # a neighbour recreates exactly too


def test_recreate_edited_styles_and_a_dcgan_neighbour(style_run, trained_run, tmp_path, capsys):
    model = artforge.load(style_run, device="cpu")  # styles no seed gives, as projection or palette make
    ws = model.styles([1, 2]).mean(0) + 0.1
    path = provenance.save_image(tmp_path / "edited.png", model.render(ws[None])[0],
                                 provenance.describe(model, "palette", ws=ws, settings={}))
    recreate_ok(capsys, path)

    out = tmp_path / "d"
    assert main(["sample", str(trained_run), "--seeds", "1", "--no-grid", "--out", str(out)]) == 0
    recreate_ok(capsys, out / "seed0001.png", "--vary", "2", "--seed", "50")
    child = provenance.read_record(out / "seed0001-vary02.png")
    assert child["seed"] == 51 and not np.array_equal(pixels(out / "seed0001-vary01.png"),
                                                                       pixels(out / "seed0001-vary02.png"))
    recreate_ok(capsys, out / "seed0001-vary02.png")


def test_recreate_from_a_moved_run(trained_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    out = tmp_path / "s"
    assert main(["sample", str(run), "--seeds", "6", "--no-grid", "--out", str(out)]) == 0
    run.rename(tmp_path / "moved")
    code, line = one_line_error(capsys, "recreate", out / "seed0006.png")
    assert code == 1 and "cannot be loaded" in line and "--model" in line
    recreate_ok(capsys, out / "seed0006.png", "--model", tmp_path / "moved")


def test_recreate_and_verify_refuse_bad_input_in_one_line(tmp_path, capsys):
    Image.new("RGB", (32, 32), (10, 200, 30)).save(tmp_path / "plain.png")
    code, line = one_line_error(capsys, "recreate", tmp_path / "plain.png")
    assert code == 1 and "has no artforge record" in line and "plain.png" in line
    code, line = one_line_error(capsys, "recreate", tmp_path / "missing.png")
    assert code == 1 and "missing.png" in line
    (tmp_path / "notes.png").write_text("not an image")
    code, line = one_line_error(capsys, "verify", tmp_path / "notes.png")
    assert code == 1 and "notes.png cannot be read as an image" in line
    code, line = one_line_error(capsys, "recreate", tmp_path / "plain.png", "--vary", "-1")
    assert code == 2 and "--vary" in line
    with pytest.raises(UsageError, match="--vary-strength"):
        RecreateConfig(image="x.png", vary_strength=0)
    with pytest.raises(UsageError, match="no image"):
        VerifyConfig()


# ----------------------------------------------------------------------------- the watermark

def test_the_records_name_the_watermark_scheme():
    assert provenance.WATERMARK_SCHEME == wm.KEY


def art(n: int, size: int = 64, seed: int = 0) -> list[np.ndarray]:
    """Non-trivial pictures: shaded grounds (half white), discs with outlines, a little texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    out = []
    for i in range(n):
        img = np.full((size, size, 3), 255.0) if i % 2 else 128 + rng.uniform(-60, 60, 3) * (xx - 0.5)[..., None]
        for _ in range(2):
            cx, cy, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.12, 0.3)
            d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
            colour = rng.uniform(30, 230, 3) + rng.normal(0, 4, (size, size, 3))
            img = np.where((d < 1)[..., None], colour, img)
            img = np.where((np.abs(d - 1) < 1.5 / size / r)[..., None], 30.0, img)
        out.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return out


def half(a):
    im = Image.fromarray(a)
    return np.asarray(im.resize((im.width // 2, im.height // 2), Image.LANCZOS))


def jpeg(a, quality=75):
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


CROPS = {"left": lambda a: a[:, 6:], "right": lambda a: a[:, :-6], "top": lambda a: a[6:],
         "bottom": lambda a: a[:-6], "centre": lambda a: a[3:-3, 3:-3]}
ATTACKS = {"none": lambda a: a, "half": half, "jpeg75": jpeg, **{f"crop-{k}": f for k, f in CROPS.items()},
           "half+jpeg75": lambda a: jpeg(half(a)), "crop+jpeg75": lambda a: jpeg(a[6:, 6:])}


def test_watermark_is_found_after_each_attack_and_invisible():
    images = art(4)
    marked = [wm.embed(a) for a in images]
    assert all(np.array_equal(m, wm.embed(a)) for a, m in zip(images, marked))  # deterministic
    assert min(wm.psnr(a, m) for a, m in zip(images, marked)) > 36
    assert np.mean([wm.psnr(a, m) for a, m in zip(images, marked)]) > 39
    for name, attack in ATTACKS.items():
        found = [wm.detect(attack(m)) for m in marked]
        assert all(f for f, _ in found), (name, [round(s, 1) for _, s in found])


def test_verify_reports_the_mark_and_the_record(trained_run, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sample", str(trained_run), "--seeds", "0", "--no-grid", "--out", str(out)]) == 0
    Image.fromarray(jpeg(half(pixels(out / "seed0000.png")))).save(tmp_path / "shared.jpg")
    Image.fromarray(art(1)[0]).save(tmp_path / "mine.png")
    capsys.readouterr()
    assert main(["verify", str(out / "seed0000.png"), str(tmp_path / "shared.jpg"), str(tmp_path / "mine.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "seed0000.png: watermarked (score" in lines[0] and "record: sample" in lines[0]
    assert "shared.jpg: watermarked" in lines[1] and "no artforge record" in lines[1]
    assert "mine.png: no watermark found (score" in lines[2]
    assert main(["verify", str(tmp_path / "mine.png"), "--json"]) == 0
    item = json.loads(capsys.readouterr().out)
    assert item["watermarked"] is False and item["record"] is None and item["score"] < wm.THRESHOLD

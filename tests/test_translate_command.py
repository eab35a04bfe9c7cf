"""artforge translate, upscale and evaluate on translation runs: files and folders, bad inputs, provenance."""

import json

import numpy as np
import pytest
from PIL import Image

import artforge
from artforge.cli import main
from artforge.provenance import read_record

OPTS = dict(batch=4, width=8, tick=2, checkpoint_every=100, progress=False, tensorboard=False, device="cpu")


@pytest.fixture(scope="module")
def pix2pix_run(pairs_dataset, tmp_path_factory):
    return artforge.train(pairs_dataset, out=tmp_path_factory.mktemp("runs"), steps=2, task="pix2pix", **OPTS).run_dir


@pytest.fixture(scope="module")
def sr_runs(blob_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("sr")
    opts = dict(OPTS, task="sr", width=4, blocks=1, crop=32, batch=2)
    fidelity = artforge.train(blob_dataset, out=out, steps=2, gan_weight=0.0, **opts).run_dir
    gan = artforge.train(blob_dataset, out=out, steps=2, init=str(fidelity), **opts).run_dir
    return fidelity, gan


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    (root / "sub").mkdir()
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(root / "small.png")
    Image.fromarray(rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)).save(root / "sub" / "large.jpg")
    (root / "broken.png").write_bytes(b"not an image")
    return root


def _pixels(path):
    return np.asarray(Image.open(path))


def test_translate_keeps_sizes_and_folders_skips_bad_files_and_records_provenance(pix2pix_run, inputs, tmp_path,
                                                                                   capsys):
    out = tmp_path / "out"
    assert main(["translate", str(pix2pix_run), str(inputs), "--out", str(out), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "wrote 2 images" in said and "skipped 1" in said and "broken.png" in said
    assert _pixels(out / "small.png").shape == (40, 50, 3) and _pixels(out / "sub" / "large.png").shape == (70, 90, 3)
    assert "broken.png" in (out / "skipped.csv").read_text()
    record = read_record(out / "sub" / "large.png")
    assert record["kind"] == "translate" and record["model"]["arch"] == "pix2pix"
    assert record["settings"]["source"]["file"].endswith("large.jpg") and record["watermark"]["applied"]
    again = tmp_path / "again"
    assert main(["translate", str(pix2pix_run), str(inputs / "small.png"), "--out", str(again), "--quiet"]) == 0
    assert np.array_equal(_pixels(again / "small.png"), _pixels(out / "small.png"))  # dropout off: deterministic


def test_pix2pix_variations_differ_and_repeat_by_seed(pix2pix_run, inputs, tmp_path):
    image = str(inputs / "small.png")
    assert main(["translate", str(pix2pix_run), image, "--out", str(tmp_path / "a"), "--variations", "2",
                 "--seed", "5", "--quiet"]) == 0
    assert main(["translate", str(pix2pix_run), image, "--out", str(tmp_path / "b"), "--variations", "1",
                 "--seed", "5", "--quiet"]) == 0
    v1, v2 = _pixels(tmp_path / "a" / "small-v01.png"), _pixels(tmp_path / "a" / "small-v02.png")
    assert not np.array_equal(v1, v2) and np.array_equal(v1, _pixels(tmp_path / "b" / "small-v01.png"))
    assert read_record(tmp_path / "a" / "small-v02.png")["seed"] == 6


def test_translate_refuses_generation_runs_and_wrong_options(trained_run, pix2pix_run, inputs, tmp_path, capsys):
    assert main(["translate", str(trained_run), str(inputs), "--out", str(tmp_path)]) == 2
    assert "makes images from latents" in capsys.readouterr().err
    assert main(["translate", str(pix2pix_run), str(inputs), "--reverse", "--out", str(tmp_path)]) == 2
    assert "--reverse is for cyclegan runs" in capsys.readouterr().err
    assert main(["translate", str(pix2pix_run), str(tmp_path / "missing.png"), "--out", str(tmp_path / "o")]) == 0
    assert "skipped 1" in capsys.readouterr().out


def test_upscale_scales_any_size_and_blends_with_the_fidelity_model(sr_runs, inputs, tmp_path, capsys):
    fidelity, gan = sr_runs
    image = str(inputs / "sub" / "large.jpg")
    assert main(["upscale", str(gan), image, "--out", str(tmp_path / "g"), "--tile", "16", "--quiet"]) == 0
    assert _pixels(tmp_path / "g" / "large.png").shape == (280, 360, 3)
    assert main(["upscale", str(gan), image, "--out", str(tmp_path / "s0"), "--strength", "0", "--quiet"]) == 0
    assert main(["upscale", str(fidelity), image, "--out", str(tmp_path / "f"), "--quiet"]) == 0
    assert np.array_equal(_pixels(tmp_path / "s0" / "large.png"), _pixels(tmp_path / "f" / "large.png"))
    assert read_record(tmp_path / "s0" / "large.png")["settings"]["strength"] == 0
    capsys.readouterr()
    assert main(["upscale", str(fidelity), image, "--strength", "0.5", "--out", str(tmp_path / "x")]) == 2
    assert "was not started from one (--init)" in capsys.readouterr().err


def test_evaluate_scores_translations_against_the_true_images(pix2pix_run, sr_runs, capsys):
    assert main(["evaluate", str(pix2pix_run), "--metrics", "swd", "--split", "val", "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "PSNR" in said and "SSIM" in said and "dropout variations differ" in said
    report = json.loads((pix2pix_run / "eval" / "step-000002.json").read_text())
    assert set(report["results"]["model"]) >= {"psnr", "ssim", "mae", "swd"}
    assert report["reference"]["split"] == "val" and report["diversity"]["mae_between_draws"] > 0  # can fail: dropout off at sampling
    assert main(["evaluate", str(sr_runs[1]), "--metrics", "swd", "--split", "all", "--quiet"]) == 0
    report = json.loads(next((sr_runs[1] / "eval").glob("*.json")).read_text())
    assert set(report["results"]) == {"bicubic", "lanczos", "model"}
    assert Image.open(report["picture"]).width == 5 * 32  # input | bicubic | lanczos | model | target


def test_the_report_of_a_translation_run_shows_its_previews_and_scores(pix2pix_run):
    assert main(["evaluate", str(pix2pix_run), "--metrics", "swd", "--split", "val", "--quiet"]) == 0
    page = artforge.report(pix2pix_run).read_text()
    assert "Latest previews: input | output | target" in page and "<th>PSNR</th>" in page
    assert "Test items side by side" in page and "Samples over time" not in page


def test_recreate_makes_a_translated_or_upscaled_image_again_from_its_source(pix2pix_run, sr_runs, inputs, tmp_path,
                                                                             capsys):
    import shutil
    source = tmp_path / "drawing.png"
    shutil.copy(inputs / "small.png", source)
    assert main(["translate", str(pix2pix_run), str(source), "--out", str(tmp_path / "t"), "--variations", "1",
                 "--seed", "3", "--quiet"]) == 0
    assert main(["recreate", str(tmp_path / "t" / "drawing-v01.png")]) == 0
    assert "pixel-identical" in capsys.readouterr().out
    assert main(["upscale", str(sr_runs[1]), str(source), "--strength", "0.3", "--tile", "16", "--out",
                 str(tmp_path / "u"), "--quiet"]) == 0
    assert main(["recreate", str(tmp_path / "u" / "drawing.png")]) == 0
    assert "pixel-identical" in capsys.readouterr().out
    Image.new("RGB", (8, 8)).save(source)  # the source changed since
    assert main(["recreate", str(tmp_path / "u" / "drawing.png")]) != 0
    assert "has changed since" in capsys.readouterr().err

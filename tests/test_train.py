"""The training loop as a user drives it: stop conditions, run folders, loaders, the log."""

from __future__ import annotations

import json
import math

import pytest

import artforge
from artforge.errors import UsageError
from artforge.runs.monitor import read_log

from conftest import TINY


def losses(run_dir):
    rows, _ = read_log(run_dir / "log.jsonl")
    return [(r["step"], r["Loss/D"], r["Loss/G"]) for r in rows if "Loss/D" in r]


def test_kimg_stops_after_that_many_real_images(blob_dataset, tmp_path):
    result = artforge.train(blob_dataset, out=tmp_path, kimg=0.04, **TINY)  # 40 images, batch 8
    assert result.step == 5 and result.status == "finished"


def test_minutes_stops_on_time(blob_dataset, tmp_path):
    import time
    start = time.time()
    result = artforge.train(blob_dataset, out=tmp_path, minutes=0.005, **TINY)  # 0.3 s, no step limit
    assert result.status == "finished" and result.step >= 1
    assert time.time() - start < 30  # it stopped on time, not on some other condition


def test_each_run_gets_the_next_numbered_folder_with_its_options(blob_dataset, tmp_path):
    first = artforge.train(blob_dataset, out=tmp_path, steps=1, **TINY)
    second = artforge.train(blob_dataset, out=tmp_path, steps=1, **{**TINY, "lr_g": 1e-3})
    assert (first.run_dir.name, second.run_dir.name) == ("00000-blobs-32-dcgan", "00001-blobs-32-dcgan")
    options = json.loads((second.run_dir / "options.json").read_text())
    assert options["train"]["lr_g"] == 1e-3 and options["train"]["batch"] == 8
    assert options["model"] == {"arch": "dcgan", "resolution": 32, "channels": 3, "z_dim": 16, "width": 8,
                                "max_width": 512, "num_classes": 0, "embed_dim": 64, "d_norm": "batch",
                                "g_spectral": False, "output_bias": True, "mbstd_group": 4}


def test_streaming_loader_trains_exactly_like_the_in_memory_one(blob_dataset, tmp_path):
    opts = {**TINY, "tick": 1}
    cached = artforge.train(blob_dataset, out=tmp_path / "a", steps=4, **opts)
    streamed = artforge.train(blob_dataset, out=tmp_path / "b", steps=4, cache_gb=1e-9, workers=1, **opts)
    assert losses(cached.run_dir) == losses(streamed.run_dir)


def test_seed_changes_the_run_and_fixes_it(blob_dataset, tmp_path):
    a = artforge.train(blob_dataset, out=tmp_path, steps=3, seed=1, **{**TINY, "tick": 1})
    b = artforge.train(blob_dataset, out=tmp_path, steps=3, seed=1, **{**TINY, "tick": 1})
    c = artforge.train(blob_dataset, out=tmp_path, steps=3, seed=2, **{**TINY, "tick": 1})
    assert losses(a.run_dir) == losses(b.run_dir) != losses(c.run_dir)


def test_log_has_losses_d_outputs_and_gradient_norms(trained_run):
    rows, events = read_log(trained_run / "log.jsonl")
    for key in ("Loss/D", "Loss/G", "D/real", "D/fake", "grad_norm/D", "grad_norm/G", "Speed/img_per_s", "kimg"):
        assert key in rows[-1], key  # can fail: the log is what this tests; a figure no longer logged fails
    last = rows[-1]
    assert last["step"] == 10 and last["kimg"] == pytest.approx(0.08)  # 10 steps of 8 images
    # D's loss is the mean of -log D(real) - log(1 - D(fake)); D/real and D/fake are the means of D's
    # outputs, so by Jensen the loss is at least -log D/real - log(1 - D/fake) (logits or a swapped
    # pair would break it)
    assert last["Loss/D"] >= -math.log(last["D/real"]) - math.log(1 - last["D/fake"]) - 1e-5
    metric = [e for e in events if e["event"] == "metric"][-1]
    assert metric["swd"] == pytest.approx((metric["swd32"] + metric["swd16"]) / 2, abs=1e-3)
    assert last["Quality/swd"] == pytest.approx(metric["swd"], abs=1e-3)  # the quality signal is that score


def test_empty_split_is_a_clear_error(tmp_path):
    import io

    from PIL import Image

    from artforge.data.archive import ArchiveWriter
    writer = ArchiveWriter(tmp_path / "allval.zip")
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buf, format="PNG")
    name = writer.add(buf.getvalue())
    writer.close({"name": "allval", "resolution": 32, "channels": 3, "label_names": [],
                  "split": {"train": [], "val": [name], "test": []}})
    with pytest.raises(UsageError, match="no images in the 'train' split"):
        artforge.train(tmp_path / "allval.zip", out=tmp_path / "runs", steps=1, **TINY)
    assert not list((tmp_path / "runs").iterdir())  # no empty run folder left behind
    assert artforge.train(tmp_path / "allval.zip", out=tmp_path / "runs", steps=1, split="all", **TINY).step == 1


def test_one_generator_forward_per_step_shared_by_the_d_and_g_phases(blob_dataset, tmp_path):
    from artforge.options import TrainConfig
    from artforge.data.archive import open_dataset
    from artforge.commands.trainer import Trainer
    from artforge.runs.monitor import Monitor

    cfg = TrainConfig(dataset=str(blob_dataset), recipe="dcgan", **TINY)
    trainer = Trainer(cfg, tmp_path, open_dataset(blob_dataset))
    calls = {"G": 0, "D": 0}
    trainer.nets["G"].register_forward_hook(lambda *_: calls.__setitem__("G", calls["G"] + 1))
    trainer.nets["D"].register_forward_hook(lambda *_: calls.__setitem__("D", calls["D"] + 1))
    ctx = trainer.make_context()
    trainer.train_step(ctx, Monitor(tmp_path, tensorboard=False), log_grads=True)
    assert calls == {"G": 1, "D": 3}  # D on real, on fake (detached), on fake for G's loss
    assert trainer.step == 1 and ctx.draws == 1


def test_a_run_says_at_its_start_how_it_uses_labels_and_warns_of_leaky_augmentation(labeled_dataset, tmp_path,
                                                                                       capsys):
    opts = {**TINY, "progress": True, "tick": 100}  # the notes print above the progress bar
    result = artforge.train(labeled_dataset, out=tmp_path, steps=2, augment="flip,rotate", **opts)
    err = capsys.readouterr().err
    assert "labels (blue, red, from its subfolders) make this a conditional model" in err
    assert "--conditional false" in err
    assert "--augment rotate transforms only the real images" in err
    _, events = read_log(result.run_dir / "log.jsonl")
    starts = [e for e in events if e["event"] == "start"]
    assert {"labels": "dataset", "classes": 2} == {k: starts[0][k] for k in ("labels", "classes")}
    assert starts[1]["leaky_augment"] == ["rotate"]

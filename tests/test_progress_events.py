"""prepare, evaluate and translate count their items as "progress" events and stop on a cancel token
(train's are in test_events.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import artforge
from artforge import commands
from artforge.cli import main
from artforge.utils.events import CancelToken, Cancelled, Event, Progress

TRANSLATE = dict(batch=4, width=8, tick=2, checkpoint_every=100, progress=False, tensorboard=False, device="cpu")


def _images(folder, n: int, size=(20, 24)):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def _counts(seen: list[Event]) -> list[dict]:
    return [e.fields for e in seen if e.kind == "progress"]


def _cancel_at_first_count(token: CancelToken, seen: list):
    def sink(event: Event) -> None:
        seen.append(event)
        if event.kind == "progress":
            token.cancel()
    return sink


# ----------------------------------------------------------------------------- the counter itself

def test_progress_sends_the_first_count_then_at_most_every_interval_and_always_the_last():
    seen = []
    progress = Progress(seen.append, 5, "files", "prepare art", every=3600)
    for _ in range(5):
        progress.advance()
    progress.finish()
    assert [(f["done"], f["total"]) for f in _counts(seen)] == [(1, 5), (5, 5)]
    progress.finish()  # the last count went out already: not twice
    assert len(seen) == 2
    Progress(None, 3, "files").advance()  # no listener: nothing to send, nothing fails


def test_progress_raises_cancelled_once_its_token_is_cancelled():
    token = CancelToken()
    progress = Progress(None, 4, "files", "prepare art", token)
    progress.advance()
    progress.raise_if_cancelled()  # not cancelled: goes on
    token.cancel()
    with pytest.raises(Cancelled, match="prepare art was cancelled after 1 files; nothing was written"):
        progress.raise_if_cancelled()


# ----------------------------------------------------------------------------- prepare

def test_prepare_counts_every_file_and_a_cancelled_one_writes_nothing(tmp_path):
    src = _images(tmp_path / "art", 6)
    options = dict(source=str(src), size=16, workers=1, progress=False)
    seen = []
    commands.run("prepare", dict(options, out=str(tmp_path / "done" / "d.zip")), events=seen.append)
    counts = _counts(seen)
    assert counts[0]["done"] == 1  # the first file at once
    assert counts[-1] == {"done": 6, "total": 6, "what": "files", "stage": "prepare art"}

    token, seen = CancelToken(), []
    with pytest.raises(Cancelled):
        commands.run("prepare", dict(options, out=str(tmp_path / "stopped" / "d.zip")),
                     events=_cancel_at_first_count(token, seen), cancel=token)
    assert [c["done"] for c in _counts(seen)] == [1]
    assert list((tmp_path / "stopped").iterdir()) == []  # no zip, manifest, rejects or spool

    import artforge  # the Python API takes the same token
    token, seen = CancelToken(), []
    with pytest.raises(Cancelled):
        artforge.prepare(src, out=tmp_path / "api" / "d.zip", size=16, workers=1, progress=False,
                         events=_cancel_at_first_count(token, seen), cancel=token)
    assert list((tmp_path / "api").iterdir()) == []


def test_the_prepare_bar_is_drawn_from_the_events(tmp_path, capsys):
    src = _images(tmp_path / "art", 3)
    assert main(["prepare", str(src), "--size", "16", "--out", str(tmp_path / "d.zip"), "--workers", "1"]) == 0
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert any(line.startswith("prepare art: 100%") and "3/3" in line for line in bar), bar
    assert main(["prepare", str(src), "--size", "16", "--out", str(tmp_path / "q.zip"), "--workers", "1",
                 "--quiet"]) == 0
    assert "prepare art" not in capsys.readouterr().err


# ----------------------------------------------------------------------------- evaluate

def test_evaluate_counts_each_pass_and_a_cancelled_one_writes_no_report(trained_run, blob_dataset, tmp_path,
                                                                          one_thread):
    options = dict(run=str(trained_run), real=str(blob_dataset), metrics=("swd",), n=16, batch=8, cache=False,
                   device="cpu")
    seen = []
    commands.run("evaluate", dict(options, out=str(tmp_path / "e.json")), events=seen.append)
    last = {c["stage"]: (c["done"], c["total"]) for c in _counts(seen)}
    assert last == {"reference images": (40, 40), "generated images": (16, 16)}  # the blobs: 40 images
    assert _counts(seen)[-1]["stage"] == "generated images"

    token, seen = CancelToken(), []
    with pytest.raises(Cancelled):
        commands.run("evaluate", dict(options, out=str(tmp_path / "stopped.json")),
                     events=_cancel_at_first_count(token, seen), cancel=token)
    assert [(c["stage"], c["done"]) for c in _counts(seen)] == [("reference images", 8)]  # one batch
    assert not (tmp_path / "stopped.json").exists()


# ----------------------------------------------------------------------------- translate

def test_translate_counts_every_image_and_a_cancelled_one_keeps_the_finished_ones(pairs_dataset, tmp_path,
                                                                                  one_thread):
    run = artforge.train(pairs_dataset, out=tmp_path / "runs", steps=2, task="pix2pix", **TRANSLATE).run_dir
    inputs = _images(tmp_path / "in", 3, size=(30, 40))
    options = dict(run=str(run), inputs=(str(inputs),), device="cpu", progress=False)
    seen = []
    result = commands.run("translate", dict(options, out=str(tmp_path / "all")), events=seen.append)
    assert _counts(seen)[-1] == {"done": 3, "total": 3, "what": "images", "stage": "translate"}
    assert (result.status, len(result.written)) == ("finished", 3)

    token, seen = CancelToken(), []
    result = commands.run("translate", dict(options, out=str(tmp_path / "stopped")),
                          events=_cancel_at_first_count(token, seen), cancel=token)
    assert (result.status, [p.name for p in result.written]) == ("interrupted", ["0.png"])
    assert sorted(p.name for p in (tmp_path / "stopped").glob("*.png")) == ["0.png"]
    first_line = commands.summary("translate", result)[0]
    assert first_line == f"stopped (cancelled): translated: wrote 1 images into {result.out}"


def test_training_the_encoder_extractor_counts_its_steps_and_stops_when_cancelled(one_thread):
    import torch

    from artforge.metrics.encoder import train_encoder

    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    seen = []
    train_encoder(images, steps=3, batch=4, events=seen.append)
    assert _counts(seen)[-1] == {"done": 3, "total": 3, "what": "steps",
                                 "stage": "training the dataset's feature encoder"}
    token, seen = CancelToken(), []
    with pytest.raises(Cancelled):
        train_encoder(images, steps=3, batch=4, events=_cancel_at_first_count(token, seen), cancel=token)
    assert [c["done"] for c in _counts(seen)] == [1]

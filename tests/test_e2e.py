"""End to end on the CPU, as a user runs it: prepare, train, resume, sample, report; and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from artforge.cli import main
from artforge.runs import checkpoint as ckpt

FLAGS = ["--batch", "8", "--width", "8", "--z-dim", "16", "--tick", "5", "--checkpoint-every", "10",
         "--eval-images", "16", "--no-tensorboard", "--device", "cpu", "--quiet"]


def make_art_folder(root, n_per_class: int = 12):
    rng = np.random.default_rng(1)
    for label, channel in (("reds", 0), ("blues", 2)):
        (root / label).mkdir(parents=True)
        for i in range(n_per_class):
            arr = np.full((48, 40, 3), 250, np.uint8)
            arr[rng.integers(0, 20):, rng.integers(0, 20):, channel] = rng.integers(100, 200)
            Image.fromarray(arr).save(root / label / f"{i}.{'png' if i % 2 else 'jpg'}")


def test_prepare_train_resume_sample_report(tmp_path, capsys):
    make_art_folder(tmp_path / "art")
    dataset = tmp_path / "art-32.zip"
    assert main(["prepare", str(tmp_path / "art"), "--out", str(dataset), "--size", "32", "--quiet"]) == 0
    assert "prepared 24 images" in capsys.readouterr().out

    assert main(["train", str(dataset), "--out", str(tmp_path / "runs"), "--steps", "20", *FLAGS]) == 0
    run = next((tmp_path / "runs").iterdir())
    assert run.name == "00000-art-32-dcgan"
    options = json.loads((run / "options.json").read_text())
    assert options["train"]["steps"] == 20 and options["dataset"]["label_names"] == ["blues", "reds"]
    assert options["model"]["num_classes"] == 2
    assert sorted(p.name for p in (run / "grids").iterdir()) == [f"{s:06d}.png" for s in (0, 5, 10, 15, 20)]

    assert main(["train", "--resume", str(run), "--steps", "30", "--quiet"]) == 0
    assert ckpt.resolve_checkpoint(run, "latest").name == "step-000030"
    steps = [json.loads(l)["step"] for l in (run / "log.jsonl").read_text().splitlines() if '"event"' not in l]
    assert steps == [5, 10, 15, 20, 25, 30]

    out = tmp_path / "samples"
    assert main(["sample", str(run), "--n", "8", "--seed", "3", "--out", str(out)]) == 0
    assert len(list(out.glob("seed*.png"))) == 8 and (out / "grid.png").exists()
    assert Image.open(out / "seed0003.png").size == (32, 32)

    assert main(["report", str(run)]) == 0
    assert (run / "report.html").stat().st_size > 1000


def test_ctrl_c_saves_and_resume_continues(tmp_path, blob_dataset):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "artforge", "train", str(blob_dataset), "--out", str(tmp_path),
           "--steps", "100000", *FLAGS]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until training is under way
        logs = list(tmp_path.glob("*/log.jsonl"))
        if logs and logs[0].read_text().strip():
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped (Ctrl-C)" in out and "Traceback" not in err
    run = next(tmp_path.iterdir())
    stopped_at = int(out.split("stopped (Ctrl-C) at step ")[1].split(":")[0])
    assert ckpt.resolve_checkpoint(run, "latest").name == ckpt.checkpoint_name(stopped_at)
    assert main(["train", "--resume", str(run), "--steps", str(stopped_at + 3), "--quiet"]) == 0
    assert ckpt.resolve_checkpoint(run, "latest").name == ckpt.checkpoint_name(stopped_at + 3)

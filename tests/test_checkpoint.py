"""Checkpoints: round trips, atomic writes, clear errors, exact resume, divergence handling."""

from __future__ import annotations

import dataclasses
import errno
import json
from pathlib import Path

import pytest
import torch
from torch import nn

import artforge
from artforge.options import TrainConfig
from artforge.data.archive import open_dataset
from artforge.errors import CheckpointError, TrainingDiverged
from artforge.runs import checkpoint as ckpt
from artforge.commands.trainer import Trainer
from artforge.runs.monitor import read_log
from artforge.training.steps import Phase

from conftest import TINY


def _nets():
    torch.manual_seed(0)
    return {"G": nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), "D": nn.Linear(4, 1)}


def test_split_and_join_tensors_round_trip_optimizer_state():
    net = nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(5, 3)).sum().backward()
    opt.step()
    tensors = {}
    encoded = ckpt.split_tensors(opt.state_dict(), tensors)
    json.dumps(encoded)  # everything left is JSON
    restored = ckpt.join_tensors(json.loads(json.dumps(encoded)), tensors)
    opt2 = torch.optim.Adam(nn.Linear(3, 2).parameters())
    opt2.load_state_dict(restored)
    for p in range(2):
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(opt.state_dict()["state"][p][key], opt2.state_dict()["state"][p][key])


def test_save_and_load_round_trip(tmp_path):
    nets = _nets()
    state = {"arch": "x", "nested": {"rng": torch.arange(5, dtype=torch.uint8), 3: [1.5, "a"]}}
    path = ckpt.save_checkpoint(tmp_path, 42, nets, state)
    assert path.name == "step-000042"
    loaded = ckpt.load_checkpoint(path)
    assert loaded["step"] == 42
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            assert torch.equal(loaded["models"][name][key], value)
    assert torch.equal(loaded["state"]["nested"]["rng"], torch.arange(5, dtype=torch.uint8))
    assert loaded["state"]["nested"][3] == [1.5, "a"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_disk_full_during_save_leaves_no_partial_checkpoint(tmp_path, monkeypatch):
    nets = _nets()
    good = ckpt.save_checkpoint(tmp_path, 1, nets, {})
    calls = {"n": 0}
    real_save = ckpt.save_file

    def failing_save(tensors, filename, metadata=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(ckpt, "save_file", failing_save)
    with pytest.raises(CheckpointError, match="disk is full") as info:
        ckpt.save_checkpoint(tmp_path, 2, nets, {})
    assert f"the last good checkpoint is {good}" in str(info.value)
    assert f"resume the run {tmp_path.parent} (it continues from step-000001)" in str(info.value)
    assert not (tmp_path / "step-000002").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["step-000001"]
    assert ckpt.load_checkpoint(good)["step"] == 1


def _listing(folder):
    """Every file under ``folder`` with its bytes: 'nothing else touched' compares two of these."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _saved_run(run):
    """RUN/checkpoints with steps 1 and 2 and an index naming step 1 as best, step 2 as latest."""
    ckpt_dir = run / "checkpoints"
    for step in (1, 2):
        ckpt.save_checkpoint(ckpt_dir, step, _nets(), {"step_note": step})
    ckpt.write_index(ckpt_dir, {"latest": "step-000002", "best": "step-000001"})
    return ckpt_dir


def _assert_clean_write_error(err, ckpt_dir, before):
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    assert "could not write checkpoint step-000005" in text and "the disk is full" in text
    assert f"filesystem mounted at {ckpt._mount_point(ckpt_dir)}" in text
    assert f"the last good checkpoint is {ckpt_dir / 'step-000002'}" in text
    assert "--" not in text.split("; fix: ")[1]  # no CLI flags from this layer
    assert _listing(ckpt_dir) == before  # no .tmp-step-000005-* left, nothing else touched


ENOSPC_SAFETENSORS = "Error while serializing: I/O error: No space left on device (os error 28)"


@pytest.mark.parametrize("which", [1, 2])  # model.safetensors, training.safetensors
def test_safetensors_error_on_a_full_disk_is_one_line(tmp_path, monkeypatch, which):
    from safetensors import SafetensorError
    ckpt_dir = _saved_run(tmp_path)
    before = _listing(ckpt_dir)
    calls = {"n": 0}
    real_save = ckpt.save_file

    def failing_save(tensors, filename, metadata=None):
        calls["n"] += 1
        if calls["n"] == which:
            real_save(tensors, filename, metadata=metadata)  # a partly written file in the temporary folder
            raise SafetensorError(ENOSPC_SAFETENSORS)
        return real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(ckpt, "save_file", failing_save)
    with pytest.raises(CheckpointError) as info:
        ckpt.save_checkpoint(ckpt_dir, 5, _nets(), {})
    _assert_clean_write_error(info.value, ckpt_dir, before)
    assert ckpt.resolve_checkpoint(tmp_path, "latest").name == "step-000002"


def test_last_good_checkpoint_without_an_index_is_the_newest(tmp_path, monkeypatch):
    from safetensors import SafetensorError
    ckpt_dir = _saved_run(tmp_path)
    (ckpt_dir / ckpt.INDEX_FILE).unlink()
    before = _listing(ckpt_dir)

    def failing_save(tensors, filename, metadata=None):
        raise SafetensorError(ENOSPC_SAFETENSORS)

    monkeypatch.setattr(ckpt, "save_file", failing_save)
    with pytest.raises(CheckpointError) as info:
        ckpt.save_checkpoint(ckpt_dir, 5, _nets(), {})
    _assert_clean_write_error(info.value, ckpt_dir, before)


def test_full_disk_before_the_first_checkpoint_says_start_again(tmp_path, monkeypatch):
    from safetensors import SafetensorError

    def failing_save(tensors, filename, metadata=None):
        raise SafetensorError(ENOSPC_SAFETENSORS)

    monkeypatch.setattr(ckpt, "save_file", failing_save)
    with pytest.raises(CheckpointError, match="disk is full") as info:
        ckpt.save_checkpoint(tmp_path / "checkpoints", 5, _nets(), {})
    assert "no earlier checkpoint" in str(info.value) and "start the run again" in str(info.value)
    assert list((tmp_path / "checkpoints").iterdir()) == []


@pytest.mark.parametrize("where", ["state.json", "rename"])
def test_oserror_from_state_json_or_rename_behaves_the_same(tmp_path, monkeypatch, where):
    ckpt_dir = _saved_run(tmp_path)
    before = _listing(ckpt_dir)
    if where == "state.json":
        def failing_json(path, obj):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(ckpt, "atomic_write_json", failing_json)
    else:
        _fail_renaming_the_new_checkpoint(monkeypatch)
    with pytest.raises(CheckpointError) as info:
        ckpt.save_checkpoint(ckpt_dir, 5, _nets(), {})
    _assert_clean_write_error(info.value, ckpt_dir, before)


def _fail_renaming_the_new_checkpoint(monkeypatch) -> None:
    """A full disk at the last moment: renaming the written temporary folder into place fails."""
    real_replace = ckpt.os.replace

    def failing_replace(src, dst):
        if str(src).split("/")[-1].startswith(".tmp-step-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)
    monkeypatch.setattr(ckpt.os, "replace", failing_replace)


def test_failed_save_of_the_same_step_keeps_the_old_one(tmp_path, monkeypatch):
    ckpt_dir = _saved_run(tmp_path)
    before = _listing(ckpt_dir)
    _fail_renaming_the_new_checkpoint(monkeypatch)
    with pytest.raises(CheckpointError, match="could not write checkpoint step-000002"):
        ckpt.save_checkpoint(ckpt_dir, 2, _nets(), {"step_note": "again"})
    assert _listing(ckpt_dir) == before  # step-000002 back in place, unchanged; no .old-/.tmp- folders
    monkeypatch.undo()
    ckpt.save_checkpoint(ckpt_dir, 2, _nets(), {"step_note": "again"})  # and a working re-save replaces it
    assert ckpt.load_checkpoint(ckpt_dir / "step-000002")["state"]["step_note"] == "again"
    assert sorted(p.name for p in ckpt_dir.iterdir()) == ["index.json", "step-000001", "step-000002"]


def test_other_write_errors_name_the_cause(tmp_path, monkeypatch):
    ckpt_dir = _saved_run(tmp_path)

    def failing_json(path, obj):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(ckpt, "atomic_write_json", failing_json)
    with pytest.raises(CheckpointError, match="Permission denied") as info:
        ckpt.save_checkpoint(ckpt_dir, 5, _nets(), {})
    assert f"make {ckpt_dir} writable" in str(info.value)


def test_interrupt_during_save_removes_the_temporary_folder(tmp_path, monkeypatch):
    ckpt_dir = _saved_run(tmp_path)
    before = _listing(ckpt_dir)

    def interrupted(tensors, filename, metadata=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(ckpt_dir, 5, _nets(), {})
    assert _listing(ckpt_dir) == before


def test_index_write_on_a_full_disk_is_one_line(tmp_path, monkeypatch):
    ckpt_dir = _saved_run(tmp_path)
    before = _listing(ckpt_dir)

    def failing_json(path, obj):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "atomic_write_json", failing_json)
    with pytest.raises(CheckpointError, match="could not update .*index.json: the disk is full"):
        ckpt.write_index(ckpt_dir, {"latest": "step-000003"})
    assert _listing(ckpt_dir) == before


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs: a real full disk (needs root, or the right to mount)."""
    import shutil
    import subprocess
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small tmpfs to fill")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip() or done.returncode})")
    yield disk
    if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_really_full_disk_is_one_line_and_leaves_no_partial_checkpoint(small_disk):
    torch.manual_seed(0)
    nets = {"G": nn.Linear(512, 512)}  # 1 MB of weights: the third checkpoint does not fit in 3 MB
    run = small_disk / "run"
    ckpt_dir = run / "checkpoints"
    saved = []
    with pytest.raises(CheckpointError) as info:
        for step in range(1, 10):
            path = ckpt.save_checkpoint(ckpt_dir, step, nets, {"opt": {"m": torch.zeros(8)}})
            ckpt.write_index(ckpt_dir, {"latest": path.name, "best": path.name})
            saved.append(path)
            before = _listing(ckpt_dir)
    assert len(saved) == 2  # 1 MB each in 3 MB: the third does not fit
    failed = ckpt.checkpoint_name(len(saved) + 1)
    text = str(info.value)
    assert "\n" not in text
    assert f"could not write checkpoint {failed} in {ckpt_dir}: the disk is full" in text
    assert f"filesystem mounted at {small_disk}" in text
    assert f"the last good checkpoint is {saved[-1]}" in text
    assert f"free space on {small_disk}, then resume the run {run}" in text
    assert _listing(ckpt_dir) == before  # no .tmp-step-* folder, nothing else touched
    for path in saved:
        assert torch.equal(ckpt.load_checkpoint(path)["models"]["G"]["weight"], nets["G"].weight)


def test_incompatible_format_version_is_a_clear_error(tmp_path):
    path = ckpt.save_checkpoint(tmp_path, 5, _nets(), {})
    meta = json.loads((path / ckpt.STATE_FILE).read_text())
    meta["format_version"] = 99
    (path / ckpt.STATE_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="format version 99"):
        ckpt.load_checkpoint(path)


def test_damaged_weights_are_a_clear_error(tmp_path):
    path = ckpt.save_checkpoint(tmp_path, 5, _nets(), {})
    (path / ckpt.MODEL_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="damaged"):
        ckpt.load_checkpoint(path)


def test_prune_keeps_last_k_and_protected(tmp_path):
    for step in range(1, 7):
        ckpt.save_checkpoint(tmp_path, step, _nets(), {})
    removed = ckpt.prune(tmp_path, keep=2, protect={"step-000002"})
    assert sorted(removed) == ["step-000001", "step-000003", "step-000004"]
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-000002", "step-000005", "step-000006"]


def test_a_diverged_score_never_becomes_the_best_checkpoint():
    from types import SimpleNamespace
    from artforge.training.engine import Engine
    engine = Engine.__new__(Engine)  # only what picking the best checkpoint reads
    engine.callbacks, engine.task, engine.best = [], SimpleNamespace(quality_metric="swd"), None
    for step, swd in [(500, float("nan")), (1000, 60.0), (1500, float("nan")), (2000, 50.0), (2500, float("inf"))]:
        engine.step = step
        engine._update_best({"swd": swd})
        if step == 500:  # only a broken score so far: the newest checkpoint, as when there is none
            assert engine.best["step"] == 500 and engine.best["value"] is None
    assert engine.best["step"] == 2000 and engine.best["value"] == 50.0


def test_resolve_checkpoint_names(tmp_path):
    run = tmp_path
    for step in (10, 20):
        ckpt.save_checkpoint(run / "checkpoints", step, _nets(), {})
    ckpt.write_index(run / "checkpoints", {"latest": "step-000020", "best": "step-000010"})
    assert ckpt.resolve_checkpoint(run, "best").name == "step-000010"
    assert ckpt.resolve_checkpoint(run, "latest").name == "step-000020"
    assert ckpt.resolve_checkpoint(run, "10").name == "step-000010"
    with pytest.raises(CheckpointError, match="no checkpoint step-000030"):
        ckpt.resolve_checkpoint(run, "30")
    with pytest.raises(CheckpointError, match="not best, latest or a step"):
        ckpt.resolve_checkpoint(run, "newest")


def test_a_run_without_checkpoints_raises_no_checkpoint_yet(tmp_path):
    from artforge.errors import NoCheckpointYet
    (tmp_path / "checkpoints" / ".tmp-step-000010-1").mkdir(parents=True)  # killed mid-write
    with pytest.raises(NoCheckpointYet, match="has no checkpoint yet; fix: train longer") as info:
        ckpt.resolve_checkpoint(tmp_path, "best")
    assert isinstance(info.value, CheckpointError)  # can fail: sample/evaluate keep catching it as before


def test_checkpoint_holds_the_full_training_state(trained_run):
    path = ckpt.resolve_checkpoint(trained_run, "latest")
    meta = json.loads((path / ckpt.STATE_FILE).read_text())
    assert meta["format_version"] == ckpt.FORMAT_VERSION
    assert meta["step"] == 10 and meta["family"] == "dcgan" and meta["task"] == "generation"
    assert meta["task_state"]["self_cond"] is None  # 36 training images: too few for self-conditioning
    assert len(meta["rng"]["ranks"]) == meta["world_size"] == 1
    from safetensors.torch import load_file
    keys = load_file(str(path / ckpt.MODEL_FILE)).keys()
    assert {k.split(".")[0] for k in keys} == {"G", "D", "G_ema"}


def _per_step_log(run_dir):
    rows, _ = read_log(run_dir / "log.jsonl")
    return [{k: r[k] for k in ("step", "Loss/D", "Loss/G", "D/real", "D/fake")} for r in rows if "Loss/D" in r]


@pytest.mark.parametrize("data", ["blob_dataset", "many_blobs"])  # without and with self-conditioning
def test_resume_reproduces_an_uninterrupted_run_exactly(data, request, tmp_path):
    blob_dataset = request.getfixturevalue(data)
    # reclustering (self-conditioning) at steps 3, 6 before the stop at 7, and 9 after the resume
    opts = {**TINY, "tick": 1, "checkpoint_every": 100, "augment": ("flip", "rotate"), "self_cond_every": 3}
    full = artforge.train(blob_dataset, out=tmp_path / "a", steps=12, **opts)
    part = artforge.train(blob_dataset, out=tmp_path / "b", steps=7, **opts)
    resumed = artforge.train(resume=part.run_dir, steps=12)
    assert resumed.run_dir == part.run_dir and resumed.step == 12
    a, b = _per_step_log(full.run_dir), _per_step_log(part.run_dir)
    assert [r["step"] for r in b] == list(range(1, 13))  # no duplicated or missing log lines
    assert a == b
    for grid in ("grids/000008.png", "grids/000012.png"):  # the same latents and labels after the resume
        assert (full.run_dir / grid).read_bytes() == (part.run_dir / grid).read_bytes()
    state = json.loads((resumed.checkpoint / ckpt.STATE_FILE).read_text())
    assert (state["task_state"]["self_cond"] or {}).get("reclusterings") == (4 if data == "many_blobs" else None)  # 0, 3, 6, 9
    wa = ckpt.load_checkpoint(full.checkpoint)["models"]["G_ema"]
    wb = ckpt.load_checkpoint(resumed.checkpoint)["models"]["G_ema"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_rejects_options_that_would_change_the_run(trained_run):
    from artforge.errors import UsageError
    with pytest.raises(UsageError, match="--batch 4 differs from the run's 8 and cannot change when resuming"):
        artforge.train(resume=trained_run, batch=4)


def test_resume_accepts_the_run_s_own_options_given_again(trained_run, tmp_path):
    """StyleGAN2-ADA users re-run the training command with --resume added: equal options are fine."""
    import shutil
    run = tmp_path / trained_run.name
    shutil.copytree(trained_run, run)
    result = artforge.train(resume=run, arch="dcgan", seed=0, batch=8, width=8, augment="flip", steps=11)
    assert result.step == 11


def test_divergence_stops_with_the_last_good_checkpoint_kept(blob_dataset, tmp_path):
    first = artforge.train(blob_dataset, out=tmp_path, steps=10, **TINY)
    cfg = TrainConfig(dataset=str(blob_dataset), steps=20, **TINY)
    trainer = Trainer(cfg, first.run_dir, open_dataset(blob_dataset), resume_from=first.checkpoint)

    def nan_loss(ctx):
        fake, _ = ctx.fake()
        return {"loss": fake.mean() * float("nan")}

    trainer.phases = [dataclasses.replace(trainer.phases[0]), Phase("G", "G", nan_loss)]
    with pytest.raises(TrainingDiverged, match="step-000010 is kept") as info:
        trainer.run()
    assert "--lr-g" in str(info.value)
    assert [p.name for p in ckpt.list_checkpoints(first.run_dir / "checkpoints")][-1] == "step-000010"
    _, events = read_log(first.run_dir / "log.jsonl")
    assert events[-1]["event"] == "diverged"


FIXTURE_V1 = Path(__file__).parent / "fixtures" / "run-format-v1"


def _tree_bytes(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_format_1_run_loads_samples_and_resumes(tmp_path):
    """A run saved by artforge before the engine (checkpoint format 1) migrates on load and continues."""
    from conftest import write_blob_dataset
    import shutil

    run = tmp_path / "run"
    shutil.copytree(FIXTURE_V1, run)
    meta = json.loads((run / "checkpoints" / "step-000003" / ckpt.STATE_FILE).read_text())
    assert meta["format_version"] == 1  # the fixture really is the old format
    before = _tree_bytes(run / "checkpoints" / "step-000003")
    loaded = ckpt.load_checkpoint(run / "checkpoints" / "step-000003")
    state = loaded["state"]
    assert state["family"] == "dcgan" and state["task"] == "generation" and state["world_size"] == 1
    assert state["task_state"]["augment"]["p"] == 0.0 and state["task_state"]["self_cond"] is None
    assert torch.equal(state["rng"]["ranks"][0], state["rng"]["generator"])
    images = artforge.load(run, checkpoint="latest", device="cpu").sample(seeds=[0, 1])
    assert images.shape == (2, 32, 32, 3)
    assert _tree_bytes(run / "checkpoints" / "step-000003") == before  # migration never rewrites a checkpoint
    dataset = write_blob_dataset(tmp_path / "blobs-32.zip")  # the same seeded images it was trained on
    resumed = artforge.train(resume=run, dataset=dataset, steps=5)
    assert resumed.step == 5
    weights = ckpt.load_checkpoint(resumed.checkpoint)
    old = loaded["models"]["G_ema"]
    assert any(not torch.equal(old[k], weights["models"]["G_ema"][k]) for k in old)  # it trained on


def test_a_checkpoint_from_a_newer_format_is_refused_in_one_line(tmp_path):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(FIXTURE_V1, run)
    path = run / "checkpoints" / "step-000003" / ckpt.STATE_FILE
    meta = json.loads(path.read_text())
    meta["format_version"] = 99
    path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="format version 99; this artforge reads versions 1 to 2"):
        ckpt.load_checkpoint(path.parent)


def test_a_checkpoint_resumes_only_the_task_that_wrote_it(trained_run, blob_dataset, tmp_path):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    path = ckpt.resolve_checkpoint(run, "latest") / ckpt.STATE_FILE
    meta = json.loads(path.read_text())
    meta["task"] = "toy"
    path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="written by the toy task, not generation"):
        artforge.train(resume=run, steps=12)

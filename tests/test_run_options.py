"""Resuming a run whose options.json is damaged or missing, or that stopped before its first checkpoint."""

from __future__ import annotations

import inspect
import json
import shutil

import pytest
from torch import nn

from artforge.errors import NoCheckpointYet, RunError
from artforge.runs import checkpoint as ckpt
from artforge.commands import trainer
from artforge.runs.rundir import (OPTIONS_FILE, no_checkpoint_error, read_run_options,
                                      resolve_run)


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A writable copy of the shared 10-step run (checkpoints/step-000010)."""
    return shutil.copytree(trained_run, tmp_path / trained_run.name)


def _state(step: int, dataset: str = "/data/blobs.zip") -> dict:
    return {"arch": "dcgan", "artforge_version": "0.1.0", "precision": "fp32", "self_cond": None,
            "train_config": {"dataset": dataset, "steps": step, "batch": 8},
            "model_config": {"resolution": 32, "channels": 3, "width": 8},
            "label_names": ["blue", "red"]}


def _synthetic_run(tmp_path, steps=(10, 20)):
    run = tmp_path / "00000-blobs-dcgan"
    for step in steps:
        ckpt.save_checkpoint(run / "checkpoints", step, {"G": nn.Linear(2, 2)}, _state(step))
    return run


def test_intact_options_are_returned_as_they_are(run_copy):
    saved = json.loads((run_copy / OPTIONS_FILE).read_text())
    assert read_run_options(run_copy) == (saved, None)


@pytest.mark.parametrize("damage", ["truncated", "missing", "not the options"])
def test_damaged_options_are_rebuilt_from_the_latest_checkpoint(run_copy, damage):
    path = run_copy / OPTIONS_FILE
    original = json.loads(path.read_text())
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "missing":
        path.unlink()
    else:
        path.write_text("[]\n")
    damaged = path.read_bytes() if path.exists() else None
    options, note = read_run_options(run_copy)
    what = {"truncated": "is damaged (not valid JSON)", "missing": "is missing",
            "not the options": "is damaged (it lacks the train, model or dataset options)"}[damage]
    assert note == f"{path} {what}; rebuilt the options from checkpoint step-000010"
    assert options["train"] == original["train"]
    assert options["model"] == original["model"]
    for key in ("path", "resolution", "channels", "label_names"):
        assert options["dataset"][key] == original["dataset"][key], key
    assert (path.read_bytes() if path.exists() else None) == damaged  # user data is never rewritten


def test_rebuilt_options_resume_the_run_as_loop_resume_uses_them(run_copy):
    """The rebuilt dict is a drop-in for read_json(run_dir / OPTIONS_FILE) in trainer._resume."""
    from artforge.options import TrainConfig, from_dict
    from artforge.data.archive import open_dataset

    (run_copy / OPTIONS_FILE).write_text('{"train": {"steps": ')
    saved, note = read_run_options(run_copy)
    assert note
    cfg = from_dict(TrainConfig, {**saved["train"], "steps": 12, "dataset": saved["dataset"]["path"]})
    ds = open_dataset(saved["dataset"]["path"])
    assert (ds.resolution, ds.channels) == (saved["dataset"]["resolution"], saved["dataset"]["channels"])
    latest = ckpt.resolve_checkpoint(run_copy, "latest")
    result = trainer.Trainer(cfg, run_copy, ds, resume_from=latest).run()
    assert result.step == 12


def test_a_damaged_latest_state_falls_back_to_an_older_checkpoint(tmp_path):
    run = _synthetic_run(tmp_path)
    (run / OPTIONS_FILE).write_text("{")
    (run / "checkpoints" / "step-000020" / ckpt.STATE_FILE).write_text('{"arch": ')
    options, note = read_run_options(run)
    assert note.endswith("rebuilt the options from checkpoint step-000010")
    assert options["train"]["steps"] == 10
    assert options["model"] == {"arch": "dcgan", "resolution": 32, "channels": 3, "width": 8}
    assert options["dataset"] == {"path": "/data/blobs.zip", "resolution": 32, "channels": 3,
                                  "label_names": ["blue", "red"]}


def test_the_index_latest_is_preferred(tmp_path):
    run = _synthetic_run(tmp_path)
    ckpt.write_index(run / "checkpoints", {"latest": "step-000010", "best": "step-000010"})
    options, note = read_run_options(run)
    assert note == f"{run / OPTIONS_FILE} is missing; rebuilt the options from checkpoint step-000010"


@pytest.mark.parametrize("where", ["state", "task_state", "names only"])
def test_self_conditioned_cluster_names_are_not_taken_for_dataset_labels(tmp_path, where):
    run = tmp_path / "run"
    state = {**_state(5), "label_names": ["cluster-00", "cluster-01"]}
    if where == "state":
        state["self_cond"] = {"clusters": 2}
    elif where == "task_state":
        state["task_state"] = {"self_cond": {"clusters": 2}}
    ckpt.save_checkpoint(run / "checkpoints", 5, {"G": nn.Linear(2, 2)}, state)
    options, _ = read_run_options(run)
    assert options["dataset"]["label_names"] == []


def test_states_that_name_the_family_instead_of_the_arch(tmp_path):
    run = tmp_path / "run"
    state = {k: v for k, v in _state(5).items() if k != "arch"}
    ckpt.save_checkpoint(run / "checkpoints", 5, {"G": nn.Linear(2, 2)}, {**state, "family": "dcgan"})
    options, note = read_run_options(run)
    assert options["model"]["arch"] == "dcgan" and note.endswith("from checkpoint step-000005")


def test_damaged_options_and_no_checkpoint_name_the_file(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints" / ".tmp-step-000010-1").mkdir(parents=True)
    (run / OPTIONS_FILE).write_text('{"train": ')
    with pytest.raises(RunError) as info:
        read_run_options(run)
    assert str(info.value) == (f"{run / OPTIONS_FILE} is damaged (not valid JSON) and the run has no checkpoint "
                               f"to rebuild it from; fix: restore {run / OPTIONS_FILE} from a backup, or start a new run")


def test_checkpoints_without_the_options_name_the_file(tmp_path):
    run = _synthetic_run(tmp_path, steps=(10,))
    (run / "checkpoints" / "step-000010" / ckpt.STATE_FILE).write_text(json.dumps({"format_version": 1, "step": 10}))
    with pytest.raises(RunError, match="options.json is missing and no checkpoint of the run holds the options"):
        read_run_options(run)


def test_resolve_run_finds_a_run_without_options_only_when_asked(tmp_path):
    run = _synthetic_run(tmp_path)
    with pytest.raises(RunError, match="is not an artforge run"):
        resolve_run(run)
    assert resolve_run(run, options_optional=True) == run
    assert resolve_run(run / "checkpoints" / "step-000010", options_optional=True) == run
    assert resolve_run(tmp_path, announce=lambda _: None, options_optional=True) == run  # newest in a folder
    (tmp_path / "00001-empty").mkdir()  # neither options nor checkpoints: still not a run
    with pytest.raises(RunError):
        resolve_run(tmp_path / "00001-empty", options_optional=True)


def test_no_checkpoint_error_says_start_again(tmp_path):
    run = tmp_path / "00003-blobs-dcgan"
    with pytest.raises(NoCheckpointYet):
        ckpt.resolve_checkpoint(run, "latest")
    err = no_checkpoint_error(run)
    assert isinstance(err, RunError)  # can fail: the CLI catches RunError
    assert str(err) == (f"run {run} stopped before its first checkpoint; fix: start it again with the same "
                        f"options (they are in {run / OPTIONS_FILE})")


# ----------------------------------------------------------------------------- through artforge.train

def _resume_calls(name: str) -> bool:
    return name in inspect.getsource(trainer._resume)


@pytest.mark.skipif(not _resume_calls("read_run_options"), reason="trainer._resume does not call read_run_options yet")
def test_train_resume_with_truncated_options(run_copy, capsys):
    import artforge
    (run_copy / OPTIONS_FILE).write_text('{"artforge_version": "0.1')
    result = artforge.train(resume=run_copy, steps=12)
    assert result.step == 12
    out, err = capsys.readouterr()
    assert "rebuilt the options from checkpoint step-000010" in out + err  # the note is shown


@pytest.mark.skipif(not _resume_calls("no_checkpoint_error"), reason="trainer._resume does not call no_checkpoint_error yet")
def test_train_resume_before_the_first_checkpoint_says_start_again(run_copy):
    import artforge
    shutil.rmtree(run_copy / "checkpoints")
    with pytest.raises(RunError, match="stopped before its first checkpoint; fix: start it again"):
        artforge.train(resume=run_copy)

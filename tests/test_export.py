"""Export: a run's EMA generator as a standalone folder that loads and samples exactly like the run."""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

import artforge
from artforge import watermark
from artforge.cli import main
from artforge.errors import CheckpointError, UsageError
from artforge.exporting import CARD_FILE, MODEL_JSON, WEIGHTS_FILE

from conftest import TINY

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def run(one_thread, blob_dataset, tmp_path_factory):
    """Two checkpoints (steps 10 and 20), so a chosen step and 'best' can differ."""
    return artforge.train(blob_dataset, out=tmp_path_factory.mktemp("runs"), steps=20, **TINY).run_dir


def snapshot(folder):
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return code, lines[0]


def test_export_writes_weights_model_json_and_card_and_leaves_the_run_alone(run, tmp_path):
    before = snapshot(run)
    result = artforge.export(run, out=tmp_path / "model", checkpoint=10)
    assert snapshot(run) == before
    assert not isinstance(artforge.export, types.ModuleType)  # can fail: the API function, not the module of that name
    out = tmp_path / "model"
    assert result.out == out and result.step == 10 and result.checkpoint.name == "step-000010"
    assert sorted(p.name for p in out.iterdir()) == sorted([WEIGHTS_FILE, MODEL_JSON, CARD_FILE])
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folder left beside it

    weights = load_file(out / WEIGHTS_FILE)
    stored = load_file(run / "checkpoints" / "step-000010" / "model.safetensors")
    ema = {k[len("G_ema."):]: v for k, v in stored.items() if k.startswith("G_ema.")}
    assert ema and sorted(weights) == sorted(f"G.{k}" for k in ema)  # the EMA generator only, keys G.*
    for key, value in ema.items():
        assert np.array_equal(weights[f"G.{key}"].numpy(), value.numpy())

    meta = json.loads((out / MODEL_JSON).read_text())
    assert meta["format_version"] == 1 and meta["arch"] == "dcgan" and meta["step"] == 10
    assert meta["model_config"]["z_dim"] == TINY["z_dim"] and meta["model_config"]["resolution"] == 32
    assert meta["label_names"] == [] and meta["label_weights"] == []
    assert meta["source"]["run"] == str(run.resolve()) and meta["source"]["checkpoint"] == "step-000010"
    assert meta["source"]["step"] == 10 and meta["artforge_version"] == artforge.__version__


@pytest.mark.parametrize("checkpoint", ["best", "10"])
def test_an_export_samples_exactly_like_its_checkpoint(run, tmp_path, checkpoint):
    result = artforge.export(run, out=tmp_path / "model", checkpoint=checkpoint)
    exported = artforge.load(result.out, device="cpu")
    original = artforge.load(run, checkpoint=result.checkpoint.name, device="cpu")
    assert (exported.run_dir, exported.checkpoint, exported.step) == (result.out, result.out, original.step)
    assert exported.arch == original.arch and exported.model_config == original.model_config
    np.testing.assert_array_equal(exported.sample(seeds=SEEDS), original.sample(seeds=SEEDS))
    np.testing.assert_array_equal(exported.sample(seeds=SEEDS, truncation=0.5),
                                  original.sample(seeds=SEEDS, truncation=0.5))
    assert artforge.load(result.out, checkpoint=str(result.step), device="cpu").step == result.step
    other = "20" if checkpoint == "10" else "1"
    with pytest.raises(CheckpointError, match="holds one checkpoint"):
        artforge.load(result.out, checkpoint=other, device="cpu")


def test_cli_export_then_sample_the_folder(run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(run)]) == 0  # default: exports/<run folder name>
    out = tmp_path / "exports" / run.name
    assert f"exported {run / 'checkpoints'}" in capsys.readouterr().out and (out / MODEL_JSON).is_file()
    assert main(["sample", str(out), "--seeds", "0-2", "--out", "picks"]) == 0
    capsys.readouterr()
    best = artforge.load(run, device="cpu").sample(seeds=SEEDS)
    for seed in SEEDS:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "picks" / f"seed{seed:04d}.png")),
                                      watermark.embed(best[seed]))
    assert main(["sample", str(out), "--n", "2"]) == 0  # default output: inside the export folder
    assert len(list((out / "samples").rglob("seed*.png"))) == 2

    code, line = one_line_error(capsys, "export", run)  # the folder is not empty any more
    assert code == 2 and "not empty" in line and "--force" in line
    assert main(["export", str(run), "--checkpoint", "10", "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([WEIGHTS_FILE, MODEL_JSON, CARD_FILE])
    assert json.loads((out / MODEL_JSON).read_text())["step"] == 10
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [run.name]
    code, line = one_line_error(capsys, "export", run, "--checkpoint", "nope", "--out", "x")
    assert code == 1 and "--checkpoint 'nope'" in line


def test_evaluate_an_export_against_the_dataset_it_records_or_the_one_given(run, blob_dataset, tmp_path,
                                                                            monkeypatch, capsys):
    """An export has no options.json: --real names the reference images, else its model.json's dataset."""
    monkeypatch.setenv("ARTFORGE_CACHE", str(tmp_path / "cache"))
    out = artforge.export(run, out=tmp_path / "model", checkpoint=10).out
    evaluate = ["evaluate", str(out), "--metrics", "swd", "--n", "8", "--device", "cpu", "--quiet"]
    assert main(evaluate + ["--real", str(blob_dataset)]) == 0
    assert "evaluated model" in capsys.readouterr().out
    report = json.loads((out / "eval" / "model.json").read_text())  # beside the model, as sample writes there
    assert report["fake"]["kind"] == "generator" and report["fake"]["step"] == 10
    # the export draws what its run drew at step 10: the same score as the run's checkpoint
    from artforge.options import EvaluateConfig
    from artforge.metrics.evaluate import evaluate as evaluate_run
    of_run = evaluate_run(EvaluateConfig(run=str(run), checkpoint="10", real=str(blob_dataset), metrics=("swd",),
                                         n=8, device="cpu", progress=False, out=str(tmp_path / "run-eval.json")))
    assert report["results"] == of_run["results"]

    assert main(evaluate + ["--out", str(tmp_path / "own.json")]) == 0  # no --real: the dataset it records
    own = json.loads((tmp_path / "own.json").read_text())
    assert own["real"]["kind"] == "dataset" and Path(own["real"]["path"]).resolve() == blob_dataset.resolve()

    meta = json.loads((out / MODEL_JSON).read_text())
    for dataset, needle in (({"path": str(tmp_path / "moved.zip")}, "moved.zip, which is not there"),
                            ({}, "does not record its training dataset")):
        (out / MODEL_JSON).write_text(json.dumps({**meta, "dataset": dataset}))
        code, line = one_line_error(capsys, *evaluate)
        assert code == 2 and needle in line and "the real option" in line
    assert main(evaluate + ["--real", str(blob_dataset), "--out", str(tmp_path / "given.json")]) == 0


def test_a_non_empty_or_overlapping_out_is_refused(run, tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        artforge.export(run, out=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and [p.name for p in tmp_path.iterdir()] == ["model"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (artforge.export(run, out=empty).out / MODEL_JSON).is_file()  # an empty folder is fine
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        artforge.export(run, out=tmp_path / "file")
    before = snapshot(run)
    for inside in (run, run / "export", run.parent):
        with pytest.raises(UsageError, match="overlaps the run"):
            artforge.export(run, out=inside, force=True)
    assert snapshot(run) == before
    with pytest.raises(UsageError, match="already an exported model"):
        artforge.export(empty, out=tmp_path / "again")


def _break_json(text):
    return text[: len(text) // 2]


def _drop_arch(text):
    meta = json.loads(text)
    del meta["arch"]
    return json.dumps(meta)


def _newer_format(text):
    return json.dumps({**json.loads(text), "format_version": 99})


def _wider_model(text):  # model.json and the weights disagree; the checksum still matches
    meta = json.loads(text)
    meta["model_config"]["width"] *= 2
    return json.dumps(meta)


@pytest.mark.parametrize("damage, name, needle", [
    (_break_json, MODEL_JSON, "not valid JSON"),
    (_drop_arch, MODEL_JSON, "'arch'"),
    (_newer_format, MODEL_JSON, "format version 99"),
    (_wider_model, WEIGHTS_FILE, "does not match its architecture"),
])
def test_a_damaged_model_json_is_a_one_line_error_naming_the_file(run, tmp_path, capsys, damage, name, needle):
    out = artforge.export(run, out=tmp_path / "model").out
    path = out / MODEL_JSON
    path.write_text(damage(path.read_text()))
    with pytest.raises(CheckpointError, match=needle) as info:
        artforge.load(out, device="cpu")
    assert str(out / name) in str(info.value)
    code, line = one_line_error(capsys, "sample", out, "--n", "1")
    assert code == 1 and str(out / name) in line and needle in line


def test_damaged_or_missing_weights_are_a_one_line_error_naming_the_file(run, tmp_path):
    out = artforge.export(run, out=tmp_path / "model").out
    weights = out / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="checksum differs") as info:
        artforge.load(out, device="cpu")
    assert str(weights) in str(info.value)
    weights.unlink()
    with pytest.raises(CheckpointError, match=f"{WEIGHTS_FILE} is missing"):
        artforge.load(out, device="cpu")


def test_model_card_names_steps_dataset_quality_and_how_to_sample(run, tmp_path):
    # the last checkpoint: which of the two is best depends on the CPU's rounding (step 10 on a Zen 4)
    out = artforge.export(run, out=tmp_path / "model", checkpoint="latest").out
    card = (out / CARD_FILE).read_text()
    options = json.loads((run / "options.json").read_text())
    meta = json.loads((out / MODEL_JSON).read_text())
    assert "| steps | 20 |" in card and "| images shown | 0.16 kimg |" in card
    assert "| name | blobs-32 |" in card and f"| path | {options['dataset']['path']} |" in card
    assert "| images | 40 |" in card and "32x32 RGB" in card and "| recipe | stable |" in card
    assert f"artforge sample {out} --seeds 0-15" in card
    assert f"checkpoint `{meta['source']['checkpoint']}`" in card and "swd" in card
    assert "| 10 | 0.08 |" in card and "| 20 | 0.16 |" in card  # the quality history, one row per checkpoint
    assert "CC BY-SA" not in card


def test_model_card_of_an_openmoji_run_names_its_licence(run, tmp_path):
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    options = json.loads((copy / "options.json").read_text())
    options["dataset"].update(name="openmoji-32", path=str(tmp_path / "gone" / "openmoji-32.zip"))
    (copy / "options.json").write_text(json.dumps(options))
    card = (artforge.export(copy, out=tmp_path / "model").out / CARD_FILE).read_text()
    assert "| name | openmoji-32 |" in card and "CC BY-SA 4.0" in card


def test_a_self_conditioned_export_keeps_its_labels_and_weights(one_thread, many_blobs, tmp_path):
    run = artforge.train(many_blobs, out=tmp_path / "runs", steps=2, output_bias=False, **TINY).run_dir
    out = artforge.export(run, out=tmp_path / "model").out
    exported, original = artforge.load(out, device="cpu"), artforge.load(run, device="cpu")
    assert exported.label_names == original.label_names == [f"cluster-{i:02d}" for i in range(4)]
    assert exported.label_weights == original.label_weights and exported.num_classes == 4
    np.testing.assert_array_equal(exported.sample(seeds=SEEDS), original.sample(seeds=SEEDS))
    np.testing.assert_array_equal(exported.sample(seeds=SEEDS, label="cluster-02"),
                                  original.sample(seeds=SEEDS, label="cluster-02"))
    assert "self-conditioning on 4 clusters" in (out / CARD_FILE).read_text()


def test_a_failed_write_leaves_the_old_folder_and_no_temporary_one(run, tmp_path, monkeypatch):
    import errno

    import artforge.exporting as exporting

    out = artforge.export(run, out=tmp_path / "model", checkpoint=10).out
    before = snapshot(out)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(exporting, "save_file", no_space)
    with pytest.raises(CheckpointError, match="could not write .*No space left on device"):
        artforge.export(run, out=out, force=True)
    assert snapshot(out) == before and [p.name for p in tmp_path.iterdir()] == ["model"]
    assert artforge.load(out, device="cpu").step == 10

"""The command line: bad input gets one clear line, a non-zero exit and no traceback."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import zipfile

import pytest

from artforge.cli import main
from artforge.runs import checkpoint as ckpt

TINY_FLAGS = ["--batch", "8", "--width", "8", "--z-dim", "16", "--eval-images", "16", "--no-tensorboard",
              "--device", "cpu", "--quiet"]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("args, code, needles", [
    (["prepare", "DIR/missing", "--size", "32"], 1, ["does not exist"]),
    (["prepare", "DIR", "--size", "abc"], 2, ["--size", "abc"]),
    (["prepare", "DIR", "--size", "0"], 2, ["--size", ">= 4"]),
    (["prepare", "DIR", "--split", "0.5,0.1"], 2, ["--split"]),
    (["prepare", "DIR", "--fit", "squash"], 2, ["--fit", "squash"]),
    (["train", "DIR/nope.zip"], 1, ["nope.zip does not exist", "artforge prepare"]),
    (["train"], 2, ["no dataset given"]),
    (["train", "DIR/empty.zip"], 1, ["holds no images"]),
    (["train", "DIR/blobs.zip", "--batch", "-3"], 2, ["--batch"]),
    (["train", "DIR/blobs.zip", "--precision", "fp16", "--device", "cpu", "--steps", "1"], 2, ["fp16"]),
    (["train", "DIR/blobs.zip", "--augment", "flip,wobble"], 2, ["--augment", "wobble"]),
    (["train", "--resume", "DIR"], 1, ["not an artforge run"]),
    (["sample", "DIR"], 1, ["not an artforge run", "artforge train"]),
    (["sample", "DIR/missing-run"], 1, ["does not exist"]),
    (["sample", "RUN", "--checkpoint", "nope"], 1, ["--checkpoint 'nope'"]),
    (["sample", "RUN", "--n", "0"], 2, ["--n"]),
    (["sample", "RUN", "--seeds", "5-1"], 2, ["--seeds"]),
    (["report", "DIR"], 1, ["not an artforge run"]),
    (["frobnicate"], 2, ["invalid choice"]),
])
def test_bad_input_is_one_line(capsys, tmp_path, blob_dataset, trained_run, args, code, needles):
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("readme.txt", "no images here")
    (tmp_path / "blobs.zip").write_bytes(blob_dataset.read_bytes())
    args = [a.replace("DIR", str(tmp_path)).replace("RUN", str(trained_run)) for a in args]
    got, _, err = run_cli(capsys, *args)
    assert got == code
    assert_one_line_error(err, *needles)


def test_incompatible_checkpoint_version(capsys, tmp_path, trained_run):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    for path in ckpt.list_checkpoints(run / "checkpoints"):
        meta = json.loads((path / ckpt.STATE_FILE).read_text())
        meta["format_version"] = 0
        (path / ckpt.STATE_FILE).write_text(json.dumps(meta))
    code, _, err = run_cli(capsys, "sample", run, "--n", "1")
    assert code == 1
    assert_one_line_error(err, "format version 0")


def test_disk_full_during_training_save(capsys, tmp_path, blob_dataset, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "save_file", no_space)
    code, _, err = run_cli(capsys, "train", blob_dataset, "--out", tmp_path, "--steps", "2", *TINY_FLAGS)
    assert code == 1
    assert_one_line_error(err, "disk is full", "start the run again")  # no checkpoint before step 2
    run = next(tmp_path.iterdir())
    assert not any(p.name.startswith(".tmp") for p in (run / "checkpoints").iterdir())


def test_help_shows_examples(capsys):
    for command in ("prepare", "train", "sample", "report"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"artforge {command}" in out


def test_no_traceback_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "artforge", "sample", str(tmp_path / "nothing")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("artforge sample: error:")


# ----------------------------------------------------------------------------- no torch to parse

TORCH_FREE = """
import sys, time
started = time.perf_counter()
from artforge.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print(time.perf_counter() - started, 'torch' in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["train", "--help"], ["sample", "--help"],
                                  ["evaluate", "--help"], ["bench", "--help"], ["prepare", "--help"]])
def test_version_and_help_do_not_import_torch(args):
    proc = subprocess.run([sys.executable, "-c", TORCH_FREE.format(args=args)], capture_output=True, text=True,
                          timeout=60)
    seconds, torch_loaded = proc.stderr.split()[-2:]
    assert torch_loaded == "False"
    assert proc.stdout.strip()  # it did print the version or the help
    if args == ["--version"]:
        assert float(seconds) < 1.0 and proc.stdout.strip().startswith("artforge ")


def test_train_help_lists_the_registries_choices(capsys):
    from artforge.options import catalog

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "{" + ",".join(catalog.RECIPES) + "}" in out and "{" + ",".join(catalog.LOSSES) + "}" in out

"""The commands layer: every command run through the CLI and through the Python API gives the same result."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

import artforge
from artforge import commands
from artforge.cli import build_parser, main
from artforge.runs import checkpoint as ckpt

from conftest import STYLE_TINY, TINY

TRANSLATE = dict(batch=4, width=8, tick=2, checkpoint_every=100, progress=False, tensorboard=False, device="cpu")


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _weights(run) -> dict[str, torch.Tensor]:
    return load_file(str(ckpt.resolve_checkpoint(run, "latest") / ckpt.MODEL_FILE))


def _same_weights(a, b) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def _same_pngs(a, b) -> list[str]:
    """The PNGs two folders share by name, each pixel-identical (else an assertion fails)."""
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.png"))
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*.png")) and names
    for name in names:
        assert np.array_equal(_pixels(a / name), _pixels(b / name)), name
    return names


def _flags(options: dict) -> list[str]:
    out = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + flag[2:])
        else:
            out += [flag, ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return out


# ----------------------------------------------------------------------------- one registry, both front ends

API_OF = {"prepare": "prepare", "prepare-audio": "prepare_audio", "prepare-music": "prepare_music", "train": "train",
          "sample": "sample", "evaluate": "evaluate", "export": "export", "report": "report",
          "translate": "translate", "upscale": "upscale", "recreate": "recreate", "verify": "verify"}
# explore and bench are subpackages of artforge, so the API reaches them as commands.run("explore", {...})
THROUGH_RUN = {"explore", "bench"}
FRONT_ENDS = {"studio"}  # a subcommand that is a front end over the commands, not one of them


def test_every_command_has_a_cli_subcommand_and_an_api_function():
    assert set(API_OF) | THROUGH_RUN == set(commands.COMMANDS)
    subcommands = build_parser()._subparsers._group_actions[0].choices
    assert set(commands.COMMANDS) | FRONT_ENDS == set(subcommands)
    assert all(callable(getattr(artforge, name)) for name in API_OF.values())


# ----------------------------------------------------------------------------- the same result both ways


def test_prepare(tmp_path):
    src = tmp_path / "art"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8)).save(src / f"{i}.png")
    assert main(["prepare", str(src), "--size", "16", "--out", str(tmp_path / "cli.zip"), "--workers", "1",
                 "--quiet"]) == 0
    artforge.prepare(src, size=16, out=str(tmp_path / "api.zip"), workers=1, progress=False)
    with zipfile.ZipFile(tmp_path / "cli.zip") as a, zipfile.ZipFile(tmp_path / "api.zip") as b:
        images = [n for n in a.namelist() if n.endswith(".png")]
        assert len(images) == 6 and images == [n for n in b.namelist() if n.endswith(".png")]
        assert all(a.read(n) == b.read(n) for n in images)


@pytest.fixture(scope="module")
def twin_runs(blob_dataset, tmp_path_factory):
    """The same tiny run trained through the CLI and through the API."""
    out = tmp_path_factory.mktemp("twins")
    options = dict(TINY, steps=4)
    options.pop("progress")
    assert main(["train", str(blob_dataset), "--out", str(out / "cli"), *_flags(options), "--quiet"]) == 0
    api = artforge.train(blob_dataset, out=out / "api", progress=False, **options).run_dir
    return next((out / "cli").iterdir()), api


def test_train(twin_runs):
    cli, api = twin_runs
    assert _same_weights(cli, api)
    a, b = (json.loads((run / "options.json").read_text())["train"] for run in twin_runs)
    assert {k: v for k, v in a.items() if k != "out"} == {k: v for k, v in b.items() if k != "out"}


def test_sample_recreate_and_verify(twin_runs, tmp_path, capsys):
    run = twin_runs[0]
    assert main(["sample", str(run), "--seeds", "0-3", "--out", str(tmp_path / "cli")]) == 0
    artforge.sample(run, seeds="0-3", out=str(tmp_path / "api"))
    assert len(_same_pngs(tmp_path / "cli", tmp_path / "api")) == 5  # four seeds and the grid
    image = tmp_path / "cli" / "seed0002.png"
    assert main(["recreate", str(image), "--out", str(tmp_path / "r-cli.png")]) == 0
    result = artforge.recreate(image, out=str(tmp_path / "r-api.png"))
    assert result["identical"] and np.array_equal(_pixels(tmp_path / "r-cli.png"), _pixels(tmp_path / "r-api.png"))
    capsys.readouterr()
    assert main(["verify", str(image), str(tmp_path / "r-api.png"), "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == artforge.verify([image, tmp_path / "r-api.png"])
    assert [item["watermarked"] for item in printed] == [True, True]


def test_evaluate(twin_runs, tmp_path, capsys, blob_dataset):
    run = twin_runs[0]
    assert main(["evaluate", str(run), "--real", str(blob_dataset), "--metrics", "swd", "--n", "16",
                 "--out", str(tmp_path / "cli.json"), "--quiet"]) == 0
    report = artforge.evaluate(run, real=str(blob_dataset), metrics="swd", n=16, out=str(tmp_path / "api.json"))
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli["results"]["swd"] == report["results"]["swd"]
    printed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["swd", f"{report['results']['swd']:.1f}"] in printed  # the CLI prints the API's number


def test_export_and_report(twin_runs, tmp_path):
    run = twin_runs[0]
    assert main(["export", str(run), "--out", str(tmp_path / "cli")]) == 0
    artforge.export(run, out=str(tmp_path / "api"))
    a, b = (load_file(str(tmp_path / side / "model.safetensors")) for side in ("cli", "api"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert main(["report", str(run), "--out", str(tmp_path / "cli.html")]) == 0
    artforge.report(run, out=tmp_path / "api.html")
    assert (tmp_path / "cli.html").read_text() == (tmp_path / "api.html").read_text()


def test_explore_mix(blob_dataset, tmp_path_factory, tmp_path):
    run = artforge.train(blob_dataset, out=tmp_path_factory.mktemp("style"), steps=2, **STYLE_TINY).run_dir
    assert main(["explore", "mix", str(run), "--rows", "0,1", "--cols", "2,3", "--out", str(tmp_path / "cli"),
                 "--device", "cpu"]) == 0
    result = commands.run("explore", dict(action="mix", run=str(run), rows="0,1", cols="2,3", out=str(tmp_path / "api"),
                                          device="cpu"))
    assert len(_same_pngs(tmp_path / "cli", tmp_path / "api")) == 5 and result["grid"].exists()


def test_translate_and_upscale(pairs_dataset, blob_dataset, tmp_path_factory, tmp_path):
    runs = tmp_path_factory.mktemp("translation")
    pix2pix = artforge.train(pairs_dataset, out=runs, steps=2, task="pix2pix", **TRANSLATE).run_dir
    sr = artforge.train(blob_dataset, out=runs, steps=2, task="sr", gan_weight=0.0,
                        **dict(TRANSLATE, width=4, blocks=1, crop=32, batch=2)).run_dir
    image = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(image)
    for verb, run in (("translate", pix2pix), ("upscale", sr)):
        assert main([verb, str(run), str(image), "--out", str(tmp_path / f"{verb}-cli"), "--quiet"]) == 0
        result = getattr(artforge, verb)(run, image, out=str(tmp_path / f"{verb}-api"))
        assert _same_pngs(tmp_path / f"{verb}-cli", tmp_path / f"{verb}-api") == ["in.png"]
        assert result.out == tmp_path / f"{verb}-api"


def test_bench(tmp_path):
    options = dict(dataset="grid", recipe="dcgan", seeds=1, steps=20, width=16, jobs=1)
    assert main(["bench", "toy", *_flags(options), "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    result = commands.run("bench", dict(target="toy", out=str(tmp_path / "api"), progress=False, **options))

    def scores(folder):  # every number but the run's wall time
        runs = json.loads((folder / "toy-bench.json").read_text())["runs"]
        return [{k: v for k, v in run.items() if k != "seconds"} for run in runs]

    assert scores(tmp_path / "cli") == scores(tmp_path / "api") and len(scores(tmp_path / "api")) == 1
    assert result["out"] == tmp_path / "api"


def test_the_api_keywords_are_the_cli_options():
    """One metadata source: each command's options dataclass is what both the CLI and the API take."""
    from artforge.options import (EvaluateConfig, ExportConfig, PrepareConfig, RecreateConfig, SampleConfig,
                                 ToyBenchConfig, TranslateConfig, UpscaleConfig, VerifyConfig)

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    for name, cls in {"prepare": PrepareConfig, "sample": SampleConfig, "evaluate": EvaluateConfig,
                      "export": ExportConfig, "recreate": RecreateConfig, "verify": VerifyConfig,
                      "bench": ToyBenchConfig, "translate": TranslateConfig, "upscale": UpscaleConfig}.items():
        dests = {a.dest for a in sub[name]._actions} - {"help", "quiet"}
        fields = {f.name for f in dataclasses.fields(cls)} - {"progress"}
        assert dests == fields, (name, dests ^ fields)

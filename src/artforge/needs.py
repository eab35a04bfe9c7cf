"""What each command needs installed, given its inputs, checked before the command does any work.

* ``prepare``: a built-in set's extras (``data.builtin.Builtin.extras``: openmoji; the openmoji-pairs,
  -lineart and -colour sets also pairs); a folder or zip of images needs none.
* ``prepare audio``: audio; the built-in drums also music (their hits are written as MIDI).
* ``prepare music``: music.
* ``train``, ``sample``, ``evaluate``, ``report``: the extras of what the dataset or run holds
  (``modality.Modality.extras``, worded by its ``topic``; the records import no torch): audio for sounds,
  music for piano rolls, none for images. The dataset's manifest or the run's options.json is read,
  nothing else; a path that is neither is left to the command, which says what is wrong with it.
* ``explore interpolate`` writing MP4: video.

The other commands need no extra: export, translate, upscale, recreate and verify read and write
weights and images only, and bench trains on 2-D points. ``--tensorboard`` needs none either: a run
logs to TensorBoard when it is installed and skips it otherwise, as it always has.

The CLI and the Python API call ``check(command, options)`` first, with the command's options by
their names (the CLI's parsed arguments, the API's keywords).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .options.catalog import FAMILY_MODALITIES
from .errors import RunError
from .extras import need

Need = tuple[tuple[str, ...], str]  # (extras, what needs them: "preparing sounds")

DRUMS_EXTRAS = ("audio", "music")  # the built-in drums: hits written as MIDI (pretty_midi), read back as WAVs


def _of_modalities(modalities: tuple[str, ...], what: Callable[[str], str]) -> list[Need]:
    """The extras of ``modalities``, or none; ``what(topic)`` words the need ("sampling sounds ...")."""
    from .modality import MODALITIES  # torch-free records

    records = [MODALITIES[m] for m in modalities if m in MODALITIES]
    extras = tuple(dict.fromkeys(e for record in records for e in record.extras))
    if not extras:
        return []
    return [(extras, what(next(record.topic for record in records if record.topic)))]


def dataset_modalities(dataset: str | Path) -> tuple[str, ...]:
    from .data.archive import dataset_modality

    modality = dataset_modality(dataset)
    return (modality,) if modality else ()


def run_family(run: str | Path) -> str | None:
    """The model family of a run (or a checkpoint in one, a folder of runs: the newest, an exported model),
    from its options.json or model.json; None when ``run`` is none of them."""
    from .runs.rundir import RunLayout, resolve_run
    from .utils.files import read_json

    try:
        options = read_json(RunLayout(resolve_run(run, announce=lambda *_: None)).options)
    except RunError:
        return _export_family(Path(run))
    except (OSError, ValueError):
        return None
    if not isinstance(options, dict):
        return None
    arch = [part.get("arch") for part in (options.get("model"), options.get("train")) if isinstance(part, dict)]
    return next((a for a in arch if isinstance(a, str)), None)


def _export_family(path: Path) -> str | None:
    if not path.is_dir():
        return None
    from .sampling import MODEL_JSON  # the exported folder's names live there (and torch: loading follows anyway)
    from .utils.files import read_json

    try:
        meta = read_json(path / MODEL_JSON)
    except (OSError, ValueError):
        return None
    return meta.get("arch") if isinstance(meta, dict) and isinstance(meta.get("arch"), str) else None


def run_modalities(run: str | Path) -> tuple[str, ...]:
    return FAMILY_MODALITIES.get(run_family(run) or "", ())


# ----------------------------------------------------------------------------- each command's needs

def _prepare(o: Mapping[str, Any]) -> list[Need]:
    from .data.builtin import BUILTINS

    source = str(o.get("source") or "")
    if not source or Path(source).expanduser().exists():  # a folder or zip of images: nothing optional
        return []
    builtin = BUILTINS.get(source)
    return [(builtin.extras, f"the built-in {source} dataset")] if builtin else []


def _prepare_audio(o: Mapping[str, Any]) -> list[Need]:
    source = str(o.get("source") or "")
    if source == "drums" and not Path(source).exists():  # prepare audio takes a path called drums first
        return [(DRUMS_EXTRAS, "the built-in drums")]
    return [(("audio",), "preparing sounds")]


def _prepare_music(o: Mapping[str, Any]) -> list[Need]:
    return [(("music",), "preparing music")]


def _train(o: Mapping[str, Any]) -> list[Need]:
    if o.get("resume"):
        return _of_modalities(run_modalities(o["resume"]), lambda noun: f"training on {noun} (run {o['resume']})")
    if not o.get("dataset"):
        return []
    return _of_modalities(dataset_modalities(o["dataset"]),
                          lambda noun: f"training on {noun} (dataset {o['dataset']})")


def _on_run(verb: str) -> Callable[[Mapping[str, Any]], list[Need]]:
    def needs(o: Mapping[str, Any]) -> list[Need]:
        run = o.get("run")
        return _of_modalities(run_modalities(run), lambda noun: f"{verb} {noun} (run {run})") if run else []
    return needs


def _explore(o: Mapping[str, Any]) -> list[Need]:
    if o.get("action") != "interpolate":
        return []
    from .options.explore import VIDEO_FORMATS  # explore interpolate's default formats

    return [(("video",), "writing MP4")] if "mp4" in (o.get("format") or VIDEO_FORMATS) else []


NEEDS: dict[str, Callable[[Mapping[str, Any]], list[Need]]] = {
    "prepare": _prepare,
    "prepare-audio": _prepare_audio,
    "prepare-music": _prepare_music,
    "train": _train,
    "sample": _on_run("sampling"),
    "evaluate": _on_run("scoring"),
    "report": _on_run("a report of"),
    "explore": _explore,
}


def needs(command: str, options: Mapping[str, Any]) -> list[Need]:
    """What ``command`` needs installed given ``options``; commands not in ``NEEDS`` need nothing."""
    rule = NEEDS.get(command)
    return rule(options) if rule else []


def check(command: str, options: Mapping[str, Any]) -> None:
    """Raise MissingDependency, naming the extra to install, when ``command`` cannot run here."""
    for extras, purpose in needs(command, options):
        need(extras, purpose)

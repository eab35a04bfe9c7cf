"""Run folders: ``runs/00003-openmoji-64-dcgan/`` with ``options.json`` and everything the run writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunError
from ..utils.files import read_json

OPTIONS_FILE = "options.json"
_NUMBERED = re.compile(r"^(\d{5,})-")
_CLUSTER_NAMES = re.compile(r"cluster-\d+(,cluster-\d+)*")  # self-conditioning's label names


@dataclass(frozen=True)
class RunLayout:
    """The names of a run folder's files, in one place: ``RunLayout(run_dir).log``.

        options.json              the run's options (OPTIONS_FILE)
        log.jsonl                 metrics and events, one JSON object a line
        grids/000200.png          the preview of each tick
        checkpoints/step-000200/  checkpoints; their names and insides are checkpoint.py's
        eval/step-000200.json     evaluations (artforge evaluate, --eval-every)
        samples/                  artforge sample's folders
        report.html               artforge report
        tensorboard/              TensorBoard's event files
    """

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def options(self) -> Path:
        return self.root / OPTIONS_FILE

    @property
    def log(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def grids(self) -> Path:
        return self.root / "grids"

    def grid(self, step: int) -> Path:
        return self.grids / f"{step:06d}.png"

    @property
    def checkpoints(self) -> Path:
        from . import checkpoint as ckpt  # lazily: checkpoint.py imports torch

        return self.root / ckpt.CHECKPOINTS_DIR

    def checkpoint(self, step: int) -> Path:
        from . import checkpoint as ckpt

        return self.checkpoints / ckpt.checkpoint_name(step)

    @property
    def eval(self) -> Path:
        return self.root / "eval"

    def eval_result(self, name: str) -> Path:
        """An evaluation's JSON, named after its checkpoint (``step-000200``)."""
        return self.eval / f"{name}.json"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "run"


def new_run_dir(out: str | Path, name: str) -> Path:
    """Create the next numbered run folder under ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunError(f"the runs folder {out} is a file, not a folder", "give a folder for runs, e.g. runs")
    out.mkdir(parents=True, exist_ok=True)
    while True:
        numbers = [int(m.group(1)) for p in out.iterdir() if (m := _NUMBERED.match(p.name))]
        run_dir = out / f"{max(numbers, default=-1) + 1:05d}-{_safe(name)}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:  # another process took this number first
            continue


def is_run(path: Path) -> bool:
    return RunLayout(path).options.is_file()


def _has_checkpoint(path: Path) -> bool:
    """A run folder that lost its options.json still holds checkpoints/step-*/state.json."""
    from . import checkpoint as ckpt

    return bool(ckpt.list_checkpoints(RunLayout(path).checkpoints))


def resolve_run(path: str | Path, announce=print, *, options_optional: bool = False) -> Path:
    """A run folder from a run folder, a checkpoint inside one, or a folder of runs (the newest).

    ``options_optional``: a folder without options.json counts as a run when it holds a checkpoint
    (for resuming, where ``read_run_options`` rebuilds the options from the checkpoint).
    """
    path = Path(path)

    def run_like(p: Path) -> bool:
        return is_run(p) or (options_optional and _has_checkpoint(p))

    if not path.exists():
        raise RunError(f"run {path} does not exist", "pass a folder made by 'artforge train', e.g. runs/00000-...")
    if run_like(path):
        return path
    for parent in list(path.parents)[:2]:  # RUN/checkpoints/step-000500 or RUN/checkpoints
        if run_like(parent):
            return parent
    if path.is_dir():
        runs = sorted((p for p in path.iterdir() if _NUMBERED.match(p.name) and run_like(p)),
                      key=lambda p: int(_NUMBERED.match(p.name).group(1)))
        if runs:
            announce(f"using the newest run in {path}: {runs[-1]}")
            return runs[-1]
    raise RunError(f"{path} is not an artforge run (no {OPTIONS_FILE})",
                   "pass a folder made by 'artforge train', e.g. runs/00000-openmoji-64-dcgan")


# ----------------------------------------------------------------------------- resuming

def read_run_options(run_dir: str | Path) -> tuple[dict, str | None]:
    """The run's saved options (options.json's structure) and a note, None when options.json was fine.

    When options.json is missing or damaged, the options are rebuilt from the newest readable
    checkpoint's state.json (training and model configs, architecture; the dataset's path, resolution
    and channels), and the note says so. options.json itself is never rewritten. Raises RunError
    naming the file when neither is usable.
    """
    from . import checkpoint as ckpt
    from .migrations import migrate_run_options

    layout = RunLayout(run_dir)
    path = layout.options
    options, problem = _read_options_file(path)
    if options is not None:
        return migrate_run_options(options), None
    ckpt_dir = layout.checkpoints
    newest_first = list(reversed(ckpt.list_checkpoints(ckpt_dir)))
    latest = ckpt.last_good_checkpoint(ckpt_dir)
    if latest is not None:
        newest_first = [latest] + [p for p in newest_first if p != latest]
    for checkpoint in newest_first:
        try:
            state = read_json(checkpoint / ckpt.STATE_FILE)
        except (OSError, ValueError):
            continue
        rebuilt = _options_from_state(state, checkpoint.name)
        if rebuilt is not None:
            return migrate_run_options(rebuilt), f"{path} {problem}; rebuilt the options from checkpoint {checkpoint.name}"
    held = "no checkpoint of the run holds the options" if newest_first else "the run has no checkpoint"
    raise RunError(f"{path} {problem} and {held} to rebuild it from",
                   f"restore {path} from a backup, or start a new run")


def _read_options_file(path: Path) -> tuple[dict | None, str]:
    """(options, "") or (None, what is wrong with the file, e.g. "is damaged (not valid JSON)")."""
    if not path.is_file():
        return None, "is missing"
    try:
        options = read_json(path)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return None, "is damaged (not valid JSON)"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    parts_ok = isinstance(options, dict) and all(isinstance(options.get(k), dict) for k in ("train", "model", "dataset"))
    if not parts_ok or not all(k in options["dataset"] for k in ("path", "resolution", "channels")):
        return None, "is damaged (it lacks the train, model or dataset options)"
    return options, ""


def _options_from_state(state, name: str) -> dict | None:
    """options.json's structure from a checkpoint's state.json; None if it lacks what is needed."""
    if not isinstance(state, dict):
        return None
    train, model = state.get("train_config"), state.get("model_config")
    if not (isinstance(train, dict) and isinstance(model, dict)):
        return None
    arch = state.get("arch") or train.get("arch") or state.get("family")  # the key moved between versions
    if not isinstance(arch, str) or not isinstance(train.get("dataset"), str):
        return None
    if not all(k in model for k in ("resolution", "channels")):
        return None
    # Self-conditioned runs store cluster names there, not the dataset's classes.
    labels = list(state.get("label_names") or [])
    task_state = state.get("task_state") if isinstance(state.get("task_state"), dict) else {}
    if state.get("self_cond") or task_state.get("self_cond") or _CLUSTER_NAMES.fullmatch(",".join(labels) or "-"):
        labels = []
    return {
        "artforge_version": state.get("artforge_version"),
        "rebuilt_from": name,
        "train": dict(train),
        "model": {"arch": arch, **model},
        "dataset": {"path": train["dataset"], "resolution": model["resolution"], "channels": model["channels"],
                    "label_names": labels},
        "precision": state.get("precision"),
    }


def no_checkpoint_error(run_dir: str | Path) -> RunError:
    """What resuming a run stopped before its first checkpoint says: start it again, not "train longer"."""
    run_dir = Path(run_dir)
    return RunError(f"run {run_dir} stopped before its first checkpoint",
                    f"start it again with the same options (they are in {RunLayout(run_dir).options})")

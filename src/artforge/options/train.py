"""The options of `artforge train`, owned by their parts.

A run is given one flat set of options (the CLI's flags, the API's keywords: ``TrainConfig``), but each
option belongs to one part: the run's choices (``RunChoices``: the dataset, the task, the family, the
recipe), the engine (options/engine.py), the task (``TASK_OPTIONS``: options/generation.py,
translation.py) and, for a task that trains ``--arch``'s networks, the family (``FAMILY_OPTIONS``,
options/families.py). ``TrainConfig.sections()`` hands each part its own dataclass; a run's options.json,
its checkpoints and report, and ``artforge train --task T --arch A --help`` hold only those four parts'
options. An option two parts share (``--width`` of a family and of a translation task) is one flag whose
default is each part's own.

Adding a task or family: its options dataclass and one line in ``TASK_OPTIONS`` or ``FAMILY_OPTIONS``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .engine import EngineOptions
from .families import FAMILY_OPTIONS, FamilyOptions
from .fields import TaskOptions, choice, flag_name, option, paths_to_str
from .generation import GenerationOptions
from .translation import CycleGANOptions, Pix2PixOptions, SROptions
from .names import registry

TASK_OPTIONS: dict[str, type] = {"generation": GenerationOptions, "pix2pix": Pix2PixOptions,
                                 "cyclegan": CycleGANOptions, "sr": SROptions}
TASKS = tuple(TASK_OPTIONS)  # tasks/specs.py's TASKS, in order (tests/test_config.py checks)


@dataclass(frozen=True)
class RunChoices:
    """What a run is: its data, where it goes, what it learns, with which family and recipe."""

    dataset: str = option("", "prepared dataset (.zip or folder) from 'artforge prepare'",
                          positional=True, metavar="DATASET")
    out: str = option("runs", "folder that gets one numbered subfolder per run")
    task: str = option("generation", "what the run learns: generation (images from latents, with --arch); "
                       "pix2pix (paired translation: U-Net and PatchGAN, Isola et al. 2017, on a dataset from "
                       "'artforge prepare pairs'); cyclegan (unpaired translation between the datasets --a and --b, "
                       "Zhu et al. 2017); sr (upscaling learnt from high-resolution art, ESRGAN); each task's options "
                       "are listed under it ('artforge train --task NAME --help')", choices=TASKS)
    arch: str = option("dcgan", "model family of the generation task; its options are listed under it "
                       "('artforge train --arch NAME --help')", choices=lambda: tuple(registry("arch")))
    recipe: str | None = option(None, "training recipe: loss, regularizers and optimizer settings in one "
                                "(options below marked 'recipe' override it); default: the architecture's, "
                                "stable for dcgan; for style, style-cpu with --preset lite and stylegan2 with small "
                                "and base; wavegan-cpu for wavegan and specgan (--recipe wavegan: WaveGAN's WGAN-GP); "
                                "musegan-cpu for musegan; the image-to-image tasks' own: dcgan for pix2pix, cyclegan, "
                                "esrgan for sr", choices=lambda: tuple(registry("recipe")))

    def __post_init__(self):
        paths_to_str(self, "dataset", "out")
        choice(self.task, "task", TASKS)
        choice(self.arch, "arch", tuple(registry("arch")))
        if self.recipe is not None:
            choice(self.recipe, "recipe", tuple(registry("recipe")))


@dataclass(frozen=True)
class TrainSections:
    """A run's options by owner: what the engine, the task and the family each read."""

    run: RunChoices
    engine: EngineOptions
    task: TaskOptions
    family: FamilyOptions | None  # None: the task's networks are its own (the image-to-image tasks)

    def parts(self) -> tuple:
        return tuple(part for part in (self.run, self.task, self.family, self.engine) if part is not None)

    def record(self) -> dict:
        """The run's own options, flat (options.json's "train", a checkpoint's "train_config"); --arch only
        where the task trains that family."""
        record = {name: list(value) if isinstance(value, tuple) else value
                  for part in self.parts() for name, value in dataclasses.asdict(part).items()}
        if self.family is None:
            del record["arch"]
        return record

    def family_options(self) -> dict:
        """The family's options with the unset ones filled in (its defaults, the preset's)."""
        defaults = self.family.defaults()
        values = dataclasses.asdict(self.family)
        return {name: defaults.get(name) if value is None and name in defaults else value
                for name, value in values.items()}


def owners(name: str) -> list[str]:
    """The parts that take option ``name``, as the flags that choose them ('--task sr', '--arch style')."""
    found = [f"--task {task}" for task, cls in TASK_OPTIONS.items() if name in _names(cls)]
    return found + [f"--arch {arch}" for arch, cls in FAMILY_OPTIONS.items() if name in _names(cls)]


def _names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def own_names(task: str, arch: str) -> set[str]:
    """The options of a run of ``task`` (and ``arch``, for a task that trains that family's networks)."""
    sections = (RunChoices, EngineOptions, TASK_OPTIONS[task])
    if TASK_OPTIONS[task].uses_family:
        sections += (FAMILY_OPTIONS[arch],)
    return set().union(*map(_names, sections))


# Before the options were split, every task took every option and the image-to-image tasks ignored
# the generation task's and --arch's. They still accept those (ignored, and not recorded), so that
# command lines that worked keep working; --mode-seeking was refused then and still is.
REFUSED_BY_TRANSLATION = ("mode_seeking",)


def ignored_names(task: str, arch: str) -> set[str]:
    """The options a run of ``task`` accepts and ignores (see REFUSED_BY_TRANSLATION)."""
    if TASK_OPTIONS[task].uses_family:
        return set()
    return (_names(GenerationOptions) | _names(FAMILY_OPTIONS[arch])) - set(REFUSED_BY_TRANSLATION)


def foreign_option(task: str, arch: str, given) -> UsageError | None:
    """The error for the first option in ``given`` that none of this run's parts takes, or None."""
    own = own_names(task, arch) | ignored_names(task, arch)
    for name in given:
        if name in own or not owners(name):
            continue
        flag, who = flag_name(name), " or ".join(owners(name))
        if TASK_OPTIONS[task].uses_family and all(o.startswith("--arch") for o in owners(name)):
            return UsageError(f"{flag} is not an option of --arch {arch}",
                              f"leave it out; see 'artforge train --arch {arch} --help' for its options")
        return UsageError(f"{flag} is an option of {who}, not of --task {task}"
                          + (f" --arch {arch}" if TASK_OPTIONS[task].uses_family else ""),
                          "leave it out, or pass the task it belongs to")
    return None


SECTIONS: tuple[type, ...] = (RunChoices, *FAMILY_OPTIONS.values(), *TASK_OPTIONS.values(), EngineOptions)


def _flat_fields() -> list[tuple[str, Any, dataclasses.Field]]:
    """One field per option name; an option several parts share defaults to None, "the part's own"."""
    by_name: dict[str, list[dataclasses.Field]] = {}
    for cls in SECTIONS:
        for f in dataclasses.fields(cls):
            by_name.setdefault(f.name, []).append(f)
    flat = []
    for name, fields in by_name.items():
        first = fields[0]
        agree = all(f.default == first.default for f in fields)
        default = first.default if agree else None
        kind = first.type if agree or "None" in str(first.type) else f"{first.type} | None"
        flat.append((name, kind, dataclasses.field(default=default, metadata=first.metadata)))
    return flat


class _TrainOptions:
    """The flat options' behaviour (``TrainConfig`` is made from every part's fields below)."""

    def __post_init__(self):
        paths_to_str(self, "dataset", "out")
        sections = self.sections()  # each part checks its own options
        own = own_names(sections.run.task, sections.run.arch)
        given = [f.name for f in dataclasses.fields(self) if f.name not in own and getattr(self, f.name) != f.default]
        foreign = foreign_option(sections.run.task, sections.run.arch, given)  # another task's or family's
        if foreign:
            raise foreign
        dataset = sections.task.run_dataset(self.dataset)
        if not dataset:
            raise UsageError("no dataset given", "pass a dataset made by 'artforge prepare'")
        for part in sections.parts():  # the parts' checked (normalized) values are the run's
            for name, value in dataclasses.asdict(part).items():
                object.__setattr__(self, name, tuple(value) if isinstance(value, list) else value)
        object.__setattr__(self, "dataset", dataset)

    def sections(self) -> TrainSections:
        unset = {f.name for f in dataclasses.fields(self) if f.default is None}  # None here: "the part's own"

        def part(cls):
            return cls(**{f.name: getattr(self, f.name) for f in dataclasses.fields(cls)
                          if getattr(self, f.name) is not None or f.name not in unset})
        run = part(RunChoices)  # first: it checks the task and family named
        task = part(TASK_OPTIONS[run.task])
        family = part(FAMILY_OPTIONS[run.arch]) if task.uses_family else None
        return TrainSections(run, part(EngineOptions), task, family)

    def resolved(self):
        """These options with the recipe named and every option left to the recipe (or family) filled in."""
        from ..recipes import RECIPES, recipe_fields
        sections = self.sections()
        name = self.recipe or sections.task.recipe or sections.family.default_recipe()
        recipe = RECIPES[name]
        own = own_names(self.task, self.arch)
        fill = {field: getattr(recipe, field) for field in recipe_fields()
                if field in own and getattr(self, field) is None}
        family = {}
        if sections.family is not None:
            family = {k: v for k, v in sections.family_options().items() if getattr(self, k) is None and v is not None}
        return dataclasses.replace(self, recipe=name, **{**fill, **family})

    def record(self) -> dict:
        return self.sections().record()

    def family_options(self) -> dict:
        return self.sections().family_options()

    def stop_given(self) -> bool:
        return self.sections().engine.stop_given()


TrainConfig = dataclasses.make_dataclass("TrainConfig", _flat_fields(), bases=(_TrainOptions,), frozen=True)
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = ("Every option of `artforge train`, flat: the CLI's flags and the API's keywords. "
                       "``sections()`` gives each part its own.")

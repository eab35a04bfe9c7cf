"""The ``artforge`` command: thin argument parsing over the commands layer (``commands/``).

Options come from the config dataclasses (one source of defaults). Only options the user typed are
passed on, so the API applies the defaults, and a resumed run can tell an explicit change from a
default. User errors print one line, ``artforge CMD: error: ...; fix: ...``, and exit non-zero
without a traceback (set ARTFORGE_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import typing

from . import __version__, commands
from .options import (AudioPrepareConfig, EvaluateConfig, ExportConfig, MusicPrepareConfig, PrepareConfig,
                      RecreateConfig, SampleConfig, ToyBenchConfig, TranslateConfig, UpscaleConfig, VerifyConfig,
                      flag_name)
from .options.engine import EngineOptions
from .options.families import FAMILY_OPTIONS
from .options.describe import train_parts
from .options.train import TASK_OPTIONS, RunChoices
from .commands.explore import ACTIONS as EXPLORE_ACTIONS
from .errors import ArtforgeError, UsageError

EXAMPLES = {
    "prepare": """examples:
  artforge prepare openmoji --size 64                 # the built-in emoji set -> datasets/openmoji-64.zip
  artforge prepare ~/paintings --out datasets/paintings-128.zip --size 128 --fit pad
  artforge prepare sketches.zip --color gray --labels folders --split 0.8,0.1,0.1
  artforge prepare openmoji-pairs --size 64           # (line art, colour) pairs for pix2pix
  artforge prepare pairs ~/comics --sides pencils,inks # two folders, files matched by name
  artforge prepare pairs ~/paintings --derive xdog    # line drawings made from the paintings
  artforge prepare audio drums                        # sounds: see 'artforge prepare audio --help'""",
    "prepare-audio": """examples:
  artforge prepare audio drums                        # GM drum hits rendered with FluidSynth -> datasets/drums-16k.zip
  artforge prepare audio ~/samples/one-shots          # subfolders (kick/, snare/, ...) become labels
  artforge prepare audio foley.zip --sample-rate 44100 --length 65536 --labels none
then: artforge train datasets/drums-16k.zip --arch wavegan --minutes 15   (or --arch specgan)""",
    "prepare-music": """examples:
  artforge prepare music bach                 # the Bach chorales, 4 tracks, mood labels -> datasets/bach-4bars.zip
  artforge prepare music folk                 # folk melodies (Aird's airs), one track
  artforge prepare music ~/midi --labels none
then: artforge train datasets/bach-4bars.zip --arch musegan --minutes 15
      artforge sample RUN --mood sombre   |   artforge sample RUN --valence 0.8 --arousal -0.5""",
    "train": """examples:
  artforge train datasets/openmoji-64.zip --minutes 15   # network sized to this machine for 15 minutes
  artforge train datasets/openmoji-64.zip --minutes 15 --width 64 --batch 32 --precision fp32
  artforge train datasets/paintings-128.zip --kimg 500 --batch 32 --augment flip,crop
  artforge train --resume runs/00003-paintings-128-dcgan --kimg 800   # continue exactly
  artforge train datasets/sketches-64.zip --self-cond 0   # stable without self-conditioning (unconditional)
  artforge train datasets/openmoji-pairs-64.zip --task pix2pix --minutes 10   # line art -> colour, paired
  artforge train --task cyclegan --a datasets/openmoji-lineart-64.zip --b datasets/openmoji-colour-64.zip
  artforge train datasets/openmoji-256.zip --task sr --scale 4 --gan-weight 0   # the fidelity upscaler
  artforge train datasets/openmoji-256.zip --task sr --init runs/00007-openmoji-256-sr   # its GAN model
  artforge train datasets/drums-16k.zip --arch specgan --minutes 10      # sounds (artforge prepare audio drums)
  artforge train datasets/bach-4bars.zip --arch musegan --minutes 15     # music (artforge prepare music bach)""",
    "translate": """examples:
  artforge translate runs/00006-openmoji-pairs-64-pix2pix sketches/ --out coloured/
  artforge translate runs/00006-openmoji-pairs-64-pix2pix cat.png --variations 4 --seed 10 --out cats/
  artforge translate runs/00008-openmoji-lineart-64-cyclegan drawing.png --out out/ --reverse   # B -> A
  artforge translate runs/00006-openmoji-pairs-64-pix2pix poster.png --tile 64 --no-watermark""",
    "upscale": """examples:
  artforge upscale runs/00009-openmoji-256-sr small/ --out big/            # x4 (the run's --scale)
  artforge upscale runs/00009-openmoji-256-sr art.png --strength 0.5       # halfway to the fidelity model
  artforge upscale runs/00009-openmoji-256-sr huge.png --tile 64 --device cuda""",
    "sample": """examples:
  artforge sample runs/00003-openmoji-64-dcgan --n 64 --seed 0
  artforge sample runs/ --seeds 7,42,100-110 --truncation 0.7 --out picks/
  artforge sample runs/00004-genres-64-dcgan --label impressionism --checkpoint latest
  artforge sample runs/ --n 64 --filter jacobian --filter-drop 0.1   # leave out in-between images
  artforge sample runs/00005-emoji-64-dcgan --label cluster-07 --n 16   # one self-conditioning cluster
  artforge sample runs/00006-drums-16k-specgan --label snare --n 16    # WAVs, spectrograms, index.html players
  artforge sample runs/00006-drums-16k-specgan --between 3,9 --n 8     # a row of sounds from seed 3 to seed 9
  artforge sample runs/00006-drums-16k-specgan --like my-kick.wav --n 8   # variations of your own sound
  artforge sample runs/00007-bach-4bars-musegan --mood sombre --n 8   # MIDI, WAV, piano roll per piece
  artforge sample runs/00007-bach-4bars-musegan --valence 0.8 --arousal -0.6   # a point of the mood plane
  artforge sample runs/00007-bach-4bars-musegan --mood tense --mood-steps 0     # the label alone, unsteered""",
    "evaluate": """examples:
  artforge evaluate runs/00003-openmoji-64-dcgan                       # FID, KID, P/R, D/C, SWD, novelty
  artforge evaluate runs/00003-openmoji-64-dcgan --metrics swd --n 10000   # no network weights needed
  artforge evaluate runs/00003-openmoji-64-dcgan --extractor encoder    # every metric, offline
  artforge evaluate runs/00003-openmoji-64-dcgan --filter jacobian      # the images sample --filter keeps
  artforge evaluate --real datasets/openmoji-64.zip --fake other_tool_samples/ --json
Inception weights: pt_inception-2015-12-05-6726825d.pth from the pytorch-fid releases, in
~/.cache/torch/hub/checkpoints/, or --inception-weights PATH, or $ARTFORGE_INCEPTION_WEIGHTS.""",
    "bench": """examples:
  artforge bench toy                                  # a quick look: every recipe, grid, 2 seeds (minutes)
  artforge bench toy --full                           # the published protocol: ring and grid, 10 seeds (hours)
  artforge bench toy --dataset grid --recipe stable --seeds 3 --save-samples samples/
  artforge bench toy --recipe stable,dcgan --width 128   # wider MLPs, about 1.5x the time
  artforge bench toy --recipe stable --filter jacobian,d  # also score samples kept by a filter
  artforge bench toy --dataset ring --recipe stable --r1-gamma 0.01  # a study: another R1 weight
  artforge bench toy --recipe stable --self-cond 0   # a study: stable without self-conditioning""",
    "report": """examples:
  artforge report runs/00003-openmoji-64-dcgan        # writes RUN/report.html""",
    "export": """examples:
  artforge export runs/00003-openmoji-64-dcgan        # best checkpoint -> exports/00003-openmoji-64-dcgan/
  artforge export runs/00003-openmoji-64-dcgan --checkpoint 4000 --out models/emoji --force
  artforge sample exports/00003-openmoji-64-dcgan --seeds 0-15   # an export samples like a run""",
    "recreate": """examples:
  artforge recreate picks/seed0007.png                 # -> picks/seed0007-recreated.png, and "pixel-identical"
  artforge recreate picks/seed0007.png --vary 8        # also 8 neighbours: seed0007-vary01.png ...
  artforge recreate picks/seed0007.png --vary 4 --vary-strength 0.6 --seed 100   # farther, other draws
  artforge recreate old/seed0007.png --model runs/00003-openmoji-64-dcgan   # the run has moved""",
    "studio": """examples:
  artforge studio                                   # ./studio, at http://127.0.0.1:7860/
  artforge studio ~/art-studio --port 8000
  artforge studio ~/art-studio --host 0.0.0.0       # other machines too: prints a URL with its token""",
    "verify": """examples:
  artforge verify picture.png                          # watermarked (score 9.8); record: sample
  artforge verify downloads/*.jpg --json               # one JSON object per image
The mark survives half size, JPEG quality 75 and a 10% crop; docs/provenance.md says what it does not.""",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(f"{message}", f"see '{self.prog} --help'")


def _base_type(annotation: str) -> str:
    for name in ("bool", "int", "float", "tuple", "str"):
        if name in annotation:
            return name
    return "str"


def _tuple_parser(example: tuple, flag: str):
    def parse(text: str):
        items = [s.strip() for s in text.split(",") if s.strip()]
        if example and isinstance(example[0], float):
            try:
                return tuple(float(s) for s in items)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{flag} takes comma-separated numbers, got {text!r}") from None
        return tuple(items)
    return parse


def _number_parser(kind, flag: str):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
    return parse


def add_config_arguments(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One argparse option per dataclass field; defaults shown in --help but not injected."""
    for f in dataclasses.fields(cls):
        if f.name not in skip:
            _add_option(parser, f)


def add_train_arguments(parser: argparse.ArgumentParser, argv: typing.Sequence[str]) -> None:
    """`artforge train`'s options, part by part (options/train.py): the run's choices and the engine's, then
    the given --task's (the default's) and, for a task that trains --arch's networks, that family's, each
    in a group of its own. The other parts' options are still parsed (so the API can refuse them) but not
    listed; an option two parts share is listed under the part shown, with that part's default."""
    task = _given(argv, "--task", RunChoices.task)
    arch = _given(argv, "--arch", RunChoices.arch)
    shown = {cls for _, cls in train_parts(task if task in TASK_OPTIONS else RunChoices.task,
                                           arch if arch in FAMILY_OPTIONS else RunChoices.arch)}
    parts = [(None, RunChoices), (None, EngineOptions)]
    parts += [(f"--task {name}", cls) for name, cls in TASK_OPTIONS.items()]
    parts += [(f"--arch {name}", cls) for name, cls in FAMILY_OPTIONS.items()]
    listed: set[str] = set()
    for label, cls in sorted(parts, key=lambda part: part[1] not in shown):  # the shown parts first
        target = parser
        if label is not None and cls in shown:
            target = parser.add_argument_group(f"options of {label}")
        for f in dataclasses.fields(cls):
            if f.name not in listed:
                listed.add(f.name)
                _add_option(target, f, hidden=cls not in shown)


def _add_option(target, f: dataclasses.Field, hidden: bool = False) -> None:
    meta = f.metadata
    if not meta.get("cli", True):
        return
    flag = flag_name(f.name)
    default = f.default
    shown = (",".join(map(str, default)) or "none") if isinstance(default, tuple) else default
    help_text = f"{meta['help']} (default: {shown})" if default not in (None, "") else meta["help"]
    kind = _base_type(str(f.type))
    kwargs: dict = dict(help=argparse.SUPPRESS if hidden else help_text, default=argparse.SUPPRESS)
    if meta.get("choices"):
        choices = meta["choices"]
        kwargs["choices"] = choices() if callable(choices) else choices
    if meta.get("metavar"):
        kwargs["metavar"] = meta["metavar"]
    if kind == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif kind == "tuple":
        kwargs["type"] = _tuple_parser(default, flag)
    elif kind in ("int", "float"):
        kwargs["type"] = _number_parser(int if kind == "int" else float, flag)
    if meta.get("positional"):
        kwargs.pop("default")
        target.add_argument(f.name, nargs="?", **{k: v for k, v in kwargs.items() if k != "action"})
    else:
        target.add_argument(flag, dest=f.name, **kwargs)


def _given(argv: typing.Sequence[str], flag: str, default: str) -> str:
    """The value of ``flag`` on a command line (which task's and family's options --help lists), else the default."""
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.partition("=")[2]
    return default


def build_parser(argv: typing.Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = _Parser(prog="artforge", description="Make art with GANs: prepare a folder of images, train, "
                     "sample. Run 'artforge COMMAND --help' for a command's options and examples.")
    parser.add_argument("--version", action="version", version=f"artforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES.get(name),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = command("prepare", "turn a folder or zip of images (or a built-in set) into a training dataset; "
                "'artforge prepare audio SRC' for sounds, 'artforge prepare music SRC' for MIDI and scores")
    add_config_arguments(p, PrepareConfig)
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    # 'artforge prepare audio|music SRC' (main rewrites them to these names; not listed on their own)
    for kind, config, what in (
            ("audio", AudioPrepareConfig, "turn a folder or zip of one-shot sounds (WAV, FLAC, OGG, AIFF), or the "
             "built-in drums, into a dataset of mono 16-bit clips: resampled, onset at 0, trimmed, padded or "
             "cropped, normalized"),
            ("music", MusicPrepareConfig, "turn MIDI, MusicXML or ABC files (or the built-in bach or folk corpus) "
             "into a dataset of multi-track piano rolls with mood labels measured from the music")):
        p = sub.add_parser(f"prepare-{kind}", description=what, epilog=EXAMPLES[f"prepare-{kind}"],
                           prog=f"artforge prepare {kind}", formatter_class=argparse.RawDescriptionHelpFormatter)
        add_config_arguments(p, config)
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("train", "train a GAN on a prepared dataset, or resume a run")
    add_train_arguments(p, argv)
    p.add_argument("--resume", metavar="RUN", help="continue this run from its latest checkpoint, exactly")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("sample", "generate from a trained run, named by seed: images plus a grid; sounds or music with a "
                "page of players")
    add_config_arguments(p, SampleConfig)

    p = command("evaluate", "score a run (or a folder of images) against real images: FID, KID, IS, "
                "precision/recall, density/coverage, SWD, novelty, class statistics; a sound run by a classifier "
                "of its labels, a music run by MuseGAN's metrics and its mood control")
    add_config_arguments(p, EvaluateConfig)
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("bench", "run a standard benchmark: 'toy' trains every recipe on 2-D mixtures and "
                "counts captured modes (the mode-collapse test of VEEGAN and PacGAN)")
    add_config_arguments(p, ToyBenchConfig)
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("report", "write a self-contained HTML report of a run")
    p.add_argument("run", metavar="RUN", help="run folder")
    p.add_argument("--out", help="output file (default: RUN/report.html)")

    p = command("explore", "creative control of a style-based model: " + ", ".join(EXPLORE_ACTIONS))
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    for name, action in EXPLORE_ACTIONS.items():
        a = actions.add_parser(name, help=action.help, description=action.help, epilog=action.examples,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        add_config_arguments(a, action.options)

    p = command("export", "write a run's EMA generator as a standalone model folder (weights, model.json, "
                "a README model card) that 'artforge sample' and artforge.load take like a run")
    add_config_arguments(p, ExportConfig)

    p = command("recreate", "re-make an image from the provenance record artforge wrote into it (and its .json "
                "sidecar), check it is pixel-identical, and optionally make neighbours of it")
    add_config_arguments(p, RecreateConfig)

    p = command("verify", "check images for artforge's invisible watermark (and a provenance record)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="images to check (PNG, JPEG, ...)")
    add_config_arguments(p, VerifyConfig)

    p = command("translate", "apply a pix2pix or cyclegan run to images of any size (tiled), with provenance")
    add_config_arguments(p, TranslateConfig)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("upscale", "upscale images of any size with an sr run (tiled), with provenance")
    add_config_arguments(p, UpscaleConfig)
    p.add_argument("inputs", nargs="+", metavar="IMAGE", help="image files or folders")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("studio", "serve the studio, a local web app over these commands, for a workspace folder")
    p.add_argument("workspace", nargs="?", default="studio", metavar="WORKSPACE",
                   help="the folder the studio reads and writes, made if missing (default: studio)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only); "
                   "any other needs a token on every request")
    p.add_argument("--port", type=_number_parser(int, "--port"), default=7860, help="port (default: 7860)")
    p.add_argument("--token", help="the token requests must carry off loopback (default: made and printed)")
    return parser


def _options(args: argparse.Namespace, drop: tuple[str, ...]) -> dict:
    return {k: v for k, v in vars(args).items() if k not in drop and v is not None}


# Commands whose --quiet the CLI adds itself (the others' options have a quiet of their own, or none).
QUIET_FLAG = {"prepare", "prepare-audio", "prepare-music", "train", "evaluate", "bench", "translate", "upscale"}
# Where each command's notes go (which run of a folder was picked, what is being computed): sample's
# have always gone to stdout with its results, the others' to stderr.
NOTES_TO_STDOUT = {"sample"}


def _printer(name: str):
    """The CLI's event sink: notes printed as lines (train draws its own progress bar)."""
    stream = sys.stdout if name in NOTES_TO_STDOUT else sys.stderr

    def show(event) -> None:
        if event.kind == "note":
            print(event.fields["text"], file=stream)
    return show


def run_command(name: str, args) -> None:
    """Any command of the commands layer: the typed options in, its summary lines out."""
    options = _options(args, ("command",))
    if name in QUIET_FLAG:  # the CLI's own --quiet: the command's progress option, inverted
        options["progress"] = not options.pop("quiet")
    result = commands.run(name, options, events=_printer(name))  # it works on a copy
    for line in commands.summary(name, result, options):
        print(line)


def cmd_train(args) -> None:
    options = _options(args, ("command", "quiet"))
    if args.quiet:
        options["progress"] = False
    result = commands.run("train", options)
    if result.status == "interrupted" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # torchrun forwards the terminal's Ctrl-C a second time, maybe late: the run is saved and
        # stopping, so a late copy must not interrupt this process's exit with a traceback
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.get("RANK", "0") != "0":  # torchrun: rank 0 reports for every process
        return
    for line in commands.summary("train", result):
        print(line)


# The commands the CLI runs with more than the generic runner: train stops quietly under torchrun; the
# studio is a front end of its own over the commands layer.
def cmd_studio(args) -> None:
    from .studio.serve import serve
    serve(args.workspace, host=args.host, port=args.port, token=args.token)


OWN_COMMANDS = {"train": cmd_train, "studio": cmd_studio}


def _prepare_kind(argv: list[str]) -> list[str]:
    """'artforge prepare pairs SRC ...' is 'artforge prepare SRC --pairs ...' (SRC may still be a
    folder called pairs: 'prepare ./pairs')."""
    if len(argv) >= 3 and argv[0] == "prepare" and argv[1] == "pairs" and not argv[2].startswith("-"):
        return ["prepare", argv[2], "--pairs", *argv[3:]]
    if len(argv) >= 2 and argv[0] == "prepare" and argv[1] in ("audio", "music") \
            and (len(argv) == 2 or argv[2] != "--pairs"):
        return [f"prepare-{argv[1]}", *argv[2:]]
    return argv


def main(argv: typing.Sequence[str] | None = None) -> int:
    argv = _prepare_kind(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser(argv)
    command = "artforge"
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        command = f"artforge {args.command.replace('-', ' ')}"
        if args.command in OWN_COMMANDS:
            OWN_COMMANDS[args.command](args)
        else:
            run_command(args.command, args)
        return 0
    except ArtforgeError as exc:
        if os.environ.get("ARTFORGE_DEBUG"):
            raise
        print(f"{command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

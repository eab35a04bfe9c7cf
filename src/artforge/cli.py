"""The ``artforge`` command: thin argument parsing over the Python API.

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
from pathlib import Path

from . import __version__
from .config import (TASK_OPTIONS, AudioPrepareConfig, MusicPrepareConfig, EvaluateConfig, ExportConfig, InterpolateConfig, MixConfig, PrepareConfig, RecreateConfig,
                     SampleConfig, ToyBenchConfig, TrainConfig, TranslateConfig, UpscaleConfig, VerifyConfig, flag_name)
from .errors import ArtforgeError, UsageError
from .needs import check as check_needs

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


def add_config_arguments(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = (),
                         family: str | None = None) -> None:
    """One argparse option per dataclass field; defaults shown in --help but not injected.

    A model family's options go in a group of their own, listed when ``family`` (the --arch given,
    or the default) is theirs; another family's are still parsed (so the API can refuse them).
    """
    hints = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if f.name in skip or not meta.get("cli", True):
            continue
        target = parser
        families = (meta["family"],) if isinstance(meta.get("family"), str) else tuple(meta.get("family") or ())
        if families:  # an option several families share is listed under the one given
            name = family if family in families else families[0]
            if name not in groups:
                groups[name] = parser.add_argument_group(f"options of --arch {name}")
            target = groups[name]
        owners = [task for task, names in TASK_OPTIONS.items() if f.name in names] if cls is TrainConfig else []
        if owners and not families:  # an image-to-image task's own option: listed under its task(s)
            name = "options of " + " and ".join(f"--task {t}" for t in owners)
            if name not in groups:
                groups[name] = parser.add_argument_group(name)
            target = groups[name]
        flag = flag_name(f.name)
        default = f.default
        shown = (",".join(map(str, default)) or "none") if isinstance(default, tuple) else default
        help_text = f"{meta['help']} (default: {shown})" if default not in (None, "") else meta["help"]
        kind = _base_type(hints[f.name])
        kwargs: dict = dict(help=help_text, default=argparse.SUPPRESS)
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
        if families and family is not None and family not in families:
            kwargs["help"] = argparse.SUPPRESS
        if meta.get("positional"):
            kwargs.pop("default")
            target.add_argument(f.name, nargs="?", **{k: v for k, v in kwargs.items() if k != "action"})
        else:
            target.add_argument(flag, dest=f.name, **kwargs)


def _arch_given(argv: typing.Sequence[str]) -> str:
    """The --arch of a command line (for which family's options --help lists), else the default."""
    for i, arg in enumerate(argv):
        if arg == "--arch" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--arch="):
            return arg.partition("=")[2]
    return TrainConfig.arch


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
    add_config_arguments(p, TrainConfig, family=_arch_given(argv))
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

    if EXPLORE_ACTIONS:
        p = command("explore", "creative control of a style-based model: " + ", ".join(EXPLORE_ACTIONS))
        actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
        for name, (cls, help_text, examples, _) in EXPLORE_ACTIONS.items():
            a = actions.add_parser(name, help=help_text, description=help_text, epilog=examples,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
            add_config_arguments(a, cls)

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
    return parser


def _options(args: argparse.Namespace, drop: tuple[str, ...]) -> dict:
    return {k: v for k, v in vars(args).items() if k not in drop and v is not None}


def cmd_prepare(args) -> None:
    from .aspect import shape_text
    from .data.archive import manifest_shape
    from .data.ingest import prepare

    cfg = PrepareConfig(**_options(args, ("command", "quiet")))
    result = prepare(cfg, progress=not args.quiet)
    m = result.manifest
    counts = m.get("split_counts") or m.get("counts") or {}
    split = "/".join(str(counts.get(k, 0)) for k in ("train", "val", "test"))
    colour = 'RGB' if m['channels'] == 3 else 'grayscale'
    if m.get("pairs"):
        height, width = manifest_shape(m)
        print(f"prepared {result.count} pairs ({shape_text((height, width // 2))} each side, {colour}; input: "
              f"{m['pairs']['input']}, target: {m['pairs']['target']}, side by side) -> {result.path}")
    else:
        print(f"prepared {result.count} images ({shape_text(manifest_shape(m))}, {colour}) -> {result.path}")
    print(f"  train/val/test: {split}; labels: {', '.join(m.get('label_names') or []) or 'none'}")
    if result.rejects or result.duplicates:
        print(f"  set aside: {len(result.rejects)} rejected, {len(result.duplicates)} duplicates "
              f"(see {result.rejects_path})")


def cmd_prepare_audio(args) -> None:
    from .data.audio_ingest import prepare_audio, summary

    cfg = AudioPrepareConfig(**_options(args, ("command", "quiet")))
    print(summary(prepare_audio(cfg, progress=not args.quiet)))


def cmd_prepare_music(args) -> None:
    from .config import to_dict
    from .data.music_ingest import prepare_music, summary

    cfg = MusicPrepareConfig(**_options(args, ("command", "quiet")))
    options = {k: v for k, v in to_dict(cfg).items() if k != "source"}
    print(summary(prepare_music(cfg.source, progress=not args.quiet, **options)))


def cmd_train(args) -> None:
    from .training.loop import train

    options = _options(args, ("command", "quiet", "resume", "dataset"))
    if args.quiet:
        options["progress"] = False
    result = train(getattr(args, "dataset", None), resume=args.resume, **options)
    if result.status == "interrupted" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # torchrun forwards the terminal's Ctrl-C a second time, maybe late: the run is saved and
        # stopping, so a late copy must not interrupt this process's exit with a traceback
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.get("RANK", "0") != "0":  # torchrun: rank 0 reports for every process
        return
    verb = "stopped (Ctrl-C)" if result.status == "interrupted" else "finished"
    print(f"{verb} at step {result.step}: {result.run_dir}")
    print(f"  checkpoint: {result.checkpoint}")
    from .tasks.specs import task_spec
    print(f"  next: {task_spec(result.task).next_steps(result.run_dir)}")
    if result.status == "interrupted":
        print(f"  continue: artforge train --resume {result.run_dir}")


def cmd_sample(args) -> None:
    from .modality import of_samples
    from .sampling import sample_to_folder

    cfg = SampleConfig(**_options(args, ("command",)))
    result = sample_to_folder(cfg)
    print("\n".join(of_samples(result).sample_lines(result)))


def cmd_evaluate(args) -> None:
    import json

    from .metrics.evaluate import evaluate, report_lines

    cfg = EvaluateConfig(**_options(args, ("command", "quiet")), progress=not args.quiet)
    report = evaluate(cfg, announce=lambda text: print(text, file=sys.stderr))
    if cfg.json:
        print(json.dumps(report, indent=2))
        return
    if "task" in report:  # a translation run, scored against true images
        from .metrics.translation import summary_lines as translation_lines
        print(f"evaluated {report['checkpoint']} (step {report['step']}, {report['task']}):")
        print("\n".join(translation_lines(report)))
        print(f"  results: {report['path']}")
        return
    print("\n".join(report_lines(report)))


def cmd_bench(args) -> None:
    from .bench.toy import run_benchmark

    cfg = ToyBenchConfig(**_options(args, ("command", "quiet")), progress=not args.quiet)
    result = run_benchmark(cfg)
    print(result["table"])
    print(f"plot: {result['plot']}; all numbers: {result['out'] / 'toy-bench.json'}")


def cmd_report(args) -> None:
    from .reporting import write_report

    print(f"report: {write_report(args.run, args.out)}")


def cmd_export(args) -> None:
    from .exporting import export_model

    result = export_model(ExportConfig(**_options(args, ("command",))))
    print(f"exported {result.checkpoint} (step {result.step}) to {result.out}")
    print(f"  next: artforge sample {result.out} --seeds 0-15")


def cmd_explore(args) -> None:
    if not getattr(args, "action", None):
        raise UsageError("no explore action given", f"pass one of: {', '.join(EXPLORE_ACTIONS)}")
    cls, _, _, run = EXPLORE_ACTIONS[args.action]
    run(cls(**_options(args, ("command", "action"))))


# artforge explore ACTION: name -> (its config class in config.py, help, examples, runner(cfg)); the
# runners import their module when called, so --help stays free of torch.
EXPLORE_ACTIONS: dict[str, tuple[type, str, str, typing.Callable]] = {}


# --- explore mix / interpolate

def _explore_mix(cfg) -> None:
    from .explore.mixing import mix_to_folder

    result = mix_to_folder(cfg)
    print(f"mixed {len(cfg.row_seeds())}x{len(cfg.col_seeds())} cells (layers {_spans(result['layers'])} from the "
          f"columns) from {result['checkpoint']} (step {result['step']}) in {result['seconds']:.1f} s")
    print(f"  grid: {result['grid']}; cells: {result['out']}/row*-col*.png")


def _explore_interpolate(cfg) -> None:
    from .explore.interpolate import interpolate_to_folder

    result = interpolate_to_folder(cfg)
    print(f"rendered {result['frames']} frames through {', '.join(result['keyframes'])} from {result['checkpoint']} "
          f"(step {result['step']}) in {result['seconds']:.1f} s")
    videos = [str(result[k]) for k in ("gif", "mp4") if result[k]]
    print(f"  frames: {result['frames_dir']}" + (f"; videos: {', '.join(videos)}" if videos else ""))


def _spans(ids: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5'."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


MIX_EXAMPLES = """examples:
  artforge explore mix runs/00007-faces-64-style                      # rows 0-3 x columns 4-7, coarse layers
  artforge explore mix runs/00007-faces-64-style --rows 1,5,9 --cols 20-25 --layers fine
  artforge explore mix runs/00007-faces-64-style --layers 0-3 --truncation 0.7 --out mixes/
The column seeds give the layers --layers names; the row seeds give the rest."""
INTERPOLATE_EXAMPLES = """examples:
  artforge explore interpolate runs/00007-faces-64-style --seeds 3,17,42 --loop   # GIF, MP4 and frames/
  artforge explore interpolate runs/00007-faces-64-style --seeds 0,1 --space z --ease smooth --frames 60
  artforge explore interpolate runs/00007-faces-64-style --latents a.json,b.json --format gif
MP4 needs imageio-ffmpeg: pip install 'artforge[video]'."""


EXPLORE_ACTIONS["mix"] = (MixConfig, "style mixing grid: row seeds' images with the named layers (coarse, middle, "
                          "fine or indices) from the column seeds'", MIX_EXAMPLES, _explore_mix)
EXPLORE_ACTIONS["interpolate"] = (InterpolateConfig, "interpolation video through seeds or saved styles (linear in "
                                  "w or spherical in z, looping, eased): frames, GIF and MP4",
                                  INTERPOLATE_EXAMPLES, _explore_interpolate)


# --- explore project / palette / layout

from .config import LayoutConfig, PaletteConfig, ProjectConfig  # noqa: E402 (beside the actions that use them)


def _explore_project(cfg) -> None:
    from .explore.project import project_to_folder

    r = project_to_folder(cfg)
    how = "pixels + D features" if r["used_d"] else "pixels only"
    how += " (no D: an exported model)" if cfg.d_weight and not r["used_d"] else ""
    if cfg.held_out:
        print(f"projected {r['held_out']} held-out images of {r['dataset']} into {cfg.space} ({how}) in "
              f"{r['seconds']:.1f} s: mean PSNR {r['psnr']:.2f} dB (the mean image: {r['start_psnr']:.2f} dB)")
        return
    print(f"projected {cfg.image} into {cfg.space} ({how}) in {r['seconds']:.1f} s: PSNR {r['psnr']:.2f} dB "
          f"(the mean image: {r['start_psnr']:.2f} dB), loss {r['loss'][0]:.4f} -> {r['loss'][1]:.4f}")
    print(f"  wrote {len(r['files'])} images to {r['out']}; styles: {r['latents']}")
    print(f"  next: artforge explore interpolate {cfg.run} --latents {r['latents']},...")


def _explore_palette(cfg) -> None:
    from .explore.palette import palette_to_folder

    r = palette_to_folder(cfg)
    print(f"recoloured {_count(len(r['files']) // 2, 'image')} toward {', '.join(r['palette'])} "
          f"(strength {cfg.strength}) in {r['seconds']:.1f} s: palette distance {r['distance_before']:.1f} -> "
          f"{r['distance_after']:.1f} (mean Delta E to the nearest palette colour)")
    print(f"  wrote {r['out']}: before-*.png, after-*.png, comparison.png")


def _explore_layout(cfg) -> None:
    from .explore.layout import layout_to_folder

    r = layout_to_folder(cfg)
    print(f"steered {_count(len(r['files']) // 2, 'image')} toward the layout (strength {cfg.strength}) in "
          f"{r['seconds']:.1f} s: layout distance {r['distance_before']:.1f} -> {r['distance_after']:.1f} "
          "(mean Delta E over the layout)")
    print(f"  wrote {r['out']}: layout.png, before-*.png, after-*.png, comparison.png")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


PROJECT_EXAMPLES = """examples:
  artforge explore project runs/00007-faces-64-style photo.jpg              # w+, 300 steps -> projected.png
  artforge explore project runs/00007-faces-64-style photo.jpg --space w --vary 8   # plus 8 variations
  artforge explore project runs/00007-faces-64-style --held-out 16          # mean PSNR on test images
The styles are saved in projected.json: artforge explore interpolate RUN --latents projected.json,..."""
PALETTE_EXAMPLES = """examples:
  artforge explore palette runs/00007-faces-64-style --colors '#264653,#2a9d8f,#e9c46a,#f4a261' --seeds 0-3
  artforge explore palette runs/00007-faces-64-style --palette-image sunset.jpg --k 4 --strength 0.8"""
LAYOUT_EXAMPLES = """examples:
  artforge explore layout runs/00007-faces-64-style --blobs '0.5,0.65,0.3,#e63946;0.5,0.15,0.2,#1d3557'
  artforge explore layout runs/00007-faces-64-style --mask mask.png --color '#ffd166' --background '#073b4c'
Blobs: x,y,r,#colour with x, y in [0, 1] from the top left and r a fraction of the shorter side."""

EXPLORE_ACTIONS["project"] = (ProjectConfig, "project a real image into the model (w or w+), then re-render, vary "
                              "and mix it; or report reconstruction PSNR on held-out images", PROJECT_EXAMPLES,
                              _explore_project)
EXPLORE_ACTIONS["palette"] = (PaletteConfig, "recolour seeds' images toward a palette (colours or a reference "
                              "image) by moving their styles", PALETTE_EXAMPLES, _explore_palette)
EXPLORE_ACTIONS["layout"] = (LayoutConfig, "steer seeds' images toward a rough layout (coloured blobs or a mask)",
                             LAYOUT_EXAMPLES, _explore_layout)

def cmd_recreate(args) -> None:
    from .recreate import recreate

    result = recreate(RecreateConfig(**_options(args, ("command",))))
    if result["identical"]:
        verdict = "pixel-identical to the given image"
    elif result["max_diff"] is None:
        verdict = (f"NOT identical: {result['shape'][1]}x{result['shape'][0]}, the given image is "
                   f"{result['given_shape'][1]}x{result['given_shape'][0]} (resized or cropped since?)")
    else:
        verdict = (f"NOT identical: pixels differ by up to {result['max_diff']} levels (edited since, or another "
                   "model, hardware, batch size or artforge version)")
    print(f"recreated the {result['kind']} image with {result['model']}: {result['out']}; {verdict}")
    if result["vary"]:
        print(f"wrote {len(result['vary'])} neighbours: {', '.join(p.name for p in result['vary'])}")


def cmd_verify(args) -> None:
    import json

    from .recreate import verify

    cfg = VerifyConfig(**_options(args, ("command",)))
    for item in verify(cfg):
        if cfg.json:
            print(json.dumps(item))
            continue
        verdict = "watermarked" if item["watermarked"] else "no watermark found"
        record = f"record: {item['record']}" if item["record"] else "no artforge record"
        print(f"{item['image']}: {verdict} (score {item['score']:.1f}); {record}")


def _report_translated(result, what: str, out: str) -> None:
    print(f"{what} {len(result.written)} images into {out}")
    if result.skipped:
        first = result.skipped[0]
        print(f"  skipped {len(result.skipped)} unreadable inputs (e.g. {first['file']}: {first['reason']}); "
              f"see {Path(out) / 'skipped.csv'}")


def cmd_translate(args) -> None:
    from .translating import translate

    options = _options(args, ("command", "quiet"))
    options["inputs"] = tuple(args.inputs)
    cfg = TranslateConfig(**options, progress=not args.quiet)
    _report_translated(translate(cfg), "translated: wrote", cfg.out)


def cmd_upscale(args) -> None:
    from .translating import upscale

    options = _options(args, ("command", "quiet"))
    options["inputs"] = tuple(args.inputs)
    cfg = UpscaleConfig(**options, progress=not args.quiet)
    _report_translated(upscale(cfg), "upscaled: wrote", cfg.out)


COMMANDS = {"prepare": cmd_prepare, "prepare-audio": cmd_prepare_audio, "prepare-music": cmd_prepare_music, "train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate,
            "bench": cmd_bench, "report": cmd_report, "export": cmd_export, "explore": cmd_explore,
            "recreate": cmd_recreate, "verify": cmd_verify, "translate": cmd_translate, "upscale": cmd_upscale}


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
        check_needs(args.command, vars(args))  # a missing extra is one line now, not a traceback later
        COMMANDS[args.command](args)
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

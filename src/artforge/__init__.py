"""artforge: make art with generative adversarial networks.

    import artforge
    artforge.prepare("my_paintings/", out="datasets/paintings-64.zip", size=64)
    result = artforge.train("datasets/paintings-64.zip", minutes=30)
    images = artforge.load(result.run_dir).sample(n=16, seed=0)
    artforge.translate("runs/00006-pairs-pix2pix", ["sketches/"], out="coloured/")   # image-to-image runs

Each function is a command of the commands layer (``artforge.commands``), as ``artforge COMMAND`` on
the command line runs it: the same options by the same names, the same defaults and checks, the same
result (``explore`` and ``bench``, whose names are subpackages here, are ``artforge.commands.run("explore",
{...})``). Long commands take ``events=`` (a callable receiving ``artforge.commands.Event``s) and
``cancel=`` (an ``artforge.commands.CancelToken``, cancelled from any thread): ``train`` then saves a checkpoint
and returns "interrupted", ``translate``/``upscale`` return "interrupted" with the images done, ``prepare`` and
``evaluate`` raise ``artforge.commands.Cancelled`` and leave nothing half-written.

Heavy modules are imported on first use, so ``import artforge`` stays fast and side-effect free.
"""

from ._version import __version__

__all__ = ["prepare", "prepare_audio", "prepare_music", "train", "load", "sample", "evaluate", "export", "report",
           "translate", "upscale", "recreate", "verify", "__version__"]


def _run(name: str, options: dict, events=None, cancel=None):
    from . import commands

    return commands.run(name, options, events=events, cancel=cancel)


def prepare(source, *, events=None, cancel=None, **options):
    """Prepare a folder, zip or built-in dataset; options are ``artforge.options.PrepareConfig`` fields."""
    return _run("prepare", {"source": str(source), **options}, events, cancel)


def prepare_audio(source, *, events=None, cancel=None, **options):
    """Prepare one-shot sounds (a folder, a zip or the built-in ``"drums"``); options are
    ``artforge.options.AudioPrepareConfig`` fields (``sample_rate``, ``length``, ``labels``, ...)."""
    return _run("prepare-audio", {"source": str(source), **options}, events, cancel)


def prepare_music(source, *, events=None, cancel=None, **options):
    """Prepare MIDI/MusicXML/ABC files or the built-in ``"bach"`` or ``"folk"`` corpus as piano rolls with mood
    labels; options are ``artforge.options.MusicPrepareConfig`` fields (``bars``, ``labels``, ``limit``, ...)."""
    return _run("prepare-music", {"source": str(source), **options}, events, cancel)


def sample(run, *, events=None, **options):
    """Write samples of a run to a folder, as ``artforge sample`` does: images (PNGs and a grid), sounds
    (WAVs, spectrograms, a page of players) or music (MIDI, WAVs, piano rolls; ``mood=`` or ``valence=``
    and ``arousal=``); options are ``artforge.options.SampleConfig`` fields. Returns what was written."""
    return _run("sample", {"run": str(run), **options}, events)


def evaluate(run=None, *, events=None, cancel=None, **options):
    """Score a run as ``artforge evaluate`` does (images: FID, KID, ...; sounds: classifier scores; music:
    MuseGAN's metrics and mood control); options are ``artforge.options.EvaluateConfig`` fields. Returns
    the report dict (also written as JSON)."""
    return _run("evaluate", {"run": None if run is None else str(run), **options}, events, cancel)


def train(dataset=None, *, events=None, cancel=None, **options):
    """Train on a prepared dataset, or ``resume=RUN``; options are ``artforge.options.TrainConfig`` fields.
    ``events`` receives the log's lines and events as they happen; ``cancel.cancel()`` (from any thread)
    stops the run after its step with a checkpoint saved, as Ctrl-C does."""
    return _run("train", {"dataset": dataset, **options}, events, cancel)


def load(run, checkpoint: str = "best", device: str = "auto"):
    """Load a trained run (or a folder from ``export``) for sampling: ``artforge.load(run).sample(n=16, seed=0)``."""
    from .sampling import load as _load

    return _load(run, checkpoint=checkpoint, device=device)


def export(run, out=None, checkpoint: str = "best", force: bool = False):
    """Write a run's EMA generator as a standalone model folder (default: exports/<run name>) that
    ``load`` takes like a run; returns an ``ExportResult`` (``.out``, ``.step``, ``.load()``)."""
    return _run("export", {"run": run, "out": out, "checkpoint": checkpoint, "force": force})


def report(run, out=None):
    """Write the run's self-contained HTML report; returns its path."""
    return _run("report", {"run": run, "out": out})


def translate(run, inputs, *, events=None, cancel=None, **options):
    """Apply a pix2pix, cyclegan or sr run to image files or folders; options are
    ``artforge.options.TranslateConfig`` fields (``out``, ``reverse``, ``variations``, ``tile``, ...).
    Returns the written paths (``.written``) and the skipped inputs with reasons (``.skipped``)."""
    options.setdefault("progress", False)
    return _run("translate", {"run": run, "inputs": inputs, **options}, events, cancel)


def upscale(run, inputs, *, events=None, cancel=None, **options):
    """Upscale image files or folders with an sr run; options are ``artforge.options.UpscaleConfig`` fields
    (``out``, ``strength``, ``tile``, ...). Returns ``.written`` and ``.skipped`` as ``translate`` does."""
    options.setdefault("progress", False)
    return _run("upscale", {"run": run, "inputs": inputs, **options}, events, cancel)


def recreate(image, **options):
    """Re-make an image from the provenance record artforge wrote into it, as ``artforge recreate`` does;
    options are ``artforge.options.RecreateConfig`` fields. Returns whether it is pixel-identical, and more."""
    return _run("recreate", {"image": str(image), **options})


def verify(images, **options) -> list[dict]:
    """The watermark's verdict and score, and the record's kind, of each image (``artforge verify``)."""
    images = [images] if isinstance(images, (str, bytes)) or hasattr(images, "__fspath__") else images
    return list(_run("verify", {"images": tuple(images), **options}))

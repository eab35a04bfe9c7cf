"""artforge: make art with generative adversarial networks.

    import artforge
    artforge.prepare("my_paintings/", out="datasets/paintings-64.zip", size=64)
    result = artforge.train("datasets/paintings-64.zip", minutes=30)
    images = artforge.load(result.run_dir).sample(n=16, seed=0)
    artforge.translate("runs/00006-pairs-pix2pix", ["sketches/"], out="coloured/")   # image-to-image runs

Heavy modules are imported on first use, so ``import artforge`` stays fast and side-effect free.
"""

from ._version import __version__

__all__ = ["prepare", "prepare_audio", "prepare_music", "train", "load", "sample", "evaluate", "export", "report",
           "translate", "upscale", "__version__"]


def prepare(source, **options):
    """Prepare a folder, zip or built-in dataset; options are ``artforge.config.PrepareConfig`` fields."""
    from .config import PrepareConfig
    from .data.ingest import prepare as _prepare
    from .needs import check

    check("prepare", {"source": str(source), **options})
    progress = options.pop("progress", True)
    return _prepare(PrepareConfig(source=str(source), **options), progress=progress)


def prepare_audio(source, **options):
    """Prepare one-shot sounds (a folder, a zip or the built-in ``"drums"``); options are
    ``artforge.config.AudioPrepareConfig`` fields (``sample_rate``, ``length``, ``labels``, ...)."""
    from .config import AudioPrepareConfig
    from .data.audio_ingest import prepare_audio as _prepare
    from .needs import check

    check("prepare-audio", {"source": str(source), **options})
    progress = options.pop("progress", True)
    return _prepare(AudioPrepareConfig(source=str(source), **options), progress=progress)


def prepare_music(source, **options):
    """Prepare MIDI/MusicXML/ABC files or the built-in ``"bach"`` or ``"folk"`` corpus as piano rolls with mood
    labels; options are ``artforge.config.MusicPrepareConfig`` fields (``bars``, ``labels``, ``limit``, ...)."""
    from .config import MusicPrepareConfig, to_dict
    from .data.music_ingest import prepare_music as _prepare
    from .needs import check

    check("prepare-music", {"source": str(source), **options})
    progress = options.pop("progress", True)
    cfg = MusicPrepareConfig(source=str(source), **options)
    return _prepare(cfg.source, progress=progress, **{k: v for k, v in to_dict(cfg).items() if k != "source"})


def sample(run, **options):
    """Write samples of a run to a folder, as ``artforge sample`` does: images (PNGs and a grid), sounds
    (WAVs, spectrograms, a page of players) or music (MIDI, WAVs, piano rolls; ``mood=`` or ``valence=``
    and ``arousal=``); options are ``artforge.config.SampleConfig`` fields. Returns what was written."""
    from .config import SampleConfig
    from .needs import check
    from .sampling import sample_to_folder

    check("sample", {"run": run, **options})
    return sample_to_folder(SampleConfig(run=str(run), **options), announce=lambda *a: None)


def evaluate(run=None, **options):
    """Score a run as ``artforge evaluate`` does (images: FID, KID, ...; sounds: classifier scores; music:
    MuseGAN's metrics and mood control); options are ``artforge.config.EvaluateConfig`` fields. Returns
    the report dict (also written as JSON)."""
    from .config import EvaluateConfig
    from .metrics.evaluate import evaluate as _evaluate
    from .needs import check

    check("evaluate", {"run": run, **options})
    options.setdefault("progress", False)
    return _evaluate(EvaluateConfig(run=None if run is None else str(run), **options), announce=lambda *a: None)


def train(dataset=None, **options):
    """Train on a prepared dataset, or ``resume=RUN``; options are ``artforge.config.TrainConfig`` fields."""
    from .needs import check
    from .training.loop import train as _train

    check("train", {"dataset": dataset, **options})
    return _train(dataset, **options)


def load(run, checkpoint: str = "best", device: str = "auto"):
    """Load a trained run (or a folder from ``export``) for sampling: ``artforge.load(run).sample(n=16, seed=0)``."""
    from .sampling import load as _load

    return _load(run, checkpoint=checkpoint, device=device)


def export(run, out=None, checkpoint: str = "best", force: bool = False):
    """Write a run's EMA generator as a standalone model folder (default: exports/<run name>) that
    ``load`` takes like a run; returns an ``ExportResult`` (``.out``, ``.step``, ``.load()``)."""
    from .config import ExportConfig
    from .exporting import export_model

    return export_model(ExportConfig(run=run, out=out, checkpoint=checkpoint, force=force))


def report(run, out=None):
    """Write the run's self-contained HTML report; returns its path."""
    from .needs import check
    from .reporting import write_report

    check("report", {"run": run})
    return write_report(run, out=out)


def translate(run, inputs, **options):
    """Apply a pix2pix, cyclegan or sr run to image files or folders; options are
    ``artforge.config.TranslateConfig`` fields (``out``, ``reverse``, ``variations``, ``tile``, ...).
    Returns the written paths (``.written``) and the skipped inputs with reasons (``.skipped``)."""
    from .config import TranslateConfig
    from .translating import translate as _translate

    options.setdefault("progress", False)
    return _translate(TranslateConfig(run=run, inputs=tuple([inputs] if isinstance(inputs, (str, bytes)) or
                                                           hasattr(inputs, "__fspath__") else inputs), **options))


def upscale(run, inputs, **options):
    """Upscale image files or folders with an sr run; options are ``artforge.config.UpscaleConfig`` fields
    (``out``, ``strength``, ``tile``, ...). Returns ``.written`` and ``.skipped`` as ``translate`` does."""
    from .config import UpscaleConfig
    from .translating import upscale as _upscale

    options.setdefault("progress", False)
    return _upscale(UpscaleConfig(run=run, inputs=tuple([inputs] if isinstance(inputs, (str, bytes)) or
                                                       hasattr(inputs, "__fspath__") else inputs), **options))

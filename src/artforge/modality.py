"""What one item is: tensor layout, value range, how it is read, written, previewed and reported.

Training and inference ask the modality instead of assuming 2-D images: the engine saves a task's
preview through ``preview_image``, health statistics compare ``summary`` vectors, and readers and
writers turn stored items into model tensors and back: images; 2-D points (the toy benchmark);
waveforms (WaveGAN) and the spectrograms made of them (SpecGAN); multi-track piano rolls (MuseGAN).
The words the commands print about a modality's items, which dataset augmentations and family
options a dataset of them brings, and what a run's report and sample results hold are the record's
fields too, so nothing outside this module branches on a modality's name.

Importing this module imports no torch (each method imports it when it runs): ``needs.py`` reads a
modality's ``extras`` and ``topic`` to check what a command needs before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .aspect import SQUARE

if TYPE_CHECKING:
    import torch
    from torch import Tensor


def _pooled(x: Tensor, size) -> Tensor:
    """(B, C, H, W) averaged down to ``size``, flattened per item: a summary blind to fine detail."""
    from torch.nn import functional as F
    return F.adaptive_avg_pool2d(x, size).flatten(1)


class _IdentityPipe:
    p = 0.0

    def __call__(self, x: Tensor) -> Tensor:
        return x

    def __bool__(self) -> bool:
        return False


_identity_pipe = _IdentityPipe()


@dataclass(frozen=True)
class Modality:
    name: str
    layout: str  # the model tensor's axes, batch first
    value_range: tuple[float, float]
    extras: tuple[str, ...] = ()  # the optional extras (extras.EXTRAS) its readers and writers import
    topic: str = ""  # what its extras are needed for, in needs.py's messages ("sampling sounds", "... music")
    noun: str = "items"  # what a dataset of them holds, in messages: "images", "sounds", "piano rolls"
    prepare: str = ""  # the command that prepares a dataset of them, in messages
    # Its datasets take the image augmentations and the image-to-image tasks (images do; sounds and rolls not).
    pictures: bool = False
    own_augments: tuple[str, ...] = ()  # dataset augmentations only its items take (and its default then)
    own_augments_do: str = ""  # what they do, for the message that refuses them on another modality
    players: str = ""  # a run's report embeds players of the best checkpoint under this title ("Sounds")
    report_kind: str = ""  # the "kind" of the report that 'evaluate' writes for a run making these items
    samples_kind: str = ""  # the "kind" of what sampling a run making these items returns

    def family_options(self, dataset, fields: set[str]) -> dict:
        """What a family's config (of ``fields``) takes from a dataset of these items besides its resolution:
        the aspect ratio, for families that draw non-square items (their config has an ``aspect``)."""
        return {"aspect": dataset.aspect} if "aspect" in fields else {}

    def non_square(self, dataset) -> bool:
        """Whether a dataset of these items has a shape only families with an ``aspect`` can draw."""
        return False

    def sample_lines(self, result: dict) -> list[str]:
        """What the terminal says about a sampling result of these items."""
        raise NotImplementedError

    def summary(self, x: Tensor) -> Tensor:
        """(B, ...) -> (B, F): a small vector per item, for diversity and health statistics."""
        return x.float().flatten(1)

    def diversity(self, x: Tensor) -> float:
        """Mean pairwise L2 distance of the items' summaries."""
        import torch

        small = self.summary(x)
        return torch.pdist(small).mean().item() if len(small) > 1 else 0.0

    def preview_image(self, x: Tensor):
        """A PIL image showing a batch of items (a grid of images, a scatter of points, ...)."""
        raise NotImplementedError

    def augment(self, x: Tensor, names: tuple[str, ...], gen: torch.Generator) -> Tensor:
        """The dataset augmentations ``names`` of a batch of real items (none by default)."""
        if names:
            raise ValueError(f"{self.name} items have no augmentations; asked for {', '.join(names)}")
        return x

    def d_view_pipe(self, names: tuple[str, ...], p: float, gen: torch.Generator):
        """The differentiable augmentation of everything D sees (identity by default)."""
        if names:
            raise ValueError(f"{self.name} items have no differentiable augmentations; asked for {', '.join(names)}")
        return _identity_pipe


class ImageModality(Modality):
    def non_square(self, dataset) -> bool:
        return dataset.aspect != SQUARE

    def sample_lines(self, result: dict) -> list[str]:
        grid = f"; grid: {result['grid']}" if result["grid"] else ""
        lines = [f"wrote {len(result['files'])} images from {result['checkpoint']} (step {result['step']}) to "
                 f"{result['out']} in {result['sample_s']:.2f} s{grid}"]
        if result["removed"]:
            lines.append(f"removed {len(result['removed'])} images an earlier call wrote there and this one did not")
        if result["dropped"]:
            n = len(result["dropped"])
            lines.append(f"left out {n} seed{'s' if n > 1 else ''} where G's Jacobian is largest: "
                         f"{', '.join(map(str, result['dropped'][:20]))}" + (" ..." if n > 20 else ""))
        return lines

    def to_model(self, images: Tensor, channels_last: bool = False) -> Tensor:
        """uint8 (B, C, H, W) as stored -> float32 in [-1, 1]."""
        import torch

        x = images.float().div_(127.5).sub_(1.0)
        return x.contiguous(memory_format=torch.channels_last) if channels_last else x

    def to_uint8(self, x: Tensor) -> Tensor:
        from .utils.images import to_uint8
        return to_uint8(x)

    def augment(self, x: Tensor, names: tuple[str, ...], gen: torch.Generator) -> Tensor:
        from .ops.augment import augment
        return augment(x, names, gen)

    def d_view_pipe(self, names: tuple[str, ...], p: float, gen: torch.Generator):
        from .ops.augment import AugmentPipe
        return AugmentPipe(names, p, gen)

    def summary(self, x: Tensor) -> Tensor:
        # shrunk to 16x16: cheap, and blind to pixel noise
        return _pooled(x.float(), 16)

    def preview_image(self, x: Tensor):
        from .utils.images import make_grid, to_uint8
        return make_grid(to_uint8(x))

    def quality_view(self, x: Tensor) -> Tensor:
        """What the cheap quality signal (SWD) compares: the images themselves."""
        return x


class PointModality(Modality):
    """2-D points (B, 2): previewed as a scatter plot on a white square."""

    def preview_image(self, x: Tensor, size: int = 256, lim: float | None = None):
        from PIL import Image, ImageDraw

        points = x.detach().float().cpu()
        lim = lim or max(float(points.abs().max()) * 1.1, 1e-3)
        canvas = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(canvas)
        for px, py in points.tolist():
            draw.point(((px + lim) / (2 * lim) * size, size - (py + lim) / (2 * lim) * size), fill=(30, 80, 200))
        return canvas


def spectrogram_picture(log_mag: Tensor, lo: float | None = None, hi: float | None = None):
    """(B, F, T) log magnitudes -> one grid picture (low frequencies at the bottom, magma colours),
    scaled from ``lo`` to ``hi`` (default: the batch's 1st and 99.9th percentiles)."""
    import numpy as np
    import torch
    from matplotlib import colormaps

    from .utils.images import make_grid

    x = log_mag.detach().float().cpu()
    flat = x.flatten()[:: max(1, x.numel() // 200_000)]
    lo = float(torch.quantile(flat, 0.01)) if lo is None else lo
    hi = float(torch.quantile(flat, 0.999)) if hi is None else hi
    levels = ((x - lo) / max(hi - lo, 1e-6)).clamp(0, 1).flip(1)  # row 0: the highest frequency
    lut = (np.asarray(colormaps["magma"](np.linspace(0, 1, 256)))[:, :3] * 255).astype(np.uint8)
    rgb = lut[(levels * 255).round().long().numpy()]  # (B, F, T, 3)
    if rgb.shape[1] < 96:  # small spectrograms: doubled, to be seen
        rgb = rgb.repeat(2, axis=1).repeat(2, axis=2)
    return make_grid(rgb, pad=2, background=255)


QUALITY_FLOOR = -3.0  # log STFT magnitude; a full-scale tone peaks near log(64) = 4.2, so about -63 dB


class WaveModality(Modality):
    """Mono waveforms (B, 1, L) in [-1, 1], stored as int16; previewed as spectrograms."""

    def family_options(self, dataset, fields: set[str]) -> dict:
        rate = {"sample_rate": dataset.sample_rate} if "sample_rate" in fields else {}
        return {**super().family_options(dataset, fields), **rate}

    def sample_lines(self, result: dict) -> list[str]:
        return [f"wrote {len(result['files'])} sounds ({result['seconds_of_sound']:.1f} s) from {result['checkpoint']} "
                f"(step {result['step']}) to {result['out']} in {result['sample_s']:.2f} s; listen: {result['page']}"]

    def to_model(self, pcm: Tensor, channels_last: bool = False) -> Tensor:
        """int16 (B, 1, L) as stored -> float32 in [-1, 1)."""
        return pcm.float().div_(32768.0)

    def spectrogram(self, x: Tensor) -> Tensor:
        from .ops.spectral import log_magnitude
        return log_magnitude(x.float().flatten(1))

    def summary(self, x: Tensor) -> Tensor:
        # a coarse log spectrogram: phase-blind, so a sound and its slightly shifted copy are alike
        return _pooled(self.spectrogram(x)[:, None], 16)

    def quality_view(self, x: Tensor) -> Tensor:
        """What the cheap quality signal (SWD) compares: log spectrograms as 1-channel pictures, with
        everything below about -60 dB of full scale as one floor: a 16-bit clip's digital silence and a
        generator's inaudible noise floor are then alike (without the floor, SWD was dominated by them
        and did not follow a WaveGAN's progress: docs/sound-music.md)."""
        return self.spectrogram(x).clamp(min=QUALITY_FLOOR)[:, None] / 4.0

    def preview_image(self, x: Tensor):
        from .ops.spectral import LOG_EPS
        import math
        return spectrogram_picture(self.spectrogram(x), lo=math.log(LOG_EPS * 1000), hi=4.0)


class SpectrogramModality(Modality):
    """Normalized log-magnitude spectrograms (B, 1, F, T) in [-1, 1] (SpecGAN's): what its G makes."""

    def summary(self, x: Tensor) -> Tensor:
        return _pooled(x.float(), 16)

    def quality_view(self, x: Tensor) -> Tensor:
        return x.float()

    def preview_image(self, x: Tensor):
        return spectrogram_picture(x.float()[:, 0], lo=-1.0, hi=1.0)


TRANSPOSE_RANGE = (-5, 6)  # semitones: every key of the octave once


def transpose_batch(x: Tensor, shifts: Tensor, fill: float = -1.0) -> Tensor:
    """Shift each roll of (B, T, S, P) up by ``shifts[b]`` semitones (pitch is the last axis); notes
    pushed past either end are dropped, the vacated pitches filled with ``fill`` (silence)."""
    import torch

    pitches = x.shape[-1]
    source = torch.arange(pitches, device=x.device)[None] - shifts.to(x.device)[:, None]  # (B, P)
    valid = (source >= 0) & (source < pitches)
    index = source.clamp(0, pitches - 1)[:, None, None].expand(-1, x.shape[1], x.shape[2], -1)
    return torch.where(valid[:, None, None], torch.gather(x, 3, index), torch.full_like(x, fill))


class RollModality(Modality):
    """Multi-track piano rolls (B, tracks, steps, pitches) in [-1, 1], a note sounding where > 0;
    stored as uint8 (0 silent, 1 held, 2 onset). Previewed as coloured piano-roll pictures."""

    def family_options(self, dataset, fields: set[str]) -> dict:
        shape = {"pitches": dataset.height, "bars": dataset.spec.bars} if "pitches" in fields else {}
        return {**super().family_options(dataset, fields), **shape}

    def sample_lines(self, result: dict) -> list[str]:
        return [f"wrote {len(result['files'])} pieces (MIDI, WAV, piano roll) from {result['checkpoint']} (step "
                f"{result['step']}) to {result['out']}; listen: {result['page']}"]

    def to_model(self, rolls: Tensor, channels_last: bool = False) -> Tensor:
        return (rolls > 0).float() * 2 - 1

    def augment(self, x: Tensor, names: tuple[str, ...], gen: torch.Generator) -> Tensor:
        unknown = [n for n in names if n != "transpose"]
        if unknown:
            raise ValueError(f"piano rolls have one augmentation, transpose; asked for {', '.join(unknown)}")
        if not names:
            return x
        import torch

        shifts = torch.randint(TRANSPOSE_RANGE[0], TRANSPOSE_RANGE[1] + 1, (len(x),), generator=gen)
        return transpose_batch(x, shifts)

    def summary(self, x: Tensor) -> Tensor:
        return _pooled(x.float(), (16, 12))

    def quality_view(self, x: Tensor) -> Tensor:
        return x.float()  # tracks as channels: SWD over (time, pitch) patches

    def preview_image(self, x: Tensor, steps_per_bar: int = 16):
        import numpy as np
        import torch

        from .data.pianoroll import RollSpec, render_roll_png
        from .utils.images import make_grid

        rolls = (x.detach().float().cpu() > 0).to(torch.uint8).numpy()  # (B, T, S, P)
        b, t, s, p = rolls.shape
        spec = RollSpec(tracks=tuple(f"track{i + 1}" for i in range(t)), bars=max(1, s // steps_per_bar),
                        steps_per_beat=max(1, steps_per_bar // 4), pitches=p)
        pictures = np.stack([np.asarray(render_roll_png(r, spec).convert("RGB")) for r in rolls[:16]])
        return make_grid(pictures, cols=min(4, len(pictures)), pad=3, background=255)


IMAGE = ImageModality("image", "B, C, H, W", (-1.0, 1.0), noun="images", prepare="'artforge prepare SRC'",
                      pictures=True)
POINTS = PointModality("points", "B, 2", (float("-inf"), float("inf")), noun="points")
WAVE = WaveModality("audio", "B, 1, L", (-1.0, 1.0), extras=("audio",), topic="sounds",  # WAVs: soundfile
                    noun="sounds", prepare="'artforge prepare audio SRC' (e.g. the built-in drums)", players="Sounds",
                    report_kind="sound", samples_kind="sounds")
# what a SpecGAN makes; it learns from, and is sampled, scored and heard as, the sounds (WAVE) they become
SPECTROGRAM = SpectrogramModality("spectrogram", "B, 1, F, T", (-1.0, 1.0), extras=("audio",), topic="sounds",
                                  noun="spectrograms")
# MIDI (pretty_midi), WAV renders (soundfile), the mood judges (music21, librosa)
PIANOROLL = RollModality("pianoroll", "B, tracks, steps, pitches", (-1.0, 1.0), extras=("music",), topic="music",
                         noun="piano rolls", prepare="'artforge prepare music SRC' (e.g. the built-in bach)",
                         own_augments=("transpose",), own_augments_do="shifts piano rolls", players="Pieces",
                         report_kind="music", samples_kind="music")
MODALITIES = {m.name: m for m in (IMAGE, POINTS, WAVE, SPECTROGRAM, PIANOROLL)}


def of_samples(result: dict) -> Modality:
    """The modality of a sampling result's items (images unless its "kind" says otherwise)."""
    return next((m for m in MODALITIES.values() if m.samples_kind and m.samples_kind == result.get("kind")), IMAGE)

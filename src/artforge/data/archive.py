"""The dataset archive: PNGs plus ``dataset.json`` in the StyleGAN2-ADA ``dataset_tool`` layout.

Layout inside the zip (or folder)::

    00000/img00000000.png ... 00000/img00000999.png, 00001/img00001000.png, ...
    dataset.json     {"labels": [["00000/img00000000.png", 3], ...]} or {"labels": null}
    artforge.json    our manifest: label names, split, counts, mean/std, rejects (ignored by other tools);
                     the image shape as height and width, and resolution = the longer side (older
                     manifests have resolution alone: their images are square)

so StyleGAN2-ADA reads artforge datasets, and artforge reads StyleGAN2-ADA datasets (without a
manifest every image is in the train split and labels are named by their index).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..aspect import reduce_aspect, shape_text
from ..errors import DataError

FORMAT = "artforge-dataset"
FORMAT_VERSION = 1
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
ITEM_EXTENSIONS = IMAGE_EXTENSIONS + (".wav", ".npy")  # sounds are 16-bit WAVs, piano rolls .npy arrays
MANIFEST_NAME = "artforge.json"
LABELS_NAME = "dataset.json"


def archive_name(index: int, kind: str = "png") -> str:
    """Member name of the index-th item: an image as StyleGAN2-ADA's dataset_tool writes it, a
    sound (``kind`` "wav": ``00000/snd00000000.wav``) or a piano roll ("npy": ``roll``)."""
    idx = f"{index:08d}"
    prefix = {"wav": "snd", "npy": "roll"}.get(kind, "img")
    return f"{idx[:5]}/{prefix}{idx}.{kind}"


class ArchiveWriter:
    """Writes a dataset zip atomically: to ``<out>.partial``, renamed into place on ``close``.

    Images are added one at a time, so memory stays bounded however many there are. If anything
    fails before ``close``, ``abort`` removes the partial file and the destination is untouched.
    """

    def __init__(self, out: str | os.PathLike, kind: str = "png"):
        self.out = Path(out)
        self.kind = kind  # the items' file type: png, or wav for sounds
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.out.with_name(self.out.name + ".partial")
        # PNGs are compressed already and WAVs are read often: stored; piano rolls are sparse: deflated
        compression = zipfile.ZIP_DEFLATED if kind == "npy" else zipfile.ZIP_STORED
        self._zip = zipfile.ZipFile(self.partial, "w", compression=compression)
        self.names: list[str] = []
        self.labels: list[int | None] = []

    def add(self, data: bytes, label: int | None = None) -> str:
        name = archive_name(len(self.names), self.kind)
        self._zip.writestr(name, data)
        self.names.append(name)
        self.labels.append(label)
        return name

    def close(self, manifest: dict) -> Path:
        has_labels = bool(self.labels) and all(l is not None for l in self.labels)
        labels = [[n, int(l)] for n, l in zip(self.names, self.labels)] if has_labels else None
        self._zip.writestr(LABELS_NAME, json.dumps({"labels": labels}))
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
        self._zip.writestr(MANIFEST_NAME, json.dumps(manifest, indent=1))
        self._zip.close()
        with open(self.partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(self.partial, self.out)
        return self.out

    def abort(self) -> None:
        try:
            self._zip.close()
        finally:
            self.partial.unlink(missing_ok=True)

    def write_all(self, items: Iterable[tuple[bytes, int | None]], manifest: dict) -> Path:
        """Add every (data, label) in order and close; on any failure abort, leaving nothing behind.
        Item i is named ``archive_name(i, kind)``: what a manifest's split lists, built beforehand, name."""
        try:
            for data, label in items:
                self.add(data, label)
            return self.close(manifest)
        except BaseException:
            self.abort()
            raise


@dataclass
class ImageDataset:
    """Random access to a prepared dataset (zip or folder), safe to share with worker processes."""

    path: Path
    names: list[str]
    labels: np.ndarray | None  # int64 (N,) or None
    label_names: list[str]
    height: int
    width: int
    channels: int
    split: dict[str, np.ndarray]  # split name -> indices into names
    manifest: dict = field(default_factory=dict)
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)
    _zip_pid: int | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def resolution(self) -> int:
        """The longer side (the side, for square images): what models are sized by."""
        return max(self.height, self.width)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of every image."""
        return self.height, self.width

    @property
    def aspect(self) -> tuple[int, int]:
        """(width, height) in lowest terms: (1, 1) for square images, (4, 3) for 64x48."""
        return reduce_aspect(self.width, self.height)

    @property
    def pairs(self) -> dict | None:
        """What a paired dataset's two halves are ({"layout": "side-by-side", "input": ..., "target": ...}),
        or None for single images."""
        return self.manifest.get("pairs")

    @property
    def num_classes(self) -> int:
        return len(self.label_names) if self.labels is not None else 0

    @property
    def display_name(self) -> str:
        return self.manifest.get("name") or self.path.name.removesuffix(".zip")

    def _read_bytes(self, name: str) -> bytes:
        if self.path.is_dir():
            return (self.path / name).read_bytes()
        if self._zip is None or self._zip_pid != os.getpid():  # one handle per process
            self._zip = zipfile.ZipFile(self.path)
            self._zip_pid = os.getpid()
        return self._zip.read(name)

    def read(self, index: int) -> np.ndarray:
        """The index-th image as uint8 (H, W, C)."""
        name = self.names[index]
        try:
            with Image.open(io.BytesIO(self._read_bytes(name))) as im:
                im = im.convert("RGB" if self.channels == 3 else "L")
                arr = np.array(im, dtype=np.uint8)  # a writable copy
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"dataset {self.path}: cannot read {name} ({exc})",
                            "prepare the dataset again with 'artforge prepare'") from None
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.shape != (self.height, self.width, self.channels):
            raise DataError(f"dataset {self.path}: {name} is {arr.shape[1]}x{arr.shape[0]}, expected "
                            f"{shape_text(self.shape)}",
                            "prepare the dataset with 'artforge prepare' so all images share one size")
        return arr

    def inference_extras(self) -> dict:
        """What samplers of a model trained on this dataset need to know of it (saved in checkpoints)."""
        return {}

    # What the loader needs of any dataset (images here, sounds in SoundDataset): one item's tensor.
    modality = "image"
    item_dtype = "uint8"

    @property
    def item_shape(self) -> tuple[int, ...]:
        return (self.channels, self.height, self.width)

    def read_item(self, index: int) -> np.ndarray:
        """The index-th item in model layout: uint8 (C, H, W)."""
        return self.read(index).transpose(2, 0, 1)

    def indices(self, split: str) -> np.ndarray:
        if split == "all":
            return np.arange(len(self.names))
        return self.split.get(split, np.zeros(0, dtype=np.int64))

    def __getstate__(self):  # zip handles do not cross process boundaries
        state = dict(self.__dict__)
        state["_zip"] = None
        state["_zip_pid"] = None
        return state


class SoundDataset(ImageDataset):
    """A prepared sound dataset (``artforge prepare audio``): mono 16-bit WAVs of one length and rate.
    Its shape reads as one row of ``length`` samples (height 1, width length, one channel)."""

    modality = "audio"
    item_dtype = "int16"

    @property
    def sample_rate(self) -> int:
        return int(self.manifest["sample_rate"])

    @property
    def length(self) -> int:
        return self.width

    @property
    def item_shape(self) -> tuple[int, ...]:
        return (1, self.width)

    def read(self, index: int) -> np.ndarray:
        """The index-th sound as int16 (length,)."""
        from .sound import read_pcm16

        name = self.names[index]
        try:
            pcm, rate = read_pcm16(self._read_bytes(name))
        except (RuntimeError, KeyError, ValueError) as exc:
            raise DataError(f"dataset {self.path}: cannot read {name} ({exc})",
                            "prepare the dataset again with 'artforge prepare audio'") from None
        if pcm.shape != (self.width,) or rate != self.sample_rate:
            raise DataError(f"dataset {self.path}: {name} has {pcm.shape[0]} samples at {rate} Hz, expected "
                            f"{self.width} at {self.sample_rate} Hz",
                            "prepare the dataset again with 'artforge prepare audio'")
        return pcm

    def read_item(self, index: int) -> np.ndarray:
        return self.read(index)[None]  # (1, length)


class RollDataset(ImageDataset):
    """A prepared piano-roll dataset (``artforge prepare music``): uint8 rolls (tracks, steps, pitches),
    0 silent, 1 held, 2 onset. Its shape reads as tracks = channels, steps = width, pitches = height."""

    modality = "pianoroll"
    item_dtype = "uint8"

    @property
    def resolution(self) -> int:
        return self.width  # time steps: what a model of rolls is sized by

    def inference_extras(self) -> dict:
        """The roll format, the mood thresholds and each label's median tempo (generated pieces play at
        their mood's tempo, and are judged by the thresholds the data was labelled with)."""
        items = self.manifest.get("items") or []
        tempos: dict[str, list[float]] = {}
        for item, label in zip(items, self.labels if self.labels is not None else []):
            tempos.setdefault(self.label_names[int(label)], []).append(float(item.get("tempo") or 120.0))
        return {"roll_spec": self.manifest.get("roll_spec"), "mood_reference": self.manifest.get("mood_reference"),
                "label_tempos": {k: float(np.median(v)) for k, v in tempos.items()}}

    @property
    def spec(self):
        from .pianoroll import RollSpec
        return RollSpec.from_dict(self.manifest["roll_spec"])

    @property
    def item_shape(self) -> tuple[int, ...]:
        return (self.channels, self.width, self.height)

    def read(self, index: int) -> np.ndarray:
        from .rolls import read_roll_bytes

        name = self.names[index]
        try:
            data = self._read_bytes(name)
        except (KeyError, OSError) as exc:
            raise DataError(f"dataset {self.path}: cannot read {name} ({exc})",
                            "prepare the dataset again with 'artforge prepare music'") from None
        roll = read_roll_bytes(data, f"dataset {self.path}: {name}")
        if roll.shape != self.item_shape:
            raise DataError(f"dataset {self.path}: {name} is a {roll.shape} roll, expected {self.item_shape}",
                            "prepare the dataset again with 'artforge prepare music'")
        return roll

    def read_item(self, index: int) -> np.ndarray:
        return self.read(index)


def _list_members(path: Path) -> tuple[list[str], dict[str, bytes]]:
    """Image member names (sorted) and the JSON side files of a zip or folder."""
    side: dict[str, bytes] = {}
    if path.is_dir():
        names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*")
                       if p.is_file() and p.suffix.lower() in ITEM_EXTENSIONS)
        for side_name in (LABELS_NAME, MANIFEST_NAME):
            if (path / side_name).is_file():
                side[side_name] = (path / side_name).read_bytes()
        return names, side
    try:
        with zipfile.ZipFile(path) as zf:
            all_names = zf.namelist()
            names = sorted(n for n in all_names if n.lower().endswith(ITEM_EXTENSIONS))
            for side_name in (LABELS_NAME, MANIFEST_NAME):
                if side_name in all_names:
                    side[side_name] = zf.read(side_name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"dataset {path} is not a readable zip ({exc})",
                        "prepare it again with 'artforge prepare'") from None
    return names, side


def _json(data: bytes, what: str, path: Path) -> dict:
    try:
        out = json.loads(data)
    except ValueError:
        raise DataError(f"dataset {path}: {what} is not valid JSON",
                        "prepare the dataset again with 'artforge prepare'") from None
    return out if isinstance(out, dict) else {}


# The reader of each modality's datasets, by the modality their manifests name (none: images).
DATASETS = {reader.modality: reader for reader in (ImageDataset, SoundDataset, RollDataset)}


def dataset_modality(path: str | os.PathLike) -> str | None:
    """What a prepared dataset holds ("image", "audio", "pianoroll"), from its manifest alone (its items are
    not listed); None when ``path`` is not a readable dataset, which ``open_dataset`` then explains."""
    path = Path(path)
    try:
        if path.is_dir():
            data = (path / MANIFEST_NAME).read_bytes() if (path / MANIFEST_NAME).is_file() else b"{}"
        else:
            with zipfile.ZipFile(path) as zf:
                data = zf.read(MANIFEST_NAME) if MANIFEST_NAME in zf.namelist() else b"{}"
        manifest = json.loads(data)
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    return str(manifest.get("modality", "image")) if isinstance(manifest, dict) else None


def open_dataset(path: str | os.PathLike) -> ImageDataset:
    """Open a prepared dataset; clear errors for anything that is not one."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"dataset {path} does not exist",
                        "check the path, or make the dataset with 'artforge prepare'")
    names, side = _list_members(path)
    if not names:
        raise DataError(f"dataset {path} holds no images",
                        "point at a dataset made by 'artforge prepare', or prepare one from your images")
    manifest = _json(side[MANIFEST_NAME], MANIFEST_NAME, path) if MANIFEST_NAME in side else {}
    version = manifest.get("format_version", FORMAT_VERSION)
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise DataError(f"dataset {path} was written by a newer artforge (format {version})",
                        "upgrade artforge: pip install -U artforge")

    labels, label_names = None, []
    label_json = _json(side[LABELS_NAME], LABELS_NAME, path) if LABELS_NAME in side else {}
    if label_json.get("labels"):
        by_name = {str(n).replace("\\", "/"): int(l) for n, l in label_json["labels"]}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise DataError(f"dataset {path}: {LABELS_NAME} has no label for {missing[0]}",
                            "prepare the dataset again with 'artforge prepare'")
        labels = np.array([by_name[n] for n in names], dtype=np.int64)
        label_names = list(manifest.get("label_names") or [str(i) for i in range(int(labels.max()) + 1)])

    index_of = {n: i for i, n in enumerate(names)}
    split = {}
    if "split" in manifest:
        for key, members in manifest["split"].items():
            split[key] = np.array([index_of[n] for n in members if n in index_of], dtype=np.int64)
    else:  # a StyleGAN2-ADA dataset: everything trains
        split = {"train": np.arange(len(names)), "val": np.zeros(0, np.int64), "test": np.zeros(0, np.int64)}

    kind = DATASETS.get(manifest.get("modality"), ImageDataset)
    ds = kind(path=path, names=names, labels=labels, label_names=label_names,
                      height=0, width=0, channels=0, split=split, manifest=manifest)
    if "resolution" in manifest and "channels" in manifest:
        (ds.height, ds.width), ds.channels = manifest_shape(manifest), int(manifest["channels"])
    else:  # infer from the first image, as StyleGAN2-ADA does
        with Image.open(io.BytesIO(ds._read_bytes(names[0]))) as im:
            ds.height, ds.width = im.height, im.width
            ds.channels = 1 if im.mode in ("L", "I", "I;16", "1") else 3
    return ds


def manifest_shape(manifest: dict) -> tuple[int, int]:
    """(height, width) a manifest records; manifests from before non-square datasets: resolution squared."""
    side = int(manifest["resolution"])
    return int(manifest.get("height", side)), int(manifest.get("width", side))

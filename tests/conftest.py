"""Shared fixtures: tiny prepared datasets made in the test, never downloaded."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from artforge.data.archive import ArchiveWriter

# Small and fast: every training test uses these options unless it says otherwise.
TINY = dict(batch=8, width=8, z_dim=16, tick=5, checkpoint_every=10, eval_images=16, progress=False,
            tensorboard=False, device="cpu", self_cond_min_images=64)  # self-conditioning on tiny datasets too


def write_blob_dataset(path, n: int = 40, res: int = 32, labels: bool = False, seed: int = 0):
    """A dataset zip of coloured discs on white; with labels, the disc colour family is the class."""
    rng = np.random.default_rng(seed)
    writer = ArchiveWriter(path)
    yy, xx = np.mgrid[:res, :res]
    label_names = ["blue", "red"] if labels else []
    for i in range(n):
        arr = np.full((res, res, 3), 255, np.uint8)
        label = i % 2 if labels else None
        color = rng.integers(0, 120, 3)
        if labels:
            color[2 if label == 0 else 0] = 230
        r = rng.integers(res // 8, res // 3)
        cx, cy = rng.integers(res // 3, 2 * res // 3, 2)
        arr[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = color
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        writer.add(buf.getvalue(), label)
    names = writer.names
    n_val = max(1, n // 10)
    writer.close({"name": f"blobs-{res}", "resolution": res, "channels": 3, "label_names": label_names,
                  "split": {"train": names[:-2 * n_val], "val": names[-2 * n_val:-n_val], "test": names[-n_val:]}})
    return path


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: intra-op threads only cost time (a lot on a busy 2-core machine)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def gen(seed: int):
    """A seeded CPU generator, for reproducible test tensors."""
    import torch
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="session")
def blob_dataset(tmp_path_factory):
    return write_blob_dataset(tmp_path_factory.mktemp("data") / "blobs-32.zip")


@pytest.fixture(scope="session")
def many_blobs(tmp_path_factory):
    """Enough unlabeled images for self-conditioning (one cluster per 32 training images): 4 clusters."""
    return write_blob_dataset(tmp_path_factory.mktemp("data") / "many-blobs-32.zip", n=160)


@pytest.fixture(scope="session")
def labeled_dataset(tmp_path_factory):
    return write_blob_dataset(tmp_path_factory.mktemp("data") / "labeled-32.zip", labels=True)


@pytest.fixture(scope="session")
def trained_run(blob_dataset, tmp_path_factory):
    """One short finished run, shared by read-only tests (sampling, report, CLI errors)."""
    import artforge

    result = artforge.train(blob_dataset, out=tmp_path_factory.mktemp("runs"), steps=10, **TINY)
    return result.run_dir


STYLE_TINY = dict(TINY, arch="style", w_dim=16, mapping_layers=2, max_width=32)


@pytest.fixture(scope="session")
def style_run(blob_dataset, tmp_path_factory):
    """One short finished run of the style family (32 px, unconditional), shared by read-only tests."""
    import artforge

    return artforge.train(blob_dataset, out=tmp_path_factory.mktemp("runs"), steps=10, **STYLE_TINY).run_dir


@pytest.fixture(scope="session")
def labeled_style_run(labeled_dataset, tmp_path_factory):
    """A short conditional style run (the labeled blobs' classes), shared by read-only tests."""
    import artforge

    return artforge.train(labeled_dataset, out=tmp_path_factory.mktemp("runs"), steps=10, **STYLE_TINY).run_dir


@pytest.fixture(scope="session")
def pairs_dataset(tmp_path_factory):
    """24 discs on white, each paired with its grayscale (a colorization task), at 32 px."""
    import torch
    from PIL import ImageDraw

    from artforge.options import PrepareConfig
    from artforge.data.ingest import prepare

    root = tmp_path_factory.mktemp("pairs")
    src = root / "art"
    src.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(24):
        im = Image.new("RGB", (48, 48), "white")
        x, y, r = (int(v) for v in torch.randint(8, 40, (3,), generator=g))
        colour = tuple(int(v) for v in torch.randint(0, 256, (3,), generator=g))
        ImageDraw.Draw(im).ellipse((x - r // 2, y - r // 2, x + r // 2, y + r // 2), fill=colour)
        im.save(src / f"{i:02d}.png")
    return prepare(PrepareConfig(source=str(src), size=32, derive="gray", out=str(root / "pairs.zip"),
                                 split=(0.75, 0.25, 0.0))).path

"""Tests of the training batch source (data/loader.py) and the dataset archive (data/archive.py)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.data.archive import ArchiveWriter, archive_name, open_dataset
from artforge.data.loader import BatchSource, batch_positions, epoch_permutation, to_model_range
from artforge.errors import DataError

N = 20
RES = 16
LABEL_NAMES = ["cat", "dog", "owl"]
VAL = [0, 5, 10]
TEST = [1, 6]
TRAIN = [i for i in range(N) if i not in VAL + TEST]
CPU = torch.device("cpu")


def color(i: int) -> tuple[int, int, int]:
    return (i * 12 % 256, 255 - i * 12, (i * 37 + 5) % 256)


def label(i: int) -> int:
    return i % 3


def png(rgb, size=RES, mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (size, size), rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def dataset_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "tiny.zip"
    writer = ArchiveWriter(out)
    for i in range(N):
        assert writer.add(png(color(i)), label(i)) == archive_name(i)
    names = [archive_name(i) for i in range(N)]
    manifest = {
        "name": "tiny",
        "resolution": RES,
        "channels": 3,
        "label_names": LABEL_NAMES,
        "split": {"train": [names[i] for i in TRAIN], "val": [names[i] for i in VAL],
                  "test": [names[i] for i in TEST]},
    }
    assert writer.close(manifest) == out
    assert not out.with_name(out.name + ".partial").exists()
    return out


@pytest.fixture(scope="module")
def ds(dataset_zip):
    return open_dataset(dataset_zip)


def index_of_color(img: torch.Tensor) -> int:
    """The dataset index of a (C, H, W) uint8 solid-colour image."""
    rgb = tuple(int(v) for v in img[:, 0, 0])
    assert torch.all(img == img[:, :1, :1]), "not a solid colour"
    matches = [i for i in range(N) if color(i) == rgb]
    assert len(matches) == 1, rgb
    return matches[0]


def take(it, k):
    out = [next(it) for _ in range(k)]
    it.close()
    return out


# ----------------------------------------------------------------------------- batch_positions


def test_batch_positions_deterministic():
    a = batch_positions(10, 4, seed=3, step=7)
    b = batch_positions(10, 4, seed=3, step=7)
    assert a.dtype == np.int64 and a.shape == (4,)
    assert np.array_equal(a, b)
    assert not np.array_equal(batch_positions(100, 8, seed=3, step=0), batch_positions(100, 8, seed=4, step=0))


def test_each_epoch_visits_every_index_once():
    n, b = 12, 4
    steps_per_epoch = n // b
    epochs = []
    for e in range(3):
        pos = np.concatenate([batch_positions(n, b, 5, s) for s in range(e * steps_per_epoch, (e + 1) * steps_per_epoch)])
        assert sorted(pos.tolist()) == list(range(n))
        epochs.append(pos)
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch
    assert not np.array_equal(epochs[0], np.arange(n))  # shuffled at all
    assert np.array_equal(epochs[1], epoch_permutation(n, 5, 1))


def test_epochs_when_batch_does_not_divide_n():
    n, b = 10, 4
    pos = np.concatenate([batch_positions(n, b, 1, s) for s in range(5)])  # 20 = two epochs
    assert sorted(pos[:10].tolist()) == list(range(n))
    assert sorted(pos[10:].tolist()) == list(range(n))


def test_dataset_smaller_than_batch():
    pos = batch_positions(3, 8, 0, 0)
    assert pos.shape == (8,)
    assert sorted(pos[:3].tolist()) == [0, 1, 2]
    assert sorted(pos[3:6].tolist()) == [0, 1, 2]
    assert set(pos.tolist()) <= {0, 1, 2}
    # the next step carries on from position 8 of the stream
    stream = np.concatenate([epoch_permutation(3, 0, e) for e in range(6)])
    assert np.array_equal(batch_positions(3, 8, 0, 1), stream[8:16])


def test_positions_do_not_depend_on_earlier_calls():
    first = batch_positions(13, 5, 2, 6)
    np.random.seed(123)  # global RNG state must not matter
    for s in range(6):
        batch_positions(13, 5, 2, s)
    np.random.seed(999)
    assert np.array_equal(batch_positions(13, 5, 2, 6), first)
    stream = np.concatenate([epoch_permutation(13, 2, e) for e in range(4)])
    assert np.array_equal(first, stream[30:35])


def test_to_model_range():
    x = torch.tensor([0, 255, 51, 204], dtype=torch.uint8).view(1, 4, 1, 1)
    y = to_model_range(x, channels_last=False)
    assert y.dtype == torch.float32
    assert y.flatten().tolist() == pytest.approx([-1.0, 1.0, 51 / 127.5 - 1, 204 / 127.5 - 1], abs=1e-6)
    img = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    before = img.clone()
    cl = to_model_range(img, channels_last=True)
    assert cl.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(cl, to_model_range(img, channels_last=False))
    assert torch.equal(img, before)  # the input is not modified in place


# ----------------------------------------------------------------------------- archive


def test_open_dataset_reads_everything_back(ds, dataset_zip):
    assert ds.names == [archive_name(i) for i in range(N)]
    assert ds.names[0] == "00000/img00000000.png"
    assert ds.labels.dtype == np.int64
    assert ds.labels.tolist() == [label(i) for i in range(N)]
    assert ds.label_names == LABEL_NAMES
    assert ds.num_classes == 3
    assert ds.resolution == RES and ds.channels == 3
    assert ds.split["train"].tolist() == TRAIN
    assert ds.indices("val").tolist() == VAL
    assert ds.indices("test").tolist() == TEST
    assert ds.indices("all").tolist() == list(range(N))
    assert ds.indices("nonexistent").tolist() == []
    assert ds.display_name == "tiny"
    assert ds.manifest["format"] == "artforge-dataset"
    assert len(ds) == N
    with zipfile.ZipFile(dataset_zip) as zf:
        labels = json.loads(zf.read("dataset.json"))["labels"]
    assert labels == [[archive_name(i), label(i)] for i in range(N)]


def test_read_returns_the_images(ds):
    for i in range(N):
        arr = ds.read(i)
        assert arr.shape == (RES, RES, 3) and arr.dtype == np.uint8
        assert tuple(arr[0, 0]) == color(i)
        assert (arr == arr[0, 0]).all()


def test_unlabelled_writer_writes_null_labels(tmp_path):
    w = ArchiveWriter(tmp_path / "u.zip")
    w.add(png((1, 2, 3)))
    w.add(png((4, 5, 6)), 1)  # not all labelled -> no labels
    w.close({"resolution": RES, "channels": 3})
    d = open_dataset(tmp_path / "u.zip")
    assert d.labels is None and d.num_classes == 0 and d.label_names == []


def test_writer_abort_leaves_nothing(tmp_path):
    w = ArchiveWriter(tmp_path / "a.zip")
    w.add(png((1, 2, 3)))
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_open_dataset_missing_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        open_dataset(tmp_path / "nope.zip")


def test_open_dataset_zip_without_images(tmp_path):
    p = tmp_path / "empty.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("dataset.json", json.dumps({"labels": None}))
    with pytest.raises(DataError, match="no images"):
        open_dataset(p)


def test_open_dataset_not_a_zip(tmp_path):
    p = tmp_path / "fake.zip"
    p.write_text("this is not a zip file")
    with pytest.raises(DataError, match="not a readable zip"):
        open_dataset(p)


def test_open_dataset_empty_folder(tmp_path):
    with pytest.raises(DataError):
        open_dataset(tmp_path)


def test_open_dataset_newer_format(tmp_path):
    p = tmp_path / "new.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(archive_name(0), png((1, 2, 3)))
        zf.writestr("artforge.json", json.dumps({"format_version": 99}))
    with pytest.raises(DataError, match="newer"):
        open_dataset(p)


def test_open_dataset_label_missing_for_an_image(tmp_path):
    p = tmp_path / "lab.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(archive_name(0), png((1, 2, 3)))
        zf.writestr(archive_name(1), png((4, 5, 6)))
        zf.writestr("dataset.json", json.dumps({"labels": [[archive_name(0), 0]]}))
    with pytest.raises(DataError, match="no label"):
        open_dataset(p)


def test_read_wrong_size_image_raises_data_error(tmp_path):
    p = tmp_path / "mixed.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(archive_name(0), png((1, 2, 3), size=RES))
        zf.writestr(archive_name(1), png((4, 5, 6), size=RES * 2))
    d = open_dataset(p)
    assert d.read(0).shape == (RES, RES, 3)
    with pytest.raises(DataError):
        d.read(1)


def test_stylegan2_ada_zip_opens(tmp_path):
    p = tmp_path / "sg2.zip"
    sg_labels = [4, 0, 2, 2, 1]
    with zipfile.ZipFile(p, "w") as zf:
        for i, lab in enumerate(sg_labels):
            zf.writestr(f"00000/img{i:08d}.png", png(color(i)))
        zf.writestr("dataset.json", json.dumps({"labels": [[f"00000/img{i:08d}.png", lab]
                                                           for i, lab in enumerate(sg_labels)]}))
    d = open_dataset(p)
    assert d.names == [f"00000/img{i:08d}.png" for i in range(5)]
    assert d.indices("train").tolist() == [0, 1, 2, 3, 4]
    assert d.indices("val").tolist() == [] and d.indices("test").tolist() == []
    assert d.labels.tolist() == sg_labels
    assert d.label_names == ["0", "1", "2", "3", "4"]
    assert d.resolution == RES and d.channels == 3
    assert tuple(d.read(3)[5, 5]) == color(3)
    assert d.manifest == {}


def test_stylegan2_ada_grayscale_unlabelled(tmp_path):
    p = tmp_path / "gray.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for i in range(3):
            zf.writestr(f"00000/img{i:08d}.png", png(i * 50, mode="L"))
        zf.writestr("dataset.json", json.dumps({"labels": None}))
    d = open_dataset(p)
    assert d.channels == 1 and d.labels is None
    assert d.read(2).shape == (RES, RES, 1)
    assert int(d.read(2)[0, 0, 0]) == 100


def test_folder_dataset_matches_zip(ds, dataset_zip, tmp_path):
    with zipfile.ZipFile(dataset_zip) as zf:
        zf.extractall(tmp_path / "folder")
    d = open_dataset(tmp_path / "folder")
    assert d.names == ds.names
    assert d.labels.tolist() == ds.labels.tolist()
    assert d.split["train"].tolist() == TRAIN
    assert np.array_equal(d.read(7), ds.read(7))


# ----------------------------------------------------------------------------- BatchSource


def test_memory_and_streaming_batches_are_identical(ds):
    idx = ds.indices("train")
    mem = BatchSource(ds, idx, batch=4, seed=3, device=CPU, cache_gb=1.0)
    stream = BatchSource(ds, idx, batch=4, seed=3, device=CPU, cache_gb=1e-9, workers=1)
    assert mem.in_memory and not stream.in_memory
    assert len(mem) == len(TRAIN)
    a = take(mem.batches(0), 6)  # 24 images: more than one epoch of 15
    b = take(stream.batches(0), 6)
    for step, ((ia, la), (ib, lb)) in enumerate(zip(a, b)):
        assert ia.dtype == torch.uint8 and ia.shape == (4, 3, RES, RES)
        assert torch.equal(ia, ib), step
        assert torch.equal(la, lb), step


@pytest.mark.parametrize("cache_gb", [1.0, 1e-9])
def test_batches_follow_batch_positions_and_labels_line_up(ds, cache_gb):
    idx = ds.indices("train")
    src = BatchSource(ds, idx, batch=4, seed=3, device=CPU, cache_gb=cache_gb, workers=1)
    for step, (images, labels) in enumerate(take(src.batches(0), 5)):
        want = idx[batch_positions(len(idx), 4, 3, step)]
        got = [index_of_color(img) for img in images]
        assert got == want.tolist()
        assert labels.dtype == torch.int64
        assert labels.tolist() == [label(i) for i in got]
    # one epoch's worth of images covers the split
    seen = [index_of_color(img) for images, _ in take(src.batches(0), 4) for img in images][:len(idx)]
    assert sorted(seen) == TRAIN


@pytest.mark.parametrize("cache_gb", [1.0, 1e-9])
def test_batches_resume_at_start_step(ds, cache_gb):
    src = BatchSource(ds, ds.indices("train"), batch=4, seed=8, device=CPU, cache_gb=cache_gb, workers=1)
    full = take(src.batches(0), 6)
    resumed = take(src.batches(4), 2)
    for (ia, la), (ib, lb) in zip(full[4:], resumed):
        assert torch.equal(ia, ib) and torch.equal(la, lb)


def test_batch_larger_than_split(ds):
    idx = ds.indices("val")  # 3 images
    src = BatchSource(ds, idx, batch=8, seed=0, device=CPU, cache_gb=1.0)
    images, labels = take(src.batches(0), 1)[0]
    assert images.shape == (8, 3, RES, RES)
    got = [index_of_color(img) for img in images]
    assert set(got) == set(VAL)
    assert sorted(got[:3]) == VAL


def test_unlabelled_source_yields_none(tmp_path):
    w = ArchiveWriter(tmp_path / "u.zip")
    for i in range(5):
        w.add(png(color(i)))
    w.close({"resolution": RES, "channels": 3})
    d = open_dataset(tmp_path / "u.zip")
    src = BatchSource(d, d.indices("all"), batch=2, seed=0, device=CPU, cache_gb=1.0)
    images, labels = take(src.batches(0), 1)[0]
    assert labels is None and images.shape == (2, 3, RES, RES)


def test_fixed_sample_same_in_memory_and_streaming(ds):
    idx = ds.indices("train")
    mem = BatchSource(ds, idx, batch=4, seed=0, device=CPU, cache_gb=1.0)
    stream = BatchSource(ds, idx, batch=4, seed=0, device=CPU, cache_gb=1e-9, workers=1)
    a_img, a_lab = mem.fixed_sample(6, seed=2)
    b_img, b_lab = stream.fixed_sample(6, seed=2)
    assert a_img.shape == (6, 3, RES, RES)
    assert torch.equal(a_img, b_img) and torch.equal(a_lab, b_lab)
    got = [index_of_color(img) for img in a_img]
    assert len(set(got)) == 6 and set(got) <= set(TRAIN)  # can fail: a validation image in the training sample
    assert a_lab.tolist() == [label(i) for i in got]
    assert not torch.equal(mem.fixed_sample(6, seed=3)[0], a_img)

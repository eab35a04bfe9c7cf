"""The watermark on real photographs that ship inside installed wheels (never drawn shapes).

scikit-image bundles a few photographs in its wheel (``skimage/data``; read from disk here, never
through ``skimage.data``'s downloader) and matplotlib ships ``sample_data``. Each picture is used
whole and as crops at several sizes: every unmarked version must read "not marked" (also after
JPEG 75), and its marked copy must read "marked" (also after half size + JPEG 75, from 128 px) at
the calibrated threshold (benchmarks/watermark_calibration.py; none of these images was used there),
except two listed views where the mark is too weak (KNOWN_MISSES).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artforge import watermark as wm

# photographs and scans (the texture samples brick/grass/gravel are left out: busy texture at the
# mark's own scale hides it, a documented limit, see docs/provenance.md)
SKIMAGE_PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "moon.png",
                  "rocket.jpg", "hubble_deep_field.jpg", "ihc.png", "page.png", "motorcycle_left.png")
MATPLOTLIB_PHOTOS = ("grace_hopper.jpg",)
# (share of the picture kept, where) -> shown at this long side
VIEWS = (((1.0, "whole"), 64), ((0.6, "centre"), 128), ((0.5, "top-left"), 256))
# Views whose marked copy scores under the threshold: fur and engine detail at the mark's own scale
# soak it up and the embedder is at its MAX_STRENGTH (4.06 and 4.38 unattacked, at threshold 4.65).
# They are the ~1-5% misses that docs/provenance.md's detection table counts; a new miss fails.
KNOWN_MISSES = {"chelsea.png centre 128px", "motorcycle_left.png centre 128px"}


def _photo_paths() -> list[Path]:
    skimage = pytest.importorskip("skimage", reason="scikit-image (the test extra) ships the photographs")
    matplotlib = pytest.importorskip("matplotlib")
    paths = [Path(skimage.__file__).parent / "data" / name for name in SKIMAGE_PHOTOS]
    paths += [Path(matplotlib.get_data_path()) / "sample_data" / name for name in MATPLOTLIB_PHOTOS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"photographs missing from the installed wheels: {', '.join(missing)}")
    return paths


def _view(picture: Image.Image, keep: float, where: str, size: int) -> np.ndarray:
    w, h = picture.size
    cw, ch = round(w * keep), round(h * keep)
    left, top = ((w - cw) // 2, (h - ch) // 2) if where == "centre" else (0, 0)
    part = picture.crop((left, top, left + cw, top + ch))
    scale = size / max(part.size)
    return np.asarray(part.resize((max(1, round(part.width * scale)), max(1, round(part.height * scale))), Image.LANCZOS))


def real_images() -> list[tuple[str, np.ndarray]]:
    out = []
    for path in _photo_paths():
        with Image.open(path) as im:
            picture = im.convert("RGB")
        out += [(f"{path.name} {where} {size}px", _view(picture, keep, where, size)) for (keep, where), size in VIEWS]
    return out


def jpeg75(a: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=75)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def half(a: np.ndarray) -> np.ndarray:
    im = Image.fromarray(a)
    return np.asarray(im.resize((im.width // 2, im.height // 2), Image.LANCZOS))


@pytest.fixture(scope="module")
def photos():
    return real_images()


def test_real_photographs_read_not_marked(photos):
    assert len(photos) >= 36
    flagged = {}
    for name, image in photos:
        for attack, attacked in (("none", image), ("jpeg75", jpeg75(image))):
            found, score = wm.detect(attacked)
            if found:
                flagged[f"{name} {attack}"] = round(score, 2)
    assert not flagged, f"false positives at threshold {wm.THRESHOLD}: {flagged}"


def test_their_marked_copies_read_marked(photos):
    missed = {}
    for name, image in photos:
        marked = wm.embed(image)
        assert wm.psnr(image, marked) > 33, name  # the mark stays faint
        attacks = (("none", marked),) + ((("half+jpeg75", jpeg75(half(marked))),) if image.shape[1] >= 128 or
                                          image.shape[0] >= 128 else ())
        for attack, attacked in attacks:
            found, score = wm.detect(attacked)
            if not found:
                missed[f"{name} {attack}"] = round(score, 2)
    unexpected = {k: v for k, v in missed.items() if k.rsplit(" ", 1)[0] not in KNOWN_MISSES}
    assert not unexpected, f"marked copies missed at threshold {wm.THRESHOLD}: {unexpected}"
    assert len(missed) <= 2 * len(KNOWN_MISSES)  # the known views, unattacked and after half+jpeg75


def test_grayscale_and_pil_inputs_are_detected_too(photos):
    gray = np.asarray(Image.fromarray(photos[0][1]).convert("L"))
    marked = wm.embed(gray)
    assert marked.shape == gray.shape + (1,)
    assert wm.detect(Image.fromarray(marked[:, :, 0]))[0] and not wm.detect(Image.fromarray(gray))[0]


# ----------------------------------------------------------------------------- the calibration's statistics

def _calibration():
    import sys

    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    import watermark_calibration

    return watermark_calibration


def test_the_upper_bound_is_exact_clopper_pearson():
    from scipy.optimize import brentq
    from scipy.stats import binom

    cal = _calibration()
    assert cal.upper_bound(0, 3000) == pytest.approx(1 - 0.05 ** (1 / 3000), rel=1e-9)  # the rule of three
    assert cal.upper_bound(0, 3000) == pytest.approx(3 / 3000, rel=0.01)
    for hits, n in ((1, 500), (7, 20_000), (40, 100)):  # p at which seeing <= hits has probability 5%
        reference = brentq(lambda p: binom.cdf(hits, n, p) - 0.05, 1e-12, 1 - 1e-12)
        assert cal.upper_bound(hits, n) == pytest.approx(reference, rel=1e-6)
    assert cal.lower_bound(0, 50) == 0.0 and cal.lower_bound(50, 50) == pytest.approx(0.05 ** (1 / 50), rel=1e-9)


def test_the_threshold_is_the_lowest_step_that_meets_the_bound():
    cal = _calibration()
    scores = np.concatenate([np.linspace(0.0, 3.9, 9997), [5.01, 5.5, 6.0]])  # 3 outliers in 10,000
    assert cal.upper_bound(3, 10_000) < 0.0008 < cal.upper_bound(4, 10_000)
    assert cal.calibrated_threshold(scores, 0.0008) == pytest.approx(3.9)  # 3 hits allowed: just above the bulk
    assert cal.upper_bound(0, 10_000) < 0.0003 < cal.upper_bound(1, 10_000)
    assert cal.calibrated_threshold(scores, 0.0003) == pytest.approx(6.0)  # no hit allowed: at the highest
    assert scores[99] < 0.05 and cal.calibrated_threshold(scores[:100], 0.0003) == pytest.approx(0.05)  # too few: above all


def test_the_split_keeps_its_shares_and_is_seeded():
    cal = _calibration()
    keys = [f"/usr/share/pictures/{i}.png" for i in range(20_000)]
    groups = [cal.group_of(k, 0) for k in keys]
    shares = {g: groups.count(g) / len(keys) for g in ("marked", "calibration", "held-out")}
    assert shares == pytest.approx({"marked": 0.15, "calibration": 0.425, "held-out": 0.425}, abs=0.012)
    assert groups == [cal.group_of(k, 0) for k in keys]
    assert sum(a != b for a, b in zip(groups, (cal.group_of(k, 1) for k in keys))) > 8000

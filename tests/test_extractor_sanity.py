"""The extractor sanity check's pieces: the monotonicity rule, the distortions, and one row end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artforge.metrics import sanity
from artforge.metrics.extractors import make_extractor
from artforge.metrics.fid import fid_from_features

pytestmark = pytest.mark.usefixtures("one_thread")


def test_monotone_check_on_constructed_scores():
    rising = sanity.monotone_check([1.0, 2.0, 4.0])
    assert rising["passed"] and rising["steps"] == [1.0, 2.0]
    assert not sanity.monotone_check([1.0, 3.0, 2.0])["passed"]  # a step down fails
    assert not sanity.monotone_check([1.0, 1.0, 2.0])["passed"]  # a flat step fails
    assert sanity.monotone_check([3.0, 2.0], increasing=False)["passed"]
    # rising point values, but the first step is inside the noise: its resampled differences straddle zero
    boot = np.array([[1.0, 1.2, 3.0], [1.1, 0.9, 3.1], [0.9, 1.3, 2.9], [1.2, 1.0, 3.2]] * 10)
    noisy = sanity.monotone_check([1.0, 1.1, 3.0], boot)
    assert not noisy["passed"] and noisy["lower_bounds"][0] < 0 < noisy["lower_bounds"][1]
    clear = boot.copy()
    clear[:, 1] += 0.5  # every resample's first step now positive
    assert sanity.monotone_check([1.0, 1.6, 3.0], clear)["passed"]


def test_distortions_do_what_they_say():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8, generator=gen)
    assert torch.equal(sanity.blur(images, 0), images) and torch.equal(sanity.jpeg(images, None), images)
    # blur and JPEG smooth random pixels: the neighbour-difference energy falls as the level rises
    def roughness(x):
        return x.float().diff(dim=-1).abs().mean().item()
    assert roughness(images) > roughness(sanity.blur(images, 0.5)) > roughness(sanity.blur(images, 2))
    flat = torch.full((2, 3, 16, 16), 128, dtype=torch.uint8)
    noisy = sanity.noise(flat, 16, seed=1)
    assert abs(noisy.float().std().item() - 16) < 1.5 and torch.equal(noisy, sanity.noise(flat, 16, seed=1))
    err = [(sanity.jpeg(images, q).float() - images.float()).abs().mean().item() for q in (90, 30, 5)]
    assert err[0] < err[1] < err[2]


def test_drop_modes_and_copies():
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 3])
    order = np.array([2, 0, 1, 3])
    picked = sanity.drop_modes(labels, 1, order, 5)
    assert len(picked) == 5 and not np.isin(labels[picked], [2]).any()
    with pytest.raises(ValueError):
        sanity.drop_modes(labels, 2, order, 5)  # clusters 2 and 0 gone: 3 items left
    fresh = torch.zeros(4, 3, 2, 2, dtype=torch.uint8)
    copies = torch.arange(1, 7, dtype=torch.uint8)[:, None, None, None].expand(6, 3, 2, 2)
    mixed = sanity.mix_copies(fresh, copies, 0.5)
    assert len(mixed) == 4 and (mixed[:2] > 0).all() and (mixed[2:] == 0).all()  # can fail: copies (1..6) in front, fresh zeros behind
    assert len(set(mixed[:2, 0, 0, 0].tolist())) == 2  # distinct copies


def test_noise_row_with_the_random_extractor_rises_and_copies_are_flagged():
    """Smooth images (blurred random fields) through the fixed random network: FID against clean references
    rises with noise, and near-copies of the references are flagged while fresh images are not."""
    gen = torch.Generator().manual_seed(0)
    base = torch.randint(0, 256, (160, 3, 8, 8), dtype=torch.uint8, generator=gen).float()
    images = torch.nn.functional.interpolate(base, size=(32, 32), mode="bilinear").round().to(torch.uint8)
    real, test = images[:80], images[80:]
    extractor = make_extractor("random", device=torch.device("cpu"))

    def features(x):
        return extractor(x)["features"].numpy()

    real_f = features(real)
    feats = [features(sanity.noise(test, s, seed=0)) for s in (0, 24, 96)]
    fid = [fid_from_features(real_f, f) for f in feats]
    boot = sanity.bootstrap_levels(real_f, feats, sanity.fid_symmetric, resamples=20)
    assert sanity.monotone_check(fid, boot)["passed"], fid
    copies = sanity.jpeg(real, 90)
    shares, resampled, threshold = sanity.near_copy_shares(
        [features(sanity.mix_copies(test, copies, s)) for s in (0, 1.0)], real_f, resamples=20)
    assert shares[0] <= 0.05 and shares[1] >= 0.9


def test_symmetric_fid_equals_the_reference_fid():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 16))
    fake = rng.normal(size=(300, 16)) @ rng.normal(size=(16, 16)) * 0.5 + 0.3
    assert sanity.fid_symmetric(real, fake) == pytest.approx(fid_from_features(real, fake), rel=1e-6)
    assert sanity.fid_symmetric(real, real) == pytest.approx(0, abs=1e-9)

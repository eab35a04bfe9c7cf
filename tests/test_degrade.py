"""Degradations for upscaling: seeded and deterministic, the right size, each step checked alone."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from artforge.ops.degrade import Degradations, degrade, downscale, gaussian_blur, jpeg


def _image(seed=0, h=64, w=48):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(3, 3, h, w, generator=g) * 2 - 1


def test_the_same_stream_gives_the_same_inputs_and_another_stream_others():
    hr = _image()
    a = degrade(hr, 4, torch.Generator().manual_seed(7))
    b = degrade(hr, 4, torch.Generator().manual_seed(7))
    c = degrade(hr, 4, torch.Generator().manual_seed(8))
    assert a.shape == (3, 3, 16, 12) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -1 and a.max() <= 1  # can fail: noise and sharp resampling overshoot without the clamp


def test_sides_that_are_not_multiples_of_the_scale_are_refused():
    with pytest.raises(ValueError, match="multiples of the scale 4"):
        degrade(torch.zeros(1, 3, 30, 32), 4, torch.Generator())


def test_the_blur_equals_scipys_gaussian_filter():
    x = _image(1)[:1]
    ours = gaussian_blur(x, 1.5)[0].numpy()
    ref = np.stack([ndimage.gaussian_filter(c, 1.5, mode="mirror", truncate=3.0) for c in x[0].numpy()])
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_area_downscaling_averages_blocks():
    x = _image(2)[:1]
    np.testing.assert_allclose(downscale(x, 4, "area").numpy(),
                               x.reshape(1, 3, 16, 4, 12, 4).mean(dim=(3, 5)).numpy(), atol=1e-6)


def test_jpeg_loses_more_at_lower_quality():
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="ij")
    x = torch.stack([torch.sin(6 * xx), torch.cos(5 * yy), xx * yy])[None]
    err = {q: (jpeg(x, q) - x).abs().mean().item() for q in (20, 60, 95)}
    assert err[20] > err[60] > err[95] > 0


def test_with_every_step_off_only_downscaling_remains():
    hr = _image(3)
    off = Degradations(blur=0, noise=0, jpeg=0)
    out = degrade(hr, 2, torch.Generator().manual_seed(0), off)
    candidates = [downscale(hr, 2, m) for m in ("bilinear", "bicubic", "area")]
    for i in range(len(hr)):
        assert any(torch.allclose(out[i], c[i].clamp(-1, 1)) for c in candidates)

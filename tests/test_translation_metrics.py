"""The pure pieces of the image-to-image tasks: their losses, and the metrics that score translations."""

import math

import numpy as np
import pytest
import torch

from artforge.metrics.translation import diversity, paired_scores, pil_resize, psnr, ssim
from artforge.tasks.sr import center_crops, feature_matching_loss, random_crops
from artforge.tasks.unpaired import cycle_loss, identity_loss

pytestmark = pytest.mark.usefixtures("one_thread")


def test_cycle_and_identity_losses_are_mean_absolute_differences():
    a = torch.zeros(2, 3, 4, 4)
    back = a.clone()
    back[0, 0, 0, 0] = 0.96  # one pixel of 96 off by 0.96
    assert cycle_loss(a, back).item() == pytest.approx(0.96 / 96)
    assert cycle_loss(a, a).item() == 0
    assert identity_loss(a, a - 0.5).item() == pytest.approx(0.5)


def test_feature_matching_averages_layers_and_only_moves_the_fake_side():
    real = [torch.zeros(2, 4, 3, 3), torch.ones(2, 8, 2, 2)]
    fake = [torch.full((2, 4, 3, 3), 0.5, requires_grad=True), torch.full((2, 8, 2, 2), 2.0, requires_grad=True)]
    loss = feature_matching_loss(real, fake)
    assert loss.item() == pytest.approx((0.5 + 1.0) / 2)
    loss.backward()
    # each fake activation is above its real one: d/df of mean |f - r| over 2 layers is 1 / (2 * numel)
    assert all(torch.equal(f.grad, torch.full_like(f, 1 / (2 * f.numel()))) for f in fake)
    with pytest.raises(ValueError, match="same"):
        feature_matching_loss(real, fake[:1])


def test_psnr_against_its_formula():
    x = torch.full((1, 3, 8, 8), 100.0)
    y = x + 10  # MSE 100
    assert psnr(x, y).item() == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert math.isinf(psnr(x, x).item())


def test_ssim_matches_scikit_image():
    skimage = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 36, 3)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 25, a.shape), 0, 255)
    expected = skimage.structural_similarity(a, b, channel_axis=2, data_range=255, gaussian_weights=True, sigma=1.5,
                                             use_sample_covariance=False)
    got = ssim(torch.from_numpy(a).permute(2, 0, 1)[None], torch.from_numpy(b).permute(2, 0, 1)[None]).item()
    assert got == pytest.approx(expected, abs=1e-9)
    same = torch.from_numpy(a).permute(2, 0, 1)[None]
    assert ssim(same, same).item() == pytest.approx(1.0)


def test_paired_scores_and_diversity_on_known_images():
    targets = torch.full((2, 3, 16, 16), 100, dtype=torch.uint8)
    outputs = targets + 5
    scores = paired_scores(outputs, targets)
    assert scores["mae"] == 5 and scores["psnr"] == pytest.approx(10 * math.log10(255 ** 2 / 25))
    same = torch.stack([targets, targets, targets], dim=1)  # (N, K, C, H, W): three identical draws
    assert diversity(same) == 0
    apart = torch.stack([targets, targets + 6, targets + 12], dim=1)  # pairwise 6, 12, 6
    assert diversity(apart) == pytest.approx(8.0)


def test_pillow_resizing_keeps_shapes_and_a_flat_image():
    flat = torch.full((2, 3, 32, 24), 77, dtype=torch.uint8)
    small = pil_resize(flat, (8, 6), "bicubic")
    assert small.shape == (2, 3, 8, 6) and torch.all(small == 77)
    assert torch.all(pil_resize(small, (32, 24), "lanczos") == 77)


def test_crops_are_windows_of_the_image_drawn_from_the_generator():
    images = torch.arange(2 * 1 * 10 * 12).view(2, 1, 10, 12)
    crops = random_crops(images, 4, torch.Generator().manual_seed(0))
    again = random_crops(images, 4, torch.Generator().manual_seed(0))
    assert crops.shape == (2, 1, 4, 4) and torch.equal(crops, again)
    for img, crop in zip(images, crops):  # each crop is a contiguous window of its own image
        y, x = divmod(int(crop[0, 0, 0]) - int(img[0, 0, 0]), 12)
        assert torch.equal(img[:, y:y + 4, x:x + 4], crop)
    assert torch.equal(center_crops(images, 4), images[..., 3:7, 4:8])


def test_preview_items_are_held_out_first_and_spread_over_the_split():
    from artforge.tasks.base import held_out_first

    class Split:
        def indices(self, name):
            return {"val": np.arange(80, 90), "test": np.arange(90, 100), "train": np.arange(80)}[name]
    picked = held_out_first(Split(), "train", 4)
    assert picked.tolist() == [80, 86, 93, 99]  # evenly over the 20 held-out items
    topped = held_out_first(Split(), "train", 24)
    assert sorted(topped[:20].tolist()) == list(range(80, 100)) and topped[20:].tolist() == [0, 26, 53, 79]

"""The mode-seeking term (MSGAN, penalties.mode_seeking) and how the generation task uses it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from artforge.options import TrainConfig
from artforge.errors import UsageError
from artforge.losses import get_loss
from artforge.penalties import mode_seeking
from artforge.tasks.generation import StepContext, g_adversarial

from conftest import STYLE_TINY, gen


def reference(images: np.ndarray, latents: np.ndarray, size: int = 0) -> float:
    """The term written out in numpy: pairs (i, half + i), block means for the pooling."""
    if size:
        b, c, h, w = images.shape
        images = images.reshape(b, c, size, h // size, size, w // size).mean(axis=(3, 5))
    half = len(images) // 2
    image_distance = np.abs(images[:half] - images[half:2 * half]).mean()
    latent_distance = np.abs(latents[:half] - latents[half:2 * half]).mean()
    return 1.0 / (image_distance / latent_distance + 1e-5)


@pytest.mark.parametrize("n, size", [(6, 0), (7, 0), (6, 4)])  # 7: the odd last row is left out
def test_the_term_matches_the_formula(n, size):
    images = torch.rand(n, 3, 8, 8, generator=gen(0)) * 2 - 1
    latents = torch.randn(n, 5, generator=gen(1))
    expected = reference(images.double().numpy(), latents.double().numpy(), size)
    assert mode_seeking(images, latents, size).item() == pytest.approx(expected, rel=1e-5)


def test_a_generator_that_ignores_its_latent_is_penalized_and_its_gradient_pushes_pairs_apart():
    latents = torch.randn(4, 5, generator=gen(2))
    same = torch.zeros(4, 3, 8, 8)
    varied = torch.rand(4, 3, 8, 8, generator=gen(3))
    assert mode_seeking(same, latents).item() == pytest.approx(1e5)  # 1 / eps: every latent, one image
    assert mode_seeking(varied, latents).item() < 10
    images = varied.clone().requires_grad_(True)
    mode_seeking(images, latents).backward()
    with torch.no_grad():
        stepped = images - 0.01 * images.grad
    before = (varied[:2] - varied[2:]).abs().mean()
    assert (stepped[:2] - stepped[2:]).abs().mean() > before


def test_the_term_needs_a_pair():
    with pytest.raises(ValueError, match="two images"):
        mode_seeking(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2))


def context(pair_labels: bool, batch: int = 6):
    G = lambda z, c: z.view(len(z), 1, 2, 2) + c.view(-1, 1, 1, 1).float()  # noqa: E731
    D = lambda x, c: x.flatten(1).sum(1)  # noqa: E731
    labels = torch.arange(batch) % 3
    batches = iter([(torch.zeros(batch, 2), None)])
    return StepContext(G, D, get_loss("nonsaturating"), batches, gen(0), torch.device("cpu"), batch, 4,
                       num_classes=3, labeler=lambda x: labels, pair_labels=pair_labels)


@pytest.mark.parametrize("batch", [6, 7])
def test_each_pair_of_fakes_shares_its_label(batch):
    ctx = context(pair_labels=True, batch=batch)
    real_labels = ctx.real()[1].clone()
    _, c_fake = ctx.fake()
    half = batch // 2
    assert torch.equal(c_fake[:half], real_labels[:half]) and torch.equal(c_fake[half:2 * half], real_labels[:half])
    assert c_fake[-1] == real_labels[-1] if batch % 2 else True
    assert torch.equal(ctx.real()[1], real_labels)  # the real batch keeps its own labels
    assert torch.equal(context(pair_labels=False, batch=batch).fake()[1], real_labels)


def test_g_loss_adds_the_weighted_term():
    ctx = context(pair_labels=True)
    plain = g_adversarial(ctx)
    weighted = g_adversarial(ctx, mode_seeking_weight=2.0, mode_seeking_size=0)
    fake, _ = ctx.fake()
    term = mode_seeking(fake, ctx.latents())
    torch.testing.assert_close(weighted["loss"], plain["loss"] + 2.0 * term)
    torch.testing.assert_close(weighted["G/mode_seeking"], term)
    assert "G/mode_seeking" not in plain


@pytest.mark.parametrize("options, flag", [({"mode_seeking": -1.0}, "--mode-seeking"),
                                           ({"mode_seeking_size": -1}, "--mode-seeking-size"),
                                           ({"mode_seeking": 1.0, "task": "pix2pix"}, "--mode-seeking")])
def test_bad_mode_seeking_options_are_usage_errors(options, flag):
    with pytest.raises(UsageError, match=flag):
        TrainConfig(dataset="d.zip", **options).resolved()


def test_a_run_logs_the_term(blob_dataset, tmp_path):
    import artforge
    result = artforge.train(blob_dataset, out=tmp_path, steps=4, **{**STYLE_TINY, "mode_seeking": 0.5, "tick": 2})
    rows = [json.loads(line) for line in (result.run_dir / "log.jsonl").read_text().splitlines()]
    logged = [row["G/mode_seeking"] for row in rows if "G/mode_seeking" in row]
    assert len(logged) == 2 and all(np.isfinite(logged))
    options = json.loads((result.run_dir / "options.json").read_text())
    assert options["train"]["mode_seeking"] == 0.5

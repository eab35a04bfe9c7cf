"""Augmentations of D's inputs must not leak into generated images.

Every training image has a white square in its top-left quadrant. D sees rot90-augmented images
with p = 0.5. Done right (real and fake both augmented, differentiably), G keeps drawing squares
top-left, as in the data. The classic mistake, augmenting only the real images, teaches G the
augmented distribution (squares in every corner): the test runs both and tells them apart.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.options import TrainConfig
from artforge.data.archive import ArchiveWriter, open_dataset
from artforge.commands.trainer import Trainer
from artforge.runs.monitor import Monitor

pytestmark = pytest.mark.usefixtures("one_thread")
STEPS = 800


def corner_dataset(path, n: int = 64):
    rng = np.random.default_rng(0)
    writer = ArchiveWriter(path)
    for _ in range(n):
        image = np.zeros((16, 16, 3), np.uint8)
        y, x = rng.integers(0, 4, 2)
        image[y:y + 5, x:x + 5] = 255
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG")
        writer.add(buf.getvalue())
    writer.close({"name": "corner", "resolution": 16, "channels": 3, "label_names": [],
                  "split": {"train": writer.names, "val": [], "test": []}})
    return path


def top_left_share(images: torch.Tensor) -> float:
    brightness = (images.float() + 1).sum(1)  # black is -1: counts 0
    return (brightness[:, :8, :8].sum() / brightness.sum()).item()


def train_corner_gan(dataset, tmp_path, real_only: bool) -> float:
    # No output bias: starting G at the data's mean image (squares top-left) would mask the leak.
    cfg = TrainConfig(dataset=str(dataset), recipe="dcgan", lr_g=1e-3, lr_d=1e-3, width=16, z_dim=16, batch=32,
                      augment=(), d_augment=("rot90",), d_augment_p=0.5, eval_images=0, progress=False,
                      tensorboard=False, device="cpu", output_bias=False, mbstd_group=0)
    trainer = Trainer(cfg, tmp_path, open_dataset(dataset))
    ctx = trainer.make_context()
    if real_only:  # the mistake: augment the real images only, D sees fakes as they are
        prepare = ctx.prepare_real
        ctx.prepare_real = lambda images: trainer.task.pipe(prepare(images))
        ctx.d_view = lambda x: x
    monitor = Monitor(tmp_path, tensorboard=False)
    for _ in range(STEPS):
        trainer.train_step(ctx, monitor, log_grads=False)
    with torch.no_grad():
        samples = trainer.ema_nets["G_ema"](torch.randn(256, 16, generator=torch.Generator().manual_seed(1)))
    return top_left_share(samples)


def test_d_augmentation_does_not_leak_into_samples(tmp_path):
    dataset = corner_dataset(tmp_path / "corner.zip")
    assert top_left_share(torch.from_numpy(np.stack([open_dataset(dataset).read(i) for i in range(8)]))
                          .permute(0, 3, 1, 2).float() / 127.5 - 1) == pytest.approx(1.0)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    proper = train_corner_gan(dataset, tmp_path / "a", real_only=False)
    leaky = train_corner_gan(dataset, tmp_path / "b", real_only=True)
    assert proper > 0.45, proper  # mostly top-left, like the data (untrained: 0.25)
    assert proper - leaky > 0.15, (proper, leaky)  # the mistake spreads squares to other corners

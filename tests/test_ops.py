"""Shared image operations: the history pool (and its checkpoint round trip) and tiled inference."""

import math

import pytest
import torch
from torch import nn

from artforge.ops.image_pool import ImagePool
from artforge.ops.tiling import tile_starts, tiled
from artforge.runs.checkpoint import join_tensors, split_tensors


def _batches(n, b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, 3, 8, 8, generator=g) for _ in range(n)]


def test_the_pool_passes_images_through_until_full_then_swaps_about_half():
    pool, gen = ImagePool(8), torch.Generator().manual_seed(0)
    first, second = _batches(2)
    assert torch.equal(pool.query(first, gen), first) and torch.equal(pool.query(second, gen), second)
    assert pool.count == 8 and torch.equal(pool.images, torch.cat([first, second]))
    stored_before = pool.images.clone()
    swapped = 0
    for batch in _batches(50, seed=1):
        out = pool.query(batch, gen)
        swapped += sum(not torch.equal(new, got) for new, got in zip(batch, out))
    assert 0.35 < swapped / 200 < 0.65
    assert not torch.equal(pool.images, stored_before)


def test_a_returned_old_image_is_one_the_pool_held_and_the_new_one_takes_its_slot():
    pool, gen = ImagePool(2), torch.Generator().manual_seed(3)
    pool.query(torch.stack([torch.full((1, 2, 2), 1.0), torch.full((1, 2, 2), 2.0)]), gen)
    for value in range(3, 30):
        new = torch.full((1, 1, 2, 2), float(value))
        held = {float(v) for v in pool.images[:, 0, 0, 0]}
        got = float(pool.query(new, gen)[0, 0, 0, 0])
        after = {float(v) for v in pool.images[:, 0, 0, 0]}
        if got != value:
            assert got in held and value in after and got not in after  # can fail: a swap that keeps or loses an image


def test_a_size_0_pool_is_off():
    batch = _batches(1)[0]
    assert ImagePool(0).query(batch, torch.Generator()) is batch


def test_the_pool_round_trips_through_a_checkpoint_and_continues_identically():
    a, gen_a = ImagePool(6), torch.Generator().manual_seed(5)
    for batch in _batches(3):
        a.query(batch, gen_a)
    tensors = {}
    saved = split_tensors(a.state_dict(), tensors)
    b = ImagePool(6)
    b.load_state_dict(join_tensors(saved, tensors))
    gen_b = torch.Generator().manual_seed(5)
    gen_b.set_state(gen_a.get_state())
    for batch in _batches(4, seed=9):
        assert torch.equal(a.query(batch, gen_a), b.query(batch, gen_b))
    with pytest.raises(ValueError, match="holds 6 images"):
        ImagePool(5).load_state_dict(a.state_dict())


def test_a_part_full_pool_round_trips_too():
    a = ImagePool(10)
    a.query(_batches(1)[0], torch.Generator().manual_seed(0))
    b = ImagePool(10)
    b.load_state_dict(a.state_dict())
    assert b.count == 4 and torch.equal(b.images[:4], a.images[:4])


def test_tiles_cover_the_length_with_the_overlap_asked_for():
    assert tile_starts(100, 128, 16) == [0]
    starts = tile_starts(300, 128, 16)
    assert starts[0] == 0 and starts[-1] == 300 - 128
    assert all(b - a <= 128 - 16 for a, b in zip(starts, starts[1:]))


def _psnr(a, b):
    return 10 * math.log10(4 / torch.mean((a - b) ** 2).clamp_min(1e-20).item())


def _local_net(scale=1):
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 8, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(8, 8, 3, padding=1), nn.LeakyReLU(0.2)]
    if scale > 1:
        layers += [nn.Upsample(scale_factor=scale, mode="nearest"), nn.Conv2d(8, 3, 3, padding=1)]
    else:
        layers.append(nn.Conv2d(8, 3, 3, padding=1))
    return nn.Sequential(*layers).eval()


@pytest.mark.parametrize("scale", [1, 4])
def test_tiled_equals_untiled_for_a_network_whose_field_the_pad_covers(scale):
    net = _local_net(scale)
    x = torch.rand(1, 3, 70, 101, generator=torch.Generator().manual_seed(1)) * 2 - 1  # odd, non-square
    calls = []
    with torch.no_grad():
        whole = net(x)
        parts = tiled(net, x, tile=32, overlap=8, pad=8, scale=scale, progress=lambda d, t: calls.append((d, t)))
    assert parts.shape == whole.shape
    assert _psnr(parts, whole) > 80  # equal up to float rounding
    assert calls[-1][0] == calls[-1][1] == len(tile_starts(70, 32, 8)) * len(tile_starts(101, 32, 8))


def test_blending_hides_what_a_too_small_pad_changes():
    """Without context each tile's border pixels differ from the whole image's; blending over the
    overlap brings the result closer to it than butting the tiles together."""
    net = _local_net()
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        whole = net(x)
        blended = tiled(net, x, tile=32, overlap=12, pad=0)
        hard = tiled(net, x, tile=32, overlap=0, pad=0)
    assert _psnr(blended, whole) > _psnr(hard, whole)


def test_an_overlap_as_large_as_the_tile_is_refused():
    with pytest.raises(ValueError, match="overlap"):
        tiled(lambda t: t, torch.zeros(1, 3, 64, 64), tile=16, overlap=16)

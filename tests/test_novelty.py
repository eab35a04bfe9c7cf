"""Memorization analysis (metrics/novelty.py): nearest training neighbours, near-copies, pairs grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artforge.metrics.novelty import closest_pairs_grid, nearest_neighbours, novelty, train_nn_distances

pytestmark = pytest.mark.usefixtures("one_thread")


def features(n: int, d: int = 16, seed: int = 0, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, size=(n, d))


def pixels(n: int, size: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def brute_force_nn(q: np.ndarray, r: np.ndarray, k: int):
    d = np.sqrt(((q[:, None, :] - r[None, :, :]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, 1), idx


def test_nearest_neighbours_match_brute_force_for_any_chunk():
    q, r = features(37, seed=1), features(90, seed=2)
    ref_d, ref_i = brute_force_nn(q, r, 3)
    for chunk in (5, 4096):
        d, i = nearest_neighbours(q, r, k=3, chunk=chunk)
        assert d.shape == i.shape == (37, 3) and d.dtype == np.float64 and i.dtype == np.int64
        assert np.array_equal(i, ref_i)
        assert np.allclose(d, ref_d, rtol=1e-12)


def test_exact_copies_are_at_distance_zero_despite_the_fast_search():
    train = features(100, seed=3, loc=50.0)  # large norms: the mm form alone would not give 0
    d, i = nearest_neighbours(train[[4, 9]], train)
    assert d.tolist() == [[0.0], [0.0]] and i.tolist() == [[4], [9]]


def test_leave_one_out_skips_the_query_itself():
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    d, i = nearest_neighbours(x, x, exclude=np.arange(4))
    assert d[:, 0].tolist() == [1.0, 1.0, 2.0, 4.0] and i[:, 0].tolist() == [1, 0, 1, 2]
    assert np.allclose(train_nn_distances(x), [1.0, 1.0, 2.0, 4.0])
    assert len(train_nn_distances(features(50), max_queries=10)) == 10


def test_exact_copies_are_near_copies_with_the_right_indices():
    train = features(200, seed=4)
    picked = np.array([5, 17, 42, 199, 0])
    out = novelty(train[picked], train)
    f = out["feature"]
    assert f["near_copy_share"] == 1.0 and f["near_copies"] == 5
    assert f["indices"].tolist() == picked.tolist()
    assert f["distances"].tolist() == [0.0] * 5 and f["min"] == 0.0 and f["q50"] == 0.0
    assert [pair[:2] for pair in f["closest_pairs"]] == [(i, int(t)) for i, t in enumerate(picked)]
    assert out["pixel"] is None


def test_far_fakes_are_not_near_copies():
    out = novelty(features(30, seed=5, loc=100.0), features(200, seed=6))
    f = out["feature"]
    assert f["near_copy_share"] == 0.0 and f["near_copies"] == 0
    assert f["min"] > f["threshold"] > 0
    assert f["min"] <= f["q01"] <= f["q05"] <= f["q25"] <= f["q50"]


def test_fresh_samples_are_near_copies_at_about_the_quantile_rate():
    """A fake from the data distribution is, by construction of the threshold, a 'near-copy' about
    near_copy_quantile of the time: the baseline is the quantile, not 0."""
    train, fresh = features(2000, d=4, seed=7), features(2000, d=4, seed=8)
    share = novelty(fresh, train, near_copy_quantile=0.05)["feature"]["near_copy_share"]
    assert 0.02 < share < 0.09


def test_pixel_and_feature_spaces_are_reported_separately():
    train_px = pixels(60, seed=9)
    train_feat = features(60, seed=10)
    fake_px = train_px[[3, 7, 11]]  # pixel copies ...
    fake_feat = features(3, seed=11, loc=100.0)  # ... whose features are far from everything
    out = novelty(fake_feat, train_feat, fake_px, train_px, top=2)
    assert out["pixel"]["near_copy_share"] == 1.0 and out["pixel"]["indices"].tolist() == [3, 7, 11]
    assert out["feature"]["near_copy_share"] == 0.0
    assert len(out["pixel"]["closest_pairs"]) == 2
    assert out["n_fake"] == 3 and out["n_train"] == 60 and out["n_train_queried"] == 60
    with pytest.raises(ValueError):
        novelty(fake_feat, train_feat, fake_px, None)


def test_tensor_inputs_match_arrays():
    train, fake = features(80, seed=12), features(20, seed=13)
    a = novelty(fake, train)["feature"]
    b = novelty(torch.from_numpy(fake), torch.from_numpy(train))["feature"]
    assert np.array_equal(a["indices"], b["indices"]) and np.allclose(a["distances"], b["distances"])
    assert a["threshold"] == pytest.approx(b["threshold"])


def test_pairs_grid_layout():
    fake, train = pixels(10, seed=14), pixels(20, seed=15)
    pairs = [(0, 5, 0.1), (3, 1, 0.2), (9, 19, 0.3), (2, 2, 0.4), (1, 0, 0.5)]
    img = closest_pairs_grid(fake, train, pairs, pairs_per_row=4, pad=2)
    assert img.size == (8 * (8 + 2) + 2, 2 * (8 + 2) + 2)  # 4 pairs = 8 tiles a row, 2 rows
    arr = np.asarray(img)
    assert np.array_equal(arr[2:10, 2:10], fake[0]) and np.array_equal(arr[2:10, 12:20], train[5])
    assert np.array_equal(arr[12:20, 2:10], fake[1]) and np.array_equal(arr[12:20, 12:20], train[0])
    one = closest_pairs_grid(torch.from_numpy(fake[..., 0]), train[..., 0], pairs[:1])
    assert one.size == (2 * 10 + 2, 12) and one.mode == "L"
    with pytest.raises(ValueError):
        closest_pairs_grid(fake, train, [])
